"""A run folder holds one run's history: a new run does not start in another's folder, a save keeps the file it
wrote and sets aside (never deletes) the files of a history it went back from, and --resume keeps the run's data,
seed and held-out files (and keeps them when the corpus changed: test_held_out_on_resume.py). Bad run options are one
line before anything is written."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.checkpoints.format import read_checkpoint
from hifigan.checkpoints.run_files import SUPERSEDED, checkpoint_files, save_step_checkpoint
from hifigan.cli import main
from hifigan.config import load_config
from hifigan.data.corpus import Corpus
from hifigan.errors import HifiganError
from hifigan.training.job import train
from hifigan.training.options import TrainJob, TrainOptions
from tests.support.cli_runs import failed_cleanly, files_in, one_line, run_module, tone, wav
from tests.support.files import copy_run, damage_tensor_bytes, file_states, left_in
from tests.support.threads import threads

pytestmark = pytest.mark.usefixtures("single_thread")
QUIET = ["--no-progress", "--valid-count", "2"]
UNVALIDATED = [*QUIET, "--validation-interval", "0"]  # for runs whose test reads no validation, best.pt or image


@pytest.fixture(scope="module")
def four_steps_run(tmp_path_factory, tiny_corpus, tiny_config_json) -> Path:
    """A tiny run of 4 steps, a checkpoint every 2 and validation at the end, trained once for the tests that each
    damage ckpt_4 in a copy of it (copy_run) and resume past it."""
    run = tmp_path_factory.mktemp("four_steps") / "run"
    with threads(1):
        assert main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *QUIET, "--out",
                     str(run), "--max-steps", "4", "--checkpoint-interval", "2"]) == 0
    return run


@settings(max_examples=40, deadline=None)
@given(before=st.sets(st.integers(0, 12), max_size=6), step=st.integers(0, 12), keep=st.integers(1, 4))
def test_a_save_keeps_its_file_and_the_newest_before_it_and_sets_later_ones_aside(tmp_path_factory, before, step,
                                                                                  keep):
    folder = tmp_path_factory.mktemp("ckpts")
    for s in sorted(before):
        save_step_checkpoint(folder, s, {"step": torch.tensor(s)}, keep=100)
    path = save_step_checkpoint(folder, step, {"step": torch.tensor(step)}, keep)
    kept = sorted(s for s in before if s < step)[-(keep - 1):] if keep > 1 else []
    assert [p.name for p in checkpoint_files(folder)] == [f"ckpt_{s:08d}.pt" for s in [*kept, step]]
    assert sorted(p.name for p in folder.glob(f"*{SUPERSEDED}")) == [f"ckpt_{s:08d}.pt{SUPERSEDED}"
                                                                     for s in sorted(before) if s >= step]
    assert (folder / "latest.pt").samefile(path) and int(read_checkpoint(path)["step"]) == step


def test_a_new_run_refuses_a_folder_that_holds_a_run(tmp_path, tiny_corpus, tiny_config_json, capsys):
    base = ["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *QUIET]
    run = tmp_path / "run"
    assert main([*base, "--out", str(run), "--max-steps", "2", "--checkpoint-interval", "1",
                 "--validation-interval", "0"]) == 0
    before = file_states(run)
    capsys.readouterr()
    code = main([*base, "--out", str(run), "--max-steps", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == (f"hifigan train: error: {run}: already holds a run's checkpoints "
                                         f"(ckpt_00000002.pt): continue it with --resume {run}, or give a new --out")
    assert file_states(run) == before
    job = TrainJob(TrainOptions(out=run, quiet=True), Corpus(folder=tiny_corpus, valid_count=2),
                   config=tiny_config_json, max_steps=1)  # from Python: the fields, as docs/python-api.md shows them
    with pytest.raises(HifiganError) as refused:
        train(job)
    assert str(refused.value) == (f"{run}: already holds a run's checkpoints (ckpt_00000002.pt): continue it with "
                                  f"resume=Path({str(run)!r}), or give a new out")
    assert file_states(run) == before


def test_resuming_past_a_checkpoint_that_does_not_load_keeps_the_history_resumable(tmp_path, four_steps_run, capsys):
    """ckpt_4 cut short: --resume continues from ckpt_2; its save at step 3 sets ckpt_4 aside (with --keep 1 it
    was the file kept and ckpt_3 the one deleted), so the next --resume continues from step 3."""
    run = copy_run(four_steps_run, tmp_path)
    ckpts = run / "checkpoints"
    broken = (ckpts / "ckpt_00000004.pt").read_bytes()
    (ckpts / "ckpt_00000004.pt").unlink()  # a new file, not latest.pt's (a hard link to the old one)
    (ckpts / "ckpt_00000004.pt").write_bytes(broken[: len(broken) // 2])
    capsys.readouterr()
    with pytest.warns(UserWarning, match="skipping unloadable checkpoint"):
        assert main(["train", "--resume", str(run), "--max-steps", "3", "--keep", "1", "--no-progress"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {ckpts / 'ckpt_00000003.pt'}"
    assert files_in(ckpts) == ["best.pt", "ckpt_00000003.pt", f"ckpt_00000004.pt{SUPERSEDED}", "latest.pt"]
    assert (ckpts / "best.pt").samefile(ckpts / "ckpt_00000003.pt")  # this history's one validation, at its end
    assert main(["train", "--resume", str(run), "--max-steps", "5", "--no-progress"]) == 0
    assert "resumed from " + str(ckpts / "ckpt_00000003.pt") + " at step 3" in capsys.readouterr().err
    assert int(read_checkpoint(ckpts / "latest.pt")["step"]) == 5
    # Nothing left to train: no file written, and the success line does not name an old one.
    assert main(["train", "--resume", str(run), "--max-steps", "5", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "checkpoint: none written (nothing trained)" in captured.err


def test_resume_keeps_the_runs_data_seed_and_held_out_files(tmp_path, tiny_corpus, tiny_config_json, capsys):
    run, mels = tmp_path / "run", tmp_path / "mels"
    for clip in sorted(tiny_corpus.glob("*.wav")):  # a mel for every clip: given to the resume, they would train
        assert main(["mel", str(clip), str(mels / f"{clip.stem}.npy"), "--config", str(tiny_config_json)]) == 0
    assert main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), "--no-progress",
                 "--valid-count", "3", "--validation-interval", "0", "--out", str(run), "--max-steps", "1"]) == 0
    capsys.readouterr()
    # The corpus given again: the run's 3 held-out files, not the default count.
    assert main(["train", "--resume", str(run), "--corpus", str(tiny_corpus), "--max-steps", "2",
                 "--no-progress"]) == 0
    assert "validation: the run's 3 held-out files, from its checkpoint\n" in capsys.readouterr().err
    for flags, words in ((["--valid-count", "2"], "--valid-count 2 (the run's: 3)"),
                         (["--resample"], "--resample (the run's: not given)"),  # not `True (the run's: False)`
                         (["--valid-fraction", "0.5"], "--valid-fraction 0.5 (the run's: not given)"),  # not `None`
                         (["--seed", "7"], "--seed 7: a resumed run keeps its seed"),
                         # a run on its audio's own mels would go on as a teacher-forced fine-tune (other inputs, the
                         # audio no longer normalised): a new run's change, --init-from its checkpoint
                         (["--input-mels", str(mels)], f"--input-mels {mels} (the run's: none: it trains on the "
                                                       "mels of its audio")):
        before = file_states(run)
        assert main(["train", "--resume", str(run), *flags, "--max-steps", "3", "--no-progress"]) == 2
        line = capsys.readouterr().err.strip()
        assert "\n" not in line and words in line, line
        assert file_states(run) == before


@pytest.mark.parametrize(("flags", "words"), [
    (["--init-discriminators", "do_00000001"], "do_00000001: --init-discriminators needs --init-from"),
    (["--init-from", "NOFILE", "--init-discriminators", "NODO"], "NODO: no such file (--init-discriminators)"),
])
def test_bad_run_options_are_one_line_before_anything_is_written(tmp_path, tiny_corpus, tiny_config_json, capsys,
                                                                  flags, words):
    out = tmp_path / "run"
    code = main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *QUIET, "--out", str(out),
                 "--max-steps", "1", *flags])
    failed_cleanly(code, capsys.readouterr().err, out, words)


@pytest.mark.parametrize(("device", "words"), [
    ("tpu", "--device tpu: not a device (accepted: cpu, cuda, cuda:N)"),
    ("meta", "--device meta: a meta device holds no values to compute with (accepted: cpu, cuda, cuda:N)"),
])
def test_a_bad_device_is_one_line_before_the_scan(tmp_path, tiny_corpus, tiny_config_json, capsys, device, words):
    """The device is checked before the corpus is read (a typo is refused at once, not after a large corpus's scan):
    the line names it, not the file at another rate that the scan would have met first, and nothing is written."""
    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, corpus)
    wav(corpus / "zz_at_16k.wav", tone(4000, sr=16000), sr=16000)
    out = tmp_path / "run"
    code = main(["train", "--corpus", str(corpus), "--config", str(tiny_config_json), *QUIET, "--out", str(out),
                 "--max-steps", "1", "--device", device])
    assert code == 2 and one_line(capsys.readouterr().err) == f"hifigan train: error: {words}"
    assert left_in(out) == []


def test_a_generator_that_does_not_fit_leaves_no_run_folder(tmp_path, tiny_corpus, tiny_config_json, capsys):
    """--init-from is loaded before the scan cache or any other file is written."""
    from hifigan.checkpoints.format import generator_payload, write_checkpoint
    from hifigan.models import Generator

    v3 = load_config("v3")
    wrong = tmp_path / "v3.pt"
    write_checkpoint(wrong, generator_payload(Generator(v3).state_dict(), v3))
    out = tmp_path / "run"
    code = main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *QUIET, "--out", str(out),
                 "--max-steps", "1", "--init-from", str(wrong)])
    failed_cleanly(code, capsys.readouterr().err, out, "v3.pt", "--config conflicts with the checkpoint's config")
    assert main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *QUIET, "--out",
                 str(out), "--max-steps", "0", "--seed", "0"]) == 0  # seed 0, as a config may say
    assert int(read_checkpoint(out / "checkpoints" / "latest.pt")["config"]["seed"]) == 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_torchrun_process_asked_for_cuda_without_it_is_one_line(tmp_path, tiny_corpus, tiny_config_json,
                                                                 monkeypatch):
    """As one process is (training_device): before any process group or file."""
    for key, value in {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                       "MASTER_PORT": "29599"}.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "run"  # a process of its own: a torchrun worker's `main` ends its process
    proc = run_module("train", "--corpus", tiny_corpus, "--config", tiny_config_json, *QUIET, "--out", out,
                      "--max-steps", "1", "--device", "cuda")
    failed_cleanly(proc.returncode, proc.stderr, out, "--device cuda: CUDA is not available on this machine")


def test_a_checkpoint_set_aside_three_times_keeps_every_superseded_file(tmp_path):
    """Steps 1-3, then three times back to step 1 and on: each abandoned history's ckpt_2 (the same number the resumed
    run writes) and ckpt_3 is kept, the later ones as .superseded.1 and .superseded.2; none is overwritten."""
    save_step_checkpoint(tmp_path, 1, {"step": torch.tensor(1)}, keep=10)
    for history in (10, 20, 30, 40):
        save_step_checkpoint(tmp_path, 2, {"history": torch.tensor(history)}, keep=10)
        if history < 40:
            save_step_checkpoint(tmp_path, 3, {"history": torch.tensor(history)}, keep=10)
    aside = [f"ckpt_0000000{s}.pt{SUPERSEDED}{n}" for s in (2, 3) for n in ("", ".1", ".2")]
    assert files_in(tmp_path) == ["ckpt_00000001.pt", "ckpt_00000002.pt", *aside, "latest.pt"]
    assert [int(read_checkpoint(tmp_path / name)["history"]) for name in aside] == [10, 20, 30, 10, 20, 30]
    assert int(read_checkpoint(tmp_path / "latest.pt")["history"]) == 40


def test_resume_skips_a_checkpoint_whose_tensor_bytes_are_damaged(tmp_path, four_steps_run, capsys):
    """ckpt_4's weights overwritten in place (the zip still opens; only its CRC-32 tells): --resume warns, names
    the record, and continues from ckpt_2 instead of training on NaN weights."""
    run = copy_run(four_steps_run, tmp_path)
    ckpts = run / "checkpoints"
    record = damage_tensor_bytes(ckpts / "ckpt_00000004.pt")
    capsys.readouterr()
    with pytest.warns(UserWarning, match=f"ckpt_00000004.pt: truncated or corrupt checkpoint \\(record {record} "):
        assert main(["train", "--resume", str(run), "--max-steps", "3", "--no-progress"]) == 0
    assert "resumed from " + str(ckpts / "ckpt_00000002.pt") + " at step 2" in capsys.readouterr().err
    assert files_in(ckpts) == ["best.pt", "ckpt_00000002.pt", "ckpt_00000003.pt", f"ckpt_00000004.pt{SUPERSEDED}",
                             "latest.pt"]


def test_a_resumed_run_sets_aside_the_other_historys_files_between_its_start_and_its_save(tmp_path, tiny_corpus,
                                                                                        tiny_config_json, capsys):
    """Resumed from step 1 and saving first at step 3: the abandoned history's ckpt_2 is set aside, not taken for
    this history's, and its ckpt_3 is set aside, not overwritten."""
    run = tmp_path / "run"
    ckpts = run / "checkpoints"
    assert main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *QUIET, "--out", str(run),
                 "--max-steps", "3", "--checkpoint-interval", "1", "--keep", "10"]) == 0
    first = {s: (ckpts / f"ckpt_0000000{s}.pt").read_bytes() for s in (2, 3)}
    assert main(["train", "--resume", str(ckpts / "ckpt_00000001.pt"), "--max-steps", "3", "--checkpoint-interval",
                 "0", "--no-progress"]) == 0  # the run's interval 1 would save at step 2: at the end only
    assert files_in(ckpts) == ["best.pt", "ckpt_00000001.pt", f"ckpt_00000002.pt{SUPERSEDED}", "ckpt_00000003.pt",
                             f"ckpt_00000003.pt{SUPERSEDED}", "latest.pt"]
    assert all((ckpts / f"ckpt_0000000{s}.pt{SUPERSEDED}").read_bytes() == first[s] for s in (2, 3))


def test_resuming_with_max_steps_below_the_runs_step_warns_that_nothing_trains(tmp_path, tiny_corpus,
                                                                               tiny_config_json, capsys):
    """--max-steps counts the run's steps: a resume asked for fewer than the run has done trains nothing, and says
    so in one warning (a typo'd target had looked like a finished run); the same target as the run's step does not."""
    run = tmp_path / "run"
    assert main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *UNVALIDATED, "--out",
                 str(run), "--max-steps", "2"]) == 0
    with warnings.catch_warnings(record=True) as same:
        warnings.simplefilter("always")
        assert main(["train", "--resume", str(run), "--max-steps", "2", "--no-progress"]) == 0
    assert not [w for w in same if "--max-steps" in str(w.message)]
    with pytest.warns(UserWarning) as fewer:
        assert main(["train", "--resume", str(run), "--max-steps", "1", "--no-progress"]) == 0
    assert [str(w.message) for w in fewer if "--max-steps" in str(w.message)] == [
        "--max-steps 1: the run is at step 2 already, so nothing trains (--max-steps counts the run's steps, not "
        "this call's)"]


@pytest.mark.parametrize(("interval", "logged"), [(10, [3]), (2, [2, 3]), (1, [1, 2, 3])])
def test_the_last_step_is_logged_wherever_the_log_interval_falls(tmp_path, tiny_corpus, tiny_config_json, interval,
                                                                 logged):
    """A run of 3 steps logs its steps at the interval and its last step once (a short run used to leave no losses in
    log.jsonl); a resume that trains nothing logs no step."""
    import json

    run = tmp_path / "run"
    assert main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *UNVALIDATED, "--out",
                 str(run), "--max-steps", "3", "--log-interval", str(interval)]) == 0

    def steps() -> list[int]:
        return [r["step"] for r in map(json.loads, (run / "log.jsonl").read_text().splitlines()) if "g/total" in r]

    assert steps() == logged
    assert main(["train", "--resume", str(run), "--max-steps", "3", "--no-progress"]) == 0
    assert steps() == logged
