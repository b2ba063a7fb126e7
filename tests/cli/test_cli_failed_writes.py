"""A command whose write fails leaves nothing behind: no folder it created, no temp file, no half of a pair of files
written as a unit (export-official's g_/do_, evaluate's JSON and PNG, a listening study's audio and database), and an
existing output as it was. A write is made to fail by a file-size limit (a full disk, simulated in this process)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hifigan.checkpoints.format import read_checkpoint
from hifigan.checkpoints.run_files import checkpoint_files
from hifigan.errors import HifiganError
from hifigan.evaluation.listening.study import study_for
from hifigan.files.output_folders import prepare_output_dir
from hifigan.files.write_failures import FILE_SIZE_LIMIT
from tests.support.cli_runs import failed_cleanly, files_in, one_line, run
from tests.support.full_checkpoint import write_full_checkpoint
from tests.support.full_disk import file_size_limit, thread_exceptions
from tests.support.listen_server import write_stimuli


def test_a_failed_write_removes_the_folders_the_command_created(tmp_path, capsys, tiny_checkpoint, tiny_config_json,
                                                               good_wav):
    """export and mel create -o's missing folders, then fail writing the file: the folders go with it; a folder that
    was there before stays."""
    new = tmp_path / "new"
    with file_size_limit(1024):
        code, _, err = run(capsys, "export", "-c", tiny_checkpoint, "-o", new / "sub" / "g.onnx")
        failed_cleanly(code, err, new, "g.onnx", "cannot write")
        code, _, err = run(capsys, "mel", good_wav, "-o", new / "x.npy", "--config", tiny_config_json)
        failed_cleanly(code, err, new, "x.npy", "cannot write")
        (tmp_path / "kept").mkdir()
        code, _, err = run(capsys, "mel", good_wav, "-o", tmp_path / "kept" / "sub" / "x.npy", "--config",
                           tiny_config_json)
        failed_cleanly(code, err, tmp_path / "kept" / "sub", "x.npy", "cannot write")
    assert (tmp_path / "kept").is_dir()


def test_export_official_writes_both_files_or_neither(tmp_path, capsys):
    """A full disk at do_* (the larger file) after g_* fits: neither is written, a g_* already there is unchanged,
    and a folder the command created is gone."""
    path, _ = write_full_checkpoint(tmp_path / "ours.pt")
    out = tmp_path / "out"
    out.mkdir()
    (out / "g_00000007").write_text("the previous export")
    with file_size_limit(256 * 1024):  # g_* of the tiny model is ~100 KB, do_* ~1.4 MB
        code, _, err = run(capsys, "export-official", "-c", path, "-o", out)
        assert code == 2 and "do_00000007: cannot write" in err and "Traceback" not in err
        assert sorted(p.name for p in out.iterdir()) == ["g_00000007"]
        assert (out / "g_00000007").read_text() == "the previous export"
        code, _, err = run(capsys, "export-official", "-c", path, "-o", tmp_path / "new")
        assert code == 2 and "do_00000007: cannot write" in err and not (tmp_path / "new").exists()
    code, _, _ = run(capsys, "export-official", "-c", path, "-o", out)
    assert code == 0 and sorted(p.name for p in out.iterdir()) == ["config.json", "do_00000007", "g_00000007"]


def test_evaluate_writes_its_json_and_png_or_neither(tmp_path, capsys, good_wav, tiny_config_json):
    """The PNG (tens of KB) fails after the JSON (a few KB) was written: neither stays, nor the folder made for them."""
    for name in ("reference", "system"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "good.wav").write_bytes(good_wav.read_bytes())
    with file_size_limit(16 * 1024):
        code, _, err = run(capsys, "evaluate", "--reference", tmp_path / "reference", "--system",
                           tmp_path / "system", "--metrics", "mel_l1", "--config", tiny_config_json, "-o",
                           f"{tmp_path / 'report'}/")
    failed_cleanly(code, err, tmp_path / "report", "evaluation.png", "cannot write")


def test_a_listening_study_that_cannot_be_written_names_its_folder_and_leaves_none(tmp_path, capsys):
    """The blind copies fail to write: one line naming the study folder (not a hidden staging file, nor no file at
    all), and no study folder."""
    write_stimuli(tmp_path / "stim", 2, ["v1"])
    study = tmp_path / "study"
    with file_size_limit(1024):  # each copy is 4 KB
        code, _, err = run(capsys, "listen", "--reference", tmp_path / "stim" / "reference", "--system",
                           f"v1={tmp_path / 'stim' / 'v1'}", "-o", study, "--host", "127.0.0.1", "--port", 0)
    line = failed_cleanly(code, err, study, f"cannot write ({FILE_SIZE_LIMIT})")
    assert line.startswith(f"hifigan listen: error: {study}: ")


def test_a_listening_study_whose_database_cannot_be_written_leaves_no_audio(tmp_path, capsys):
    """The blind copies (4 KB each) fit, the database (over 64 KB with its WAL) does not: nothing of the new study
    stays (no audio/, no staging folder) in a folder that held a file before, and a study beside it is untouched."""
    write_stimuli(tmp_path / "stim", 2, ["v1"])
    systems = ("--reference", tmp_path / "stim" / "reference", "--system", f"v1={tmp_path / 'stim' / 'v1'}")
    study_for(tmp_path / "old", tmp_path / "stim" / "reference", {"v1": tmp_path / "stim" / "v1"}, seed=0)
    old = {p: p.read_bytes() for p in (tmp_path / "old").rglob("*") if p.is_file()}
    (tmp_path / "study").mkdir()
    (tmp_path / "study" / "notes.txt").write_text("mine")
    with file_size_limit(16 * 1024):
        code, _, err = run(capsys, "listen", *systems, "-o", tmp_path / "study", "--host", "127.0.0.1", "--port", 0)
    assert code == 2 and one_line(err).startswith(f"hifigan listen: error: {tmp_path / 'study'}: cannot write")
    assert files_in(tmp_path / "study") == ["notes.txt"]
    assert {p: p.read_bytes() for p in (tmp_path / "old").rglob("*") if p.is_file()} == old


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_folder_that_takes_no_files_says_so():
    """/proc exists but refuses new entries with ENOENT: the reason is that, not 'No such file or directory'."""
    with pytest.raises(HifiganError) as refused:
        prepare_output_dir("/proc")
    assert str(refused.value) == "/proc: folder is not writable (no files can be created in it)"
    with pytest.raises(HifiganError) as refused:
        prepare_output_dir("/proc/hifigan-test/sub")
    assert str(refused.value) == "/proc/hifigan-test/sub: cannot create folder (no folders can be created in /proc)"


def test_a_train_whose_first_save_fails_leaves_no_run_folder(tmp_path, capsys, tiny_corpus, tiny_config_json):
    """The first checkpoint does not fit (the scan cache and the logs do): the run folder and its parent, made by the
    command, go with the files the run wrote in them (which would keep the next run out); a folder there before, and
    what it held, stay."""
    before = tmp_path / "before"
    before.mkdir()
    (before / "notes.txt").write_text("mine")
    with file_size_limit(256 * 1024):  # the tiny run's scan cache and logs take ~40 KB, a checkpoint ~1.5 MB
        code, _, err = run(capsys, "train", "--corpus", tiny_corpus, "--config", tiny_config_json, "-o",
                           before / "new" / "run", "--max-steps", 1, "--quiet", "--valid-count", 0,
                           "--validation-interval", 0)
    failed_cleanly(code, err, before / "new", "checkpoints/ckpt_00000001.pt: cannot write")
    assert files_in(before) == ["notes.txt"] and (before / "notes.txt").read_text() == "mine"


def test_a_train_whose_events_file_fills_says_so_in_one_line_and_leaves_no_run_folder(tmp_path, capsys, tiny_corpus,
                                                                                       tiny_config_json):
    """TensorBoard's events file (written in its own thread) passes the limit before the first checkpoint: one line
    naming that file, no thread's traceback, and the new run's folder is gone with what it wrote."""
    out = tmp_path / "run"
    with thread_exceptions() as printed, file_size_limit(4096):  # each logged step adds ~1.8 KB of events
        code, _, err = run(capsys, "train", "--corpus", tiny_corpus, "--config", tiny_config_json, "-o", out,
                           "--max-steps", 6, "--log-interval", 1, "--quiet", "--valid-count", 0,
                           "--validation-interval", 0)
    line = failed_cleanly(code, err, out, f"cannot write ({FILE_SIZE_LIMIT})")
    assert re.fullmatch(f"hifigan train: error: {re.escape(str(out))}/logs/events\\.out\\.tfevents\\.[^ ]+: cannot "
                        f"write \\({re.escape(FILE_SIZE_LIMIT)}\\); saving step [1-6] failed too", line), line
    assert printed == []


def test_a_resumed_train_whose_log_fills_keeps_its_checkpoint_and_names_it(tmp_path, capsys, tiny_corpus,
                                                                           tiny_config_json):
    """log.jsonl, continued by the resumed run, passes the limit: one line naming it, saying that the run stopped, that
    the step it stopped at could not be saved either, and which checkpoint is newest; that checkpoint stays as it was,
    and the failed save leaves no temporary file."""
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", tiny_corpus, "--config", tiny_config_json, "-o", out,
                       "--max-steps", 2, "--log-interval", 1, "--quiet", "--valid-count", 0, "--validation-interval", 0)
    assert code == 0, err
    newest = out / "checkpoints" / "ckpt_00000002.pt"
    saved = newest.read_bytes()
    with thread_exceptions() as printed, file_size_limit((out / "log.jsonl").stat().st_size + 600):  # ~700 B a step
        code, _, err = run(capsys, "train", "--resume", out, "--max-steps", 4, "--quiet")
    assert code == 2 and printed == []
    assert one_line(err) == (f"hifigan train: error: {out}/log.jsonl: cannot write ({FILE_SIZE_LIMIT}); saving step 3 "
                             f"failed too: the run stopped, and its newest checkpoint is {newest} (raise the file-size "
                             f"limit, then "
                             f"--resume {out})")
    assert checkpoint_files(out / "checkpoints") == [newest] and newest.read_bytes() == saved
    assert files_in(out / "checkpoints") == ["ckpt_00000002.pt", "latest.pt"]


def test_a_log_that_cannot_be_written_stops_the_run_with_its_step_saved(tmp_path, capsys, tiny_corpus,
                                                                        tiny_config_json):
    """log.jsonl cannot be written (a folder stands in its way: any user, any file system) while checkpoints can: the
    run stops at its first logged step with one line naming the file, and that step is saved first, not lost with
    the steps since the last checkpoint (there was none: the run folder would have been taken back)."""
    out = tmp_path / "run"
    (out / "log.jsonl").mkdir(parents=True)
    code, _, err = run(capsys, "train", "--corpus", tiny_corpus, "--config", tiny_config_json, "-o", out,
                       "--max-steps", 4, "--log-interval", 2, "--quiet", "--valid-count", 0,
                       "--validation-interval", 0)
    saved = out / "checkpoints" / "ckpt_00000002.pt"
    assert code == 2 and one_line(err) == (
        f"hifigan train: error: {out}/log.jsonl: cannot write (Is a directory): the run stopped, and its newest "
        f"checkpoint is {saved} (move the folder out of its way, then --resume {out})")
    assert files_in(out / "checkpoints") == ["ckpt_00000002.pt", "latest.pt"]
    assert read_checkpoint(saved)["step"] == 2
