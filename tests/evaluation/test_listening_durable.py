"""A new listening study reaches the disk as a checkpoint does: every blind copy and the database flushed before
they are renamed into the study folder, audio/ durable before the database that lists it, and a rename that fails
or a Ctrl-C between the two renames leaves no audio/ without its database. A failing file system is simulated by
an os.replace that refuses one target."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from hifigan.errors import WriteError
from hifigan.evaluation.listening.store import DB_NAME
from hifigan.evaluation.listening.study import study_for
from tests.support.cli_runs import failed_cleanly, files_in, one_line, run
from tests.support.listen_server import write_stimuli


@pytest.fixture
def stim(tmp_path) -> Path:
    write_stimuli(tmp_path / "stim", 2, ["v1"], seconds=0.05)
    return tmp_path / "stim"


def _new_study(stim: Path, folder: Path):
    return study_for(folder, stim / "reference", {"v1": stim / "v1"}, seed=0)


def _refusing(monkeypatch, target: Path, *, after: bool = False) -> None:
    """os.replace fails for `target` (EIO); with `after`, the rename is made and a Ctrl-C arrives right after it."""
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst) == target:
            if after:
                real(src, dst, *args, **kwargs)
                raise KeyboardInterrupt
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(src), None, str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("name", ["audio", DB_NAME])
def test_a_failed_rename_names_the_study_folder_and_leaves_nothing(tmp_path, stim, monkeypatch, name):
    """Either rename fails: WriteError naming the study folder (not a hidden staging path), no audio/, no staging."""
    study = tmp_path / "study"
    study.mkdir()
    _refusing(monkeypatch, study / name)
    with pytest.raises(WriteError) as failed:
        _new_study(stim, study)
    assert str(failed.value) == f"{study}: cannot write (Input/output error)"
    assert files_in(study) == []
    monkeypatch.undo()
    assert _new_study(stim, study).trial_count() == 4  # the folder takes a study once the disk works


def test_a_failed_rename_is_one_line_from_the_command(tmp_path, stim, monkeypatch, capsys):
    study = tmp_path / "study"
    _refusing(monkeypatch, study / DB_NAME)
    code, _, err = run(capsys, "listen", "--reference", stim / "reference", "--system", f"v1={stim / 'v1'}", "-o",
                       study, "--host", "127.0.0.1", "--port", 0)
    line = failed_cleanly(code, err, study, "cannot write (Input/output error)")
    assert line == f"hifigan listen: error: {study}: cannot write (Input/output error)"


def test_a_ctrl_c_between_the_renames_leaves_no_audio_without_its_database(tmp_path, stim, monkeypatch):
    study = tmp_path / "study"
    _refusing(monkeypatch, study / "audio", after=True)
    with pytest.raises(KeyboardInterrupt):
        _new_study(stim, study)
    assert files_in(study) == []
    monkeypatch.undo()
    assert _new_study(stim, study).trial_count() == 4  # not refused as an interrupted start


def test_a_ctrl_c_after_both_renames_keeps_the_complete_study(tmp_path, stim, monkeypatch):
    study = tmp_path / "study"
    _refusing(monkeypatch, study / DB_NAME, after=True)
    with pytest.raises(KeyboardInterrupt):
        _new_study(stim, study)
    assert files_in(study) == ["audio", DB_NAME]
    monkeypatch.undo()
    assert _new_study(stim, study).trial_count() == 4  # continued


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names an fd's file through Linux's /proc")
def test_every_file_is_flushed_before_its_rename_and_audio_before_the_database(tmp_path, stim, monkeypatch):
    """The order of the calls that make a study durable: each copy, audio/ and the database fsynced in staging;
    audio/ renamed and the study folder fsynced before the database's rename; the folder fsynced after it."""
    events: list[tuple[str, ...]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst, *args, **kwargs):
        events.append(("replace", str(src), str(dst)))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    study = (tmp_path / "study").resolve()
    store = _new_study(stim, study)
    renames = [e for e in events if e[0] == "replace"]
    assert [Path(dst) for _, _, dst in renames] == [study / "audio", study / DB_NAME]
    staging = Path(renames[0][1]).parent
    assert staging.parent == study and staging.name.startswith(".staging-") and not staging.exists()
    audio_moved, db_moved = events.index(renames[0]), events.index(renames[1])
    synced = {Path(e[1]) for e in events[:audio_moved] if e[0] == "fsync"}
    copies = {staging / "audio" / p.name for p in (study / "audio").iterdir()}
    assert len(copies) == store.trial_count() == 4
    assert copies | {staging / "audio", staging / DB_NAME} <= synced
    assert ("fsync", str(study)) in events[audio_moved + 1:db_moved]
    assert events[-1] == ("fsync", str(study))


def test_an_audio_folder_without_its_database_is_refused_with_what_to_do(tmp_path, stim, capsys):
    """What a kill -9 between the renames leaves: one line naming audio/, saying to remove it or choose another
    folder; audio/ is left as it was."""
    study = tmp_path / "study"
    (study / "audio").mkdir(parents=True)
    (study / "audio" / "0123456789abcdef.wav").write_bytes(b"RIFF")
    code, _, err = run(capsys, "listen", "--reference", stim / "reference", "--system", f"v1={stim / 'v1'}", "-o",
                       study, "--host", "127.0.0.1", "--port", 0)
    assert code == 2 and one_line(err) == (f"hifigan listen: error: {study / 'audio'}: exists but {DB_NAME} does not "
                                           "(an interrupted start?); remove it or use another --out")
    assert files_in(study) == ["audio"] and files_in(study / "audio") == ["0123456789abcdef.wav"]
