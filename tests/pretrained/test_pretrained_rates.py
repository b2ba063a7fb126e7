"""A registered pretrained model (here tiny-test: 8 kHz, 80 mel bins) given input it does not take: a mel of another
shape or audio at another rate is one line naming the file and what the model expects, exit 2, nothing written;
audio at another rate is resampled to the model's with --resample."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import soxr
import torch

from hifigan.audio import load_audio, to_int16
from hifigan.cli import main
from hifigan.inference import Vocoder
from hifigan.mel import MelSpectrogram
from tests.support.cli_runs import files_in, one_line
from tests.support.files import CORPUS, SCAN_ONLY, left_in, write_clips
from tests.support.signals import speechlike

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.mark.parametrize(("shape", "expected"), [
    ((100, 20), "mel has 100 bins, the model expects 80"),
    ((1, 100, 20), "mel has 100 bins, the model expects 80"),
    ((20, 80), "mel has 20 bins, the model expects 80 (a [frames, 80] mel? read so: transposed, log10 (floor 1e-05); "
               "convert: --mel-convention transposed+log10)"),  # check-mel's reading of a constant -5
    ((2, 80, 20), "mel has shape (2, 80, 20), expected [80, frames] or [1, 80, frames]"),
])
def test_a_mel_of_another_shape_is_one_line_and_nothing_is_written(registered, tiny80, tmp_path, capsys, shape,
                                                                   expected):
    good, bad = tmp_path / "good.npy", tmp_path / "bad.npy"
    speech = load_audio(CORPUS / "LJ001-0001.wav", 8000, resample=True)
    np.save(good, MelSpectrogram(**tiny80[0].mel_kwargs())(torch.from_numpy(speech)).numpy())
    np.save(bad, np.full(shape, -5.0, np.float32))
    out = tmp_path / "out"
    assert main(["vocode", "--pretrained", "tiny-test", "-o", str(out), str(good), str(bad)]) == 2
    assert f"{bad}: {expected}" in one_line(capsys.readouterr().err)
    assert files_in(out) == []  # the good input first: every input is checked before anything is written


def test_audio_at_another_rate_is_one_line_or_resampled(registered, tiny80, tmp_path, capsys):
    cfg = tiny80[0]
    path = tmp_path / "a16k.wav"
    sf.write(path, to_int16(speechlike(0.5, sr=16000)), 16000, subtype="PCM_16")
    out = tmp_path / "out"
    args = ["vocode", "--pretrained", "tiny-test", "--backend", "eager", "-o", str(out), str(path), "--evaluate"]
    assert main(args) == 2
    assert f"{path}: sample rate is 16000 Hz, expected 8000 Hz (use --resample)" in one_line(capsys.readouterr().err)
    assert files_in(out) == []

    assert main([*args, "--resample"]) == 0
    audio = sf.read(path, dtype="int16")[0] / 32768
    at_8k = soxr.resample(audio.astype(np.float32), 16000, 8000, quality="HQ")
    mel = MelSpectrogram(**cfg.mel_kwargs())(torch.from_numpy(at_8k))
    got, rate = sf.read(out / "a16k.wav", dtype="int16")
    assert rate == 8000
    np.testing.assert_array_equal(got, to_int16(Vocoder.from_pretrained("tiny-test", backend="eager")(mel).numpy()))
    # --evaluate scores it against its input brought to the model's rate: narrow-band PESQ at 8 kHz.
    settings = json.loads((out / "evaluation.json").read_text())["settings"]
    assert (settings["sampling_rate"], settings["pesq_mode"]) == (8000, "nb")


def test_fine_tuning_on_a_corpus_at_another_rate(registered, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    write_clips(corpus, 4, sampling_rate=22050)
    out = tmp_path / "ft"
    assert main(["train", "--init-from", "tiny-test", "--corpus", str(corpus), "--out", str(out),
                 "--max-steps", "1", "--valid-count", "1", "--no-progress"]) == 2
    assert "sample rate is 22050 Hz, expected 8000 Hz (use --resample)" in one_line(capsys.readouterr().err)
    assert left_in(out) == SCAN_ONLY  # the scan, kept for the --resample rerun
