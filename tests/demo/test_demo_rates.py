"""`hifigan demo` at another rate than its corpus: the clips are resampled to the config's rate and every output
(wavs, scores, report, page) is at that rate; a pretrained model at another rate or mel hears the same recordings
resampled to its rate, through its own mel, and is scored at the demo's rate."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
import soundfile as sf
import soxr
import torch

from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.data.corpus import Corpus
from hifigan.data.dataset import normalize_peak
from hifigan.demo.clips import Vocoded, pretrained_clips
from hifigan.inference import Vocoder
from hifigan.mel import MelSpectrogram
from hifigan.pretrained import MODELS
from tests.support.files import save_config_json, write_clips
from tests.support.pretrained_fake import TOL, keep_only, register, tiny_model
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture
def registered(tmp_path, monkeypatch, tiny80):
    """tiny-test (8 kHz, 80 bins, hop 16) installed, tiny-gone registered but not installed; no other model."""
    register(tmp_path, monkeypatch, tiny80)
    monkeypatch.setitem(MODELS, "tiny-gone", tiny_model(tiny80, name="tiny-gone", package="hifigan-absent-weights"))
    keep_only(monkeypatch, "tiny-test", "tiny-gone")


def by_hand(reference: np.ndarray, rate: int, model_rate: int) -> np.ndarray:
    """tiny-test on a recording at `rate`: soxr HQ to its rate, zeros to a whole hop, its mel, its generator,
    soxr HQ back, cut to the recording's length."""
    cfg = MODELS["tiny-test"].load_config()
    x = soxr.resample(reference, rate, model_rate, quality="HQ").astype(np.float32) if rate != model_rate else reference
    x = np.pad(x, (0, -len(x) % cfg.hop_size))
    mel = MelSpectrogram(**cfg.mel_kwargs())(torch.from_numpy(x))
    y = Vocoder.from_pretrained("tiny-test", backend="eager")(mel).numpy()
    y = soxr.resample(y, model_rate, rate, quality="HQ") if rate != model_rate else y
    assert len(y) >= len(reference)  # every sample vocoded (at these lengths; a rounding may leave one short)
    return y[: len(reference)]


@pytest.mark.parametrize("rate", [16000, 8000])
def test_a_model_of_another_rate_or_mel_hears_the_same_recordings(registered, tiny80, rate):
    """At 16 kHz the 8 kHz model hears the clips resampled and answers at 16 kHz; at 8 kHz with another mel it
    hears the clips as they are; either way through its own mel, over every sample, as long as the recording."""
    config = tiny_config(sampling_rate=rate)  # 16 mel bins, hop 16: not tiny-test's mel
    rng = np.random.default_rng(0)
    clips = []
    for i, n in enumerate((3001, 4093)):  # odd lengths: no whole number of hops at either rate
        reference = (0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / rate) + 0.02 * rng.standard_normal(n))
        reference = reference.astype(np.float32)
        mel = MelSpectrogram(**config.mel_kwargs())(torch.from_numpy(reference)).numpy()
        clips.append(Vocoded(f"c{i}", reference, mel, reference))
    vocoded, notes = pretrained_clips(clips, config)
    assert list(vocoded) == ["tiny-test"]
    for clip, got in zip(clips, vocoded["tiny-test"]):
        assert got.reference is clip.reference and got.generated.shape == clip.reference.shape
        assert np.abs(got.generated - by_hand(clip.reference, rate, 8000)).max() < TOL
        assert np.abs(got.generated[-8:]).max() > 0  # the last part-hop was vocoded, not padded
    heard = ("the clips resampled to 8000 Hz, its output resampled back to 16000 Hz (nothing above 4000 Hz)"
             if rate == 16000 else "the same clips")
    assert notes[0] == f"tiny-test: its own rate and mel (8000 Hz, 80 bins, hop 16): given {heard}"
    assert notes[1].startswith("tiny-gone: not shown: ") and "not installed" in notes[1] and len(notes) == 2


def test_a_recording_of_whole_hops_is_vocoded_as_it_is(registered):
    """A recording of a whole number of hops at the model's rate gets no padding: an extra hop of zeros would
    change the mel, and so the audio, of its last frames."""
    from hifigan.demo.clips import vocode_recording

    n = 256 * 16  # 256 hops of tiny-test (8 kHz, hop 16)
    reference = 0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / 8000) + 0.02 * np.random.default_rng(1).standard_normal(n)
    reference = reference.astype(np.float32)
    got = vocode_recording(Vocoder.from_pretrained("tiny-test", backend="eager"), reference, 8000)
    assert got.shape == reference.shape and np.abs(got - by_hand(reference, 8000, 8000)).max() < TOL


def test_demo_at_16k_on_a_22k_corpus(registered, tmp_path, capsys):
    """The whole demo at 16 kHz on 22050 Hz clips: resampled on the way in, every output at 16 kHz. (Hop 64: the
    pitch metrics track one frame per hop, and pYIN on hop 16 would take most of the test's time.)"""
    cfg = tiny_config(sampling_rate=16000, upsample_rates=[8, 8], upsample_kernel_sizes=[16, 16], hop_size=64,
                      n_fft=256, win_size=256, segment_size=1024)
    corpus, out = tmp_path / "corpus", tmp_path / "demo"
    write_clips(corpus, 4, sampling_rate=22050, seconds=(0.2, 0.3))
    config_path = save_config_json(tmp_path / "tiny16k.json", cfg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert main(["demo", "--corpus", str(corpus), "--out", str(out), "--budget-minutes", "0.02", "--config",
                         str(config_path), "--batch-size", "2", "--valid-count", "2", "--gan-fraction", "0",
                         "--no-progress"]) == 0
        log = capsys.readouterr().err
        assert "demo: the corpus (22050 Hz) is resampled to the config's 16000 Hz" in log
        _, held_out = Corpus(folder=corpus, valid_count=2).resolve(cfg.seed)
        for path in held_out:
            recorded = sf.read(path, dtype="float32")[0]
            expected = normalize_peak(soxr.resample(recorded, 22050, 16000, quality="HQ"), 0.95)
            reference, rate = sf.read(out / "reference" / f"{path.stem}.wav", dtype="float32")
            assert rate == 16000 and np.abs(reference - expected).max() <= 2 / 32768
            for folder in ("generated", "start", "tiny-test"):
                audio, rate = sf.read(out / folder / f"{path.stem}.wav")
                assert rate == 16000 and abs(len(audio) - len(reference)) < cfg.hop_size, folder
        results = json.loads((out / "results.json").read_text())
        assert results["sampling_rate"] == 16000 and set(results["summary"]) == {"start", "end", "tiny-test"}
        markdown = (out / "results.md").read_text()
        assert "held-out clips at 16000 Hz" in markdown and "| PESQ (wb) |" in markdown
        assert "tiny-test: its own rate and mel (8000 Hz, 80 bins, hop 16): given the clips resampled" in markdown
        report = json.loads((out / "evaluation.json").read_text())
        assert (report["settings"]["sampling_rate"], report["settings"]["pesq_mode"]) == (16000, "wb")
        # what was resampled from which rate, recorded as evaluate records it: the recordings from the corpus's
        # 22050 Hz; the generated audio made at 16 kHz, tiny-test's at its 8 kHz (resampled back)
        recorded = {"files": 2, "sampling_rates": {"22050": 2}, "channels": {"1": 2}, "resampled_from": {"22050": 2},
                    "mixed_to_mono": 0}
        made = {rate: {"files": 2, "sampling_rates": {rate: 2}, "channels": {"1": 2},
                       "resampled_from": {rate: 2} if rate == "8000" else {}, "mixed_to_mono": 0}
                for rate in ("16000", "8000")}
        read = {"resample": True, "resampler": "soxr HQ", "mix_to_mono": False}
        assert {k: report["settings"][k] for k in (*read, "inputs")} == {
            **read, "inputs": {"reference": recorded, "generated": made["16000"]}}
        assert results["settings"] == {when: {**read, "inputs": {"reference": recorded, "generated": made[rate]}}
                                       for when, rate in (("start", "16000"), ("end", "16000"), ("tiny-test", "8000"))}
        assert "held-out clips at 16000 Hz (the recordings resampled from 22050 Hz by soxr HQ)" in markdown
        assert "16000 Hz" in (out / "evaluation.html").read_text()

        # hifigan evaluate with the demo's config re-scores the written pairs at 16 kHz.
        assert main(["evaluate", "--reference", str(out / "reference"), "--generated", str(out / "generated"),
                     "--config", str(config_path), "--metrics", "mel_l1"]) == 0
        assert "measured at 16000 Hz" in capsys.readouterr().out
        # train --resume continues on the 22050 Hz corpus with no data options: the run remembers --resample.
        steps = results["steps"]
        assert main(["train", "--resume", str(out / "run"), "--max-steps", str(steps + 1), "--no-progress"]) == 0
        assert read_checkpoint(out / "run" / "checkpoints" / "latest.pt")["step"] == steps + 1
    finally:
        shutil.rmtree(out, ignore_errors=True)  # the run's checkpoints
