"""A resume continues in its checkpoint's run folder, under any spelling, or with --out in a folder a new run could
take: never in a folder that holds another run's checkpoints or logs, whose files its saves would set aside or prune.
"""

from __future__ import annotations

import os
import shutil

import pytest

from hifigan.cli import main
from tests.support.cli_runs import failed_cleanly, files_in
from tests.support.files import file_states

pytestmark = pytest.mark.usefixtures("single_thread")
QUIET = ["--no-progress", "--valid-count", "2"]


def test_a_resume_refuses_another_runs_folder_and_continues_in_its_own_under_any_spelling(tmp_path, tiny_corpus,
                                                                                         tiny_config_json, capsys):
    """Resumed into a folder that holds another run's checkpoints, a run's saves would prune that run's older files
    (lost: here its ckpt_1 with --keep 2) and log after its steps: refused, nothing touched. Its own folder under
    another spelling (a symlink to it, or its checkpoints/ on another disk) is its own."""
    base = ["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *QUIET, "--checkpoint-interval",
            "1", "--keep", "10", "--validation-interval", "0"]  # no validations: the folders are what is tested
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    assert main([*base, "--out", str(ours), "--max-steps", "3"]) == 0
    assert main([*base, "--out", str(theirs), "--max-steps", "2"]) == 0
    before = file_states(theirs)
    capsys.readouterr()
    code = main(["train", "--resume", str(ours), "--out", str(theirs), "--max-steps", "4", "--keep", "2", *QUIET])
    line = failed_cleanly(code, capsys.readouterr().err, tmp_path / "nothing", str(theirs), fresh=False)
    assert line.endswith(f"{theirs}: holds another run's checkpoints (ckpt_00000002.pt), which the run resumed from "
                         f"{ours / 'checkpoints' / 'ckpt_00000003.pt'} would mix with its own: continue that run with "
                         f"--resume {theirs}, give a new --out, or "
                         f"none to continue in {ours}")
    assert file_states(theirs) == before
    (tmp_path / "link").symlink_to(ours)
    assert main(["train", "--resume", str(ours), "--out", str(tmp_path / "link"), "--max-steps", "4", *QUIET]) == 0
    assert files_in(ours / "checkpoints")[-2:] == ["ckpt_00000004.pt", "latest.pt"]
    # checkpoints/ a link to another disk: --resume of the folder it points to continues in the run folder too
    disk = tmp_path / "disk" / "ours-checkpoints"
    disk.parent.mkdir()
    shutil.move(ours / "checkpoints", disk)
    (ours / "checkpoints").symlink_to(disk)
    assert main(["train", "--resume", str(disk), "--out", str(ours), "--max-steps", "5", *QUIET]) == 0
    assert files_in(disk)[-2:] == ["ckpt_00000005.pt", "latest.pt"]
    # a checkpoint copied into another run's folder is not that run's: its saves would prune that run's files
    shutil.copy(disk / "ckpt_00000005.pt", theirs / "from_ours.pt")
    before = file_states(theirs)
    capsys.readouterr()
    code = main(["train", "--resume", str(theirs / "from_ours.pt"), "--max-steps", "6", "--keep", "1", *QUIET])
    line = failed_cleanly(code, capsys.readouterr().err, tmp_path / "nothing", str(theirs), fresh=False)
    assert line.endswith(f"{theirs}: holds another run's checkpoints (ckpt_00000002.pt), which the run resumed from "
                         f"{theirs / 'from_ours.pt'} would mix with its own: continue that run with --resume {theirs}, "
                         "or give a new --out")
    assert file_states(theirs) == before


def test_a_runs_checkpoints_folder_given_as_out_is_refused_naming_the_run_folder(tmp_path, tiny_corpus,
                                                                                 tiny_config_json, capsys):
    """--out RUN/checkpoints, as a new run or a resume's: its files would nest in that folder (checkpoints/checkpoints/,
    checkpoints/logs/), a second history that --resume RUN never finds. Refused in one line naming RUN, nothing
    written; --resume RUN/checkpoints alone continues in RUN."""
    run = tmp_path / "run"
    new = ["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *QUIET, "--validation-interval",
           "0"]
    assert main([*new, "--out", str(run), "--max-steps", "1"]) == 0
    before = file_states(run)
    for args in ([*new, "--out", str(run / "checkpoints")], ["train", "--resume", str(run), "--out",
                                                             str(run / "checkpoints"), *QUIET]):
        capsys.readouterr()
        code = main([*args, "--max-steps", "2"])
        line = failed_cleanly(code, capsys.readouterr().err, tmp_path / "nothing", str(run), fresh=False)
        assert line == (f"hifigan train: error: {run / 'checkpoints'}: is a run's checkpoints folder (it holds "
                        f"ckpt_00000001.pt), not the run folder that holds it, {run}: continue that run with "
                        f"--resume {run}, or give a new --out")
        assert file_states(run) == before
    assert main(["train", "--resume", str(run / "checkpoints"), "--max-steps", "2", *QUIET]) == 0
    assert files_in(run / "checkpoints") == ["ckpt_00000001.pt", "ckpt_00000002.pt", "latest.pt"]


def test_a_resume_removes_the_temporary_files_a_killed_save_left_and_says_so(tmp_path, tiny_corpus,
                                                                              tiny_config_json, capsys):
    """kill -9 during a save leaves its hidden temporary file (a checkpoint's: as large as one), which no listing
    takes for a checkpoint: the run holds its folder (its one writer), so the next run removes every one of
    checkpoints/ and of the run folder's own files, untagged or tagged with a live pid (files.leftovers, locked),
    in the line mel and vocode say theirs with, one per folder; any other hidden file in the run folder stays."""
    run = tmp_path / "run"
    assert main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *QUIET,
                 "--validation-interval", "0", "--out", str(run), "--max-steps", "1"]) == 0
    ckpts = run / "checkpoints"
    left = [ckpts / ".ckpt_00000002.pt.k1ll3d_x.tmp", ckpts / f".latest.pt.{os.getpid()}-abcdef.0badf00d.tmp",
            run / ".log.jsonl.k1ll3d_x.tmp"]
    for path, size in zip(left, (1_500, 1_500, 500)):
        path.write_bytes(b"\0" * size)
    (run / ".notes.tmp").write_text("mine")
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--max-steps", "2", *QUIET]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "temporar" in line]
    assert said == [
        f"removed 2 hidden temporaries ({left[0].name}, {left[1].name}) that were left in {ckpts} by a command killed "
        f"while writing (pid {os.getpid()}, this run holds the folder now): not outputs",
        f"removed 1 hidden temporary ({left[2].name}) that was left in {run} by a command killed while writing (this "
        "run holds the folder now): not outputs"]
    assert not any(p.exists() for p in left) and (run / ".notes.tmp").read_text() == "mine"
    assert files_in(run / "checkpoints") == ["ckpt_00000001.pt", "ckpt_00000002.pt", "latest.pt"]
