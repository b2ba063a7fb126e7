"""`hifigan mel INPUT... -o OUT` and `hifigan vocode DIR`: folders and many files, by `train --corpus`'s rule for a
folder (cli/input_paths.py), each file's output OUT/<stem> as that file given alone gives it, every input checked
first."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.support.cli_runs import SR, failed_cleanly, files_in, run, tone, wav
from tests.support.files import write_clips


@pytest.fixture
def nested(tmp_path):
    """A corpus as VCTK lays it out: clips in speaker folders, beside hidden files and folders and a non-audio file
    that a corpus scan skips."""
    clips = write_clips(tmp_path / "staging", 4)
    corpus = tmp_path / "corpus"
    for clip, where in zip(clips, ("", "p225", ".cache", "p226/take2")):
        (corpus / where).mkdir(parents=True, exist_ok=True)
        shutil.copy(clip, corpus / where / clip.name)
    shutil.copy(clips[3], corpus / ".clip03-backup.wav")
    (corpus / "notes.txt").write_text("not audio")
    return corpus


def test_a_folder_of_nested_audio_gives_flat_stems_equal_to_one_file_each(tmp_path, capsys, nested,
                                                                          tiny_config_json):
    out = tmp_path / "mels"
    code, stdout, err = run(capsys, "mel", nested, "-o", out, "--config", tiny_config_json)
    assert code == 0, err
    assert stdout == f"wrote 3 files to {out}\n"
    assert files_in(out) == ["clip00.npy", "clip01.npy", "clip03.npy"]  # .cache/ and .clip03-backup.wav skipped
    for clip in (nested / "clip00.wav", nested / "p225" / "clip01.wav", nested / "p226" / "take2" / "clip03.wav"):
        alone = tmp_path / "alone" / f"{clip.stem}.npy"
        assert run(capsys, "mel", clip, "-o", alone, "--config", tiny_config_json, "-q")[0] == 0
        many = np.load(out / alone.name)
        assert many.dtype == np.float32 and many.shape == np.load(alone).shape
        assert np.array_equal(many, np.load(alone))
    (out / "clip00.npy").write_bytes(b"an earlier run's file")  # an existing output is replaced, as vocode's .wav
    assert run(capsys, "mel", nested / "clip00.wav", nested / "p225", "-o", out, "--config", tiny_config_json,
               "-q")[0] == 0
    assert np.array_equal(np.load(out / "clip00.npy"), np.load(tmp_path / "alone" / "clip00.npy"))


def test_two_inputs_of_one_stem_are_refused_naming_both(tmp_path, capsys, nested, tiny_config_json):
    shutil.copy(nested / "clip00.wav", nested / "p225" / "clip00.wav")
    out = tmp_path / "mels"
    code, _, err = run(capsys, "mel", nested, "-o", out, "--config", tiny_config_json)
    failed_cleanly(code, err, out, f"{nested / 'p225' / 'clip00.wav'}: same output name as "
                   f"{nested / 'clip00.wav'} (clip00.npy)")


def test_a_bad_file_in_a_folder_is_refused_in_one_line_with_nothing_written(tmp_path, capsys, nested,
                                                                           tiny_config_json):
    wav(nested / "p225" / "stereo.wav", tone(SR // 2, channels=2))
    (nested / "p226" / "empty.flac").write_bytes(b"")
    (tmp_path / "none").mkdir()
    out = tmp_path / "mels"
    code, _, err = run(capsys, "mel", nested, tmp_path / "none", "-o", out, "--config", tiny_config_json)
    failed_cleanly(code, err, out, "3 of 6 inputs are bad (nothing was written)", "stereo.wav: has 2 channels",
                   "empty.flac: is empty (0 bytes)", f"{tmp_path / 'none'}: contains no audio files")


@pytest.mark.parametrize("argv", [["{corpus}", "-o", "{tmp}/m.npy"], ["{clip}", "{clip}", "-o", "{tmp}/m.npy"],
                                  ["{clip}", "-o", "{tmp}/m.txt"]])
def test_a_file_name_for_the_folder_of_many_mels_is_refused(tmp_path, capsys, nested, tiny_config_json, argv):
    """-o NAME.npy is the file of one audio file's mel; for a folder or several inputs it would become a folder
    NAME.npy/: refused, as vocode refuses -o out.wav. One file's -o with another suffix is refused as before."""
    names = {"corpus": nested, "tmp": tmp_path, "clip": nested / "clip00.wav"}
    code, _, err = run(capsys, "mel", *(a.format(**names) for a in argv), "--config", tiny_config_json)
    failed_cleanly(code, err, tmp_path / "m.npy", "give a", "(this one ends in .npy)" if "m.npy" in argv[-1]
                   else "ending in .npy")
    assert not (tmp_path / "m.txt").exists()


@pytest.mark.filterwarnings("ignore:.*does not look like the model's mel \\(official\\)")
def test_vocode_of_a_folder_equals_vocode_of_its_files(tmp_path, capsys, tiny_checkpoint, tiny_config_json, nested):
    mels = tmp_path / "mels"
    assert run(capsys, "mel", nested, "-o", mels, "--config", tiny_config_json, "-q")[0] == 0
    (mels / "deeper").mkdir()
    shutil.move(mels / "clip03.npy", mels / "deeper" / "clip03.npy")
    shutil.copy(nested / "p225" / "clip01.wav", mels / "deeper" / "copy.wav")  # audio in the folder: copy synthesis
    files = [mels / "clip00.npy", mels / "clip01.npy", mels / "deeper" / "clip03.npy", mels / "deeper" / "copy.wav"]
    assert run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "by_files", *files, "-q")[0] == 0
    code, stdout, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "by_folder", mels)
    assert code == 0, err
    assert stdout.startswith("wrote 4 files (")
    assert files_in(tmp_path / "by_folder") == ["clip00.wav", "clip01.wav", "clip03.wav", "copy.wav"]
    for name in files_in(tmp_path / "by_files"):
        assert (tmp_path / "by_folder" / name).read_bytes() == (tmp_path / "by_files" / name).read_bytes(), name
    shutil.copy(mels / "clip00.npy", mels / "deeper" / "clip00.npy")
    (tmp_path / "none").mkdir()
    out = tmp_path / "refused"
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, mels, tmp_path / "none")
    failed_cleanly(code, err, out, "2 of 6 inputs are bad", f"{mels / 'deeper' / 'clip00.npy'}: same output name as "
                   f"{mels / 'clip00.npy'} (clip00.wav)", f"{tmp_path / 'none'}: contains no audio or .npy files")


def test_inputs_and_the_old_trailing_output_parse_apart():
    """mel's INPUT takes many arguments: all are inputs beside -o; without -o the second of two is the old trailing
    OUTPUT (with its note), and so is a last argument ending in .npy, which no input of mel is."""
    from pathlib import Path

    from hifigan.cli import build_parser
    from hifigan.cli.common import resolve_out

    def parse(*argv: str):
        args = build_parser().parse_args(["mel", *argv])
        resolve_out(args, args.subparser)
        return args.inputs, args.out, len(args.deprecations)

    assert parse("a.wav", "b.wav", "corpus", "-o", "m") == ([Path("a.wav"), Path("b.wav"), Path("corpus")],
                                                             Path("m"), 0)
    assert parse("a.wav", "m.npy") == ([Path("a.wav")], Path("m.npy"), 1)
    assert parse("a.wav", "mels") == ([Path("a.wav")], Path("mels"), 1)
