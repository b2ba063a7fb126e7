"""Checkpoints, ours and the official ones (jik876/hifi-gan g_* / do_*), in one place:

- format.py: our file format: safe reading (weights only), atomic writing, strict state matching, the payload and
  the config it carries;
- official.py: the official dicts <-> ours (pure key renaming) and telling official files apart;
- contents.py: what a file is (ours or official) and what it holds, in our keys; `load_generator`;
- run_files.py: a training run's files (ckpt_<step>.pt, latest.pt, finding one to resume from) and what a training
  checkpoint holds;
- export_official.py: one of our checkpoints written as official g_*/do_* files.

Nothing is imported here: importing one module loads only what that module needs.
"""
