"""Issue #2/#6 for each bad input file: every bad audio file given to `mel` or `vocode`, and every bad .npy mel given
to `vocode`, fails up front with one line naming the file, exit 2, and no output file left behind; a batched or
float64/float16 mel is read as it is."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.support.cli_runs import BINS, HOP, SR, failed_cleanly, raw_file, run, tone, wav


def _directory(d: Path) -> Path:
    """A folder INPUT holding no file of the kinds the command reads."""
    (d / "bad.wav").mkdir()
    return d / "bad.wav"


def _npy(array: np.ndarray, allow_pickle: bool = False) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        np.save(d / "bad.npy", array, allow_pickle=allow_pickle)
        return d / "bad.npy"
    return make


def _npz(d: Path) -> Path:
    with open(d / "bad.npy", "wb") as f:
        np.savez(f, mel=np.zeros((BINS, 5), np.float32))
    return d / "bad.npy"


def _with(value: float, dtype=np.float32) -> np.ndarray:
    mel = np.zeros((BINS, 10), dtype)
    mel[3, 4] = value
    return mel


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npy_header(shape: tuple[int, ...]) -> bytes:
    """A float32 .npy header of `shape` and 64 bytes of data: a header that claims what the file does not hold."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + bytes(64)


# Every bad input file of vocode, by kind: the audio ones are mel's bad inputs too. (how to make it in a folder, what
# the one line says of it)
BAD_INPUTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "audio, random bytes": (raw_file(np.random.default_rng(1).bytes(3000)), "not a readable audio file"),
    "audio, text named .wav": (raw_file(b"this is not audio\n" * 20), "not a readable audio file"),
    "audio, zero frames": (lambda d: wav(d / "bad.wav", np.zeros(0, np.float32)), "no audio samples"),
    "audio, zero bytes": (raw_file(b""), "empty"),
    "audio, missing": (lambda d: d / "bad.wav", "no such file"),
    "audio, directory": (_directory, "contains no audio"),  # a folder INPUT, of no files (a name bad.wav or not)
    "audio, stereo": (lambda d: wav(d / "bad.wav", tone(4000, channels=2)), "2 channels"),
    "audio, wrong rate": (lambda d: wav(d / "bad.wav", tone(4000), sr=16000), "16000 Hz"),
    "audio, nan samples": (lambda d: wav(d / "bad.wav", np.full(4000, np.nan, np.float32), subtype="FLOAT"),
                           "non-finite"),
    "audio, too short": (lambda d: wav(d / "bad.wav", tone(10)), "too short"),
    "audio, far too loud": (lambda d: wav(d / "bad.wav", 50 * tone(4000), subtype="FLOAT"), "far outside"),
    "mel, wrong bins": (_npy(np.zeros((BINS - 1, 10), np.float32)), f"{BINS - 1} bins"),
    "mel, rank 1": (_npy(np.zeros(10, np.float32)), "shape"),
    "mel, rank 4": (_npy(np.zeros((1, 1, BINS, 10), np.float32)), "shape"),
    "mel, batch of 2": (_npy(np.zeros((2, BINS, 10), np.float32)), "shape"),
    "mel, int dtype": (_npy(np.zeros((BINS, 10), np.int32)), "dtype int32"),
    "mel, bool dtype": (_npy(np.zeros((BINS, 10), bool)), "dtype bool"),
    "mel, complex dtype": (_npy(np.zeros((BINS, 10), np.complex64)), "dtype complex64"),
    "mel, nan": (_npy(_with(np.nan)), "non-finite"),
    "mel, inf": (_npy(_with(-np.inf)), "non-finite"),
    "mel, beyond float32": (_npy(_with(1e300, np.float64)), "float32"),
    "mel, no frames": (_npy(np.zeros((BINS, 0), np.float32)), "no frames"),
    "mel, pickled object": (_npy(np.array({"mel": 1}), allow_pickle=True), "pickled"),
    "mel, npz archive": (_npz, "not a single .npy array"),
    "mel, random bytes": (raw_file(np.random.default_rng(2).bytes(500), "bad.npy"), "not a readable .npy"),
    "mel, truncated": (raw_file(_npy_bytes(np.zeros((BINS, 50), np.float32))[:200], "bad.npy"), "not a readable"),
    "mel, header of 64 TB": (raw_file(_npy_header((BINS, 10**12)), "bad.npy"),
                             "not a readable .npy array (its header claims more memory than is available)"),
    "mel, missing": (lambda d: d / "bad.npy", "no such file"),
    "mel, zero bytes": (raw_file(b"", "bad.npy"), "empty"),
}
BAD_AUDIO = [case for case in BAD_INPUTS if case.startswith("audio, ")]


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_vocode_rejects_bad_input(tmp_path, capsys, case, tiny_checkpoint):
    make, problem = BAD_INPUTS[case]
    bad = make(tmp_path)
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", bad)
    failed_cleanly(code, err, tmp_path / "out", bad.name, problem)


@pytest.mark.parametrize("case", BAD_AUDIO)
def test_mel_rejects_bad_audio(tmp_path, capsys, case, tiny_config_json):
    make, problem = BAD_INPUTS[case]
    out = tmp_path / "out"
    bad = make(tmp_path)
    code, _, err = run(capsys, "mel", bad, "-o", out if bad.is_dir() else out / "x.npy", "--config", tiny_config_json)
    failed_cleanly(code, err, out, "bad.wav", problem)


def test_vocode_accepts_batched_and_float64_mel(tmp_path, capsys, tiny_checkpoint):
    np.save(tmp_path / "a.npy", np.zeros((1, BINS, 7), np.float64) - 4)
    np.save(tmp_path / "b.npy", np.zeros((BINS, 9), np.float16) - 4)
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", tmp_path / "a.npy",
                       tmp_path / "b.npy")
    assert code == 0, err
    assert sf.info(tmp_path / "out" / "a.wav").frames == 7 * HOP
    assert sf.info(tmp_path / "out" / "b.wav").frames == 9 * HOP


def test_check_mel_given_audio_says_so_and_how_to_make_its_mel(tmp_path, capsys, tiny_config_json):
    """A .wav given where a mel goes said 'no .npy header': it says it is audio, and the command that makes a mel."""
    clip = tmp_path / "take1.wav"
    sf.write(clip, np.zeros(HOP * 20, np.float32), 8000)
    code, out, err = run(capsys, "check-mel", clip, "--config", tiny_config_json)
    assert code == 2
    assert f"{clip}: cannot be judged: an audio file, not a .npy mel (make its mel with: hifigan mel {clip} -o " \
           "take1.npy)" in out + err


def test_check_mel_given_a_text_file_named_wav_says_it_is_no_readable_audio(tmp_path, capsys, tiny_config_json):
    """A text file named x.wav is not audio: check-mel says what `hifigan mel` says of it, without the mel hint."""
    text = tmp_path / "x.wav"
    text.write_text("hello\n")
    code, out, err = run(capsys, "check-mel", text, "--config", tiny_config_json)
    assert code == 2 and "hifigan mel" not in out
    assert out == f"{text}: cannot be judged: not a readable audio file (Format not recognised)\n"
    code, _, err = run(capsys, "mel", text, "-o", tmp_path / "x.npy", "--config", tiny_config_json)
    assert (code, err) == (2, f"hifigan mel: error: {text}: not a readable audio file (Format not recognised)\n")

def test_audio_named_npy_gets_a_mel_command_that_runs(tmp_path, capsys, tiny_config_json, monkeypatch):
    """A WAV file named take1.npy was told to run `hifigan mel take1.npy -o take1.npy`, which mel refuses (the output
    would overwrite its input): the command shown names another file, and runs as shown."""
    monkeypatch.chdir(tmp_path)
    sf.write("take1.npy", tone(HOP * 20), SR, format="WAV")
    code, out, err = run(capsys, "check-mel", "take1.npy", "--config", tiny_config_json)
    assert code == 2
    shown = "hifigan mel take1.npy -o take1.mel.npy"
    assert f"take1.npy: cannot be judged: an audio file, not a .npy mel (make its mel with: {shown})" in out + err
    code, _, err = run(capsys, *shown.split()[1:], "--config", tiny_config_json)
    assert code == 0, err
    assert np.load("take1.mel.npy").shape == (BINS, 20)
