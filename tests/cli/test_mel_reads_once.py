"""`hifigan mel` of many files reads each once (cli/mel_workers.py): one pass checks each file and computes its mel
into a staging folder (hifigan.files.staging), moved into OUT once every file has passed; a bad file still leaves
nothing written, and no staging folder behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli_runs import SR, failed_cleanly, files_in, run, tone, wav
from tests.support.full_disk import file_size_limit
from tests.support.reads import PROC_IO, reads_of_the_extra_bytes

needs_proc_io = pytest.mark.skipif(not PROC_IO.exists(), reason="needs Linux's /proc/self/io")


def short_and_long(folder: Path) -> tuple[Path, Path]:
    """A 5 s and a 20 s tone of one stem, x.wav, in folders of their own."""
    for name in ("short", "long"):
        (folder / name).mkdir()
    return wav(folder / "short" / "x.wav", tone(5 * SR)), wav(folder / "long" / "x.wav", tone(20 * SR))


@needs_proc_io
def test_each_input_is_read_once_and_its_mel_is_the_one_file_mel(tmp_path, capsys, tiny_config_json):
    """A file 15 s longer makes `mel` of two files read its extra bytes once, not twice (a check pass, then the
    mel pass, before); each mel is the bytes `mel` of that file alone writes (hifigan mel x.wav -o x.npy)."""
    other = wav(tmp_path / "other.wav", tone(SR))
    short, long = short_and_long(tmp_path)
    argv = ["--config", tiny_config_json, "--no-progress", "-q"]
    assert run(capsys, "mel", other, short, "-o", tmp_path / "warm", *argv)[0] == 0  # imports, caches

    def mel(path: Path) -> int:
        code, _, err = run(capsys, "mel", other, path, "-o", tmp_path / "mels" / path.parent.name, *argv)
        assert code == 0, err
        return 0

    per_byte = reads_of_the_extra_bytes(mel, short, long)
    assert 0.9 < per_byte < 1.1, per_byte
    for path in (short, long):
        alone = tmp_path / "alone" / path.parent.name / "x.npy"
        assert run(capsys, "mel", path, "-o", alone, *argv)[0] == 0
        assert (tmp_path / "mels" / path.parent.name / "x.npy").read_bytes() == alone.read_bytes()
        assert files_in(tmp_path / "mels" / path.parent.name) == ["other.npy", "x.npy"]
    assert files_in(tmp_path) == ["alone", "long", "mels", "other.wav", "short", "warm"]  # no staging folder left


@needs_proc_io
def test_a_worker_reads_each_file_once_and_stages_its_mel(tmp_path, tiny_cfg):
    """In worker processes (forked: their reads are counted once they end) as in this one, a file's extra bytes are
    read once, and the staged mel is file_mel's, bit for bit."""
    from hifigan.cli.mel_workers import MelJob, file_mel, stage_mels
    from hifigan.data.scan_row import ReadSettings
    from hifigan.mel import MelSpectrogram

    other = wav(tmp_path / "other.wav", tone(SR))
    short, long = short_and_long(tmp_path)
    frontend, read = MelSpectrogram(**tiny_cfg.mel_kwargs()), ReadSettings(tiny_cfg.sampling_rate)
    assert stage_mels([other, short], MelJob(frontend, read, tmp_path, None), False, 2) == []  # imports, a pool

    def staged(path: Path) -> int:
        (tmp_path / "staged" / path.parent.name).mkdir(parents=True)
        job = MelJob(frontend, read, tmp_path / "unused", tmp_path / "staged" / path.parent.name)
        assert stage_mels([other, path], job, False, workers=2) == []
        return 0

    per_byte = reads_of_the_extra_bytes(staged, short, long)
    assert 0.9 < per_byte < 1.1, per_byte
    for path in (other, long):
        stored = (tmp_path / "staged" / "long" / f"{path.stem}.npy").read_bytes()
        assert stored.endswith(file_mel(path, frontend, read).tobytes())


def test_a_bad_file_leaves_an_existing_out_as_it_was(tmp_path, capsys, tiny_config_json):
    """The staging folder lies in an existing OUT: a bad file removes it with the mels of the good files, and the
    files OUT held are kept as they were."""
    good = [wav(tmp_path / f"good{i}.wav", tone(SR // 2)) for i in range(2)]
    short = wav(tmp_path / "short.wav", tone(8))
    out = tmp_path / "mels"
    out.mkdir()
    (out / "good0.npy").write_bytes(b"an earlier run's file")
    code, _, err = run(capsys, "mel", *good, short, "-o", out, "--config", tiny_config_json)
    failed_cleanly(code, err, tmp_path / "none", f"{short}: too short: 8 samples")
    assert files_in(out) == ["good0.npy"] and (out / "good0.npy").read_bytes() == b"an earlier run's file"


def test_a_full_disk_names_the_output_and_leaves_nothing(tmp_path, capsys, tiny_config_json):
    """A mel that cannot be written to the staging folder is named as its OUT/<stem>.npy; nothing is left, neither
    OUT nor the staging folder."""
    clips = [wav(tmp_path / f"c{i}.wav", tone(SR)) for i in range(2)]
    out = tmp_path / "new" / "mels"
    with file_size_limit(1024):  # a mel of 1 s of the tiny config: 16 bins x 500 frames x 4 B
        code, _, err = run(capsys, "mel", *clips, "-o", out, "--config", tiny_config_json)
    failed_cleanly(code, err, tmp_path / "new", f"{out / 'c0.npy'}: cannot write")
    assert files_in(tmp_path) == ["c0.wav", "c1.wav"]


def test_where_no_staging_folder_can_be_made_the_inputs_are_still_checked(tmp_path, capsys, tiny_config_json):
    """A file in the way of OUT leaves no place for the staging folder: the inputs are checked all the same (a bad
    one named), and once they pass, OUT's own problem is named, as prepare_output_dir names it."""
    good = wav(tmp_path / "good.wav", tone(SR // 2))
    short = wav(tmp_path / "short.wav", tone(8))
    (tmp_path / "blocker").write_text("a file")
    out = tmp_path / "blocker" / "mels"
    code, _, err = run(capsys, "mel", good, short, "-o", out, "--config", tiny_config_json)
    failed_cleanly(code, err, out, f"{short}: too short: 8 samples")
    code, _, err = run(capsys, "mel", good, wav(tmp_path / "other.wav", tone(SR // 2)), "-o", out, "--config",
                       tiny_config_json)
    failed_cleanly(code, err, out, f"{out}: cannot create folder ({tmp_path / 'blocker'} is a file, not a folder)")
