"""`hifigan train --resample` at another rate than the corpus: the up-front scan and the dataset read every clip
resampled to the config's rate (soxr HQ), and the run trains and remembers it; without --resample, one line."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
import torch

from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus
from hifigan.data.corpus_scan import ScannedCorpus, scan_corpus
from hifigan.data.dataset import VocoderDataset, normalize_peak
from hifigan.data.scan_cache import gather_facts
from hifigan.data.scan_row import ReadSettings
from hifigan.mel import MelSpectrogram
from tests.support.files import CORPUS, SCAN_ONLY, SHORTEST_CLIPS, left_in, save_config_json
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")


def at_16k(path: Path) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32")
    assert rate == 22050
    return soxr.resample(audio, 22050, 16000, quality="HQ")


def test_scan_and_dataset_read_the_clips_at_the_configs_rate():
    config = tiny_config(sampling_rate=16000)
    files = [CORPUS / f"{clip}.wav" for clip in SHORTEST_CLIPS[:3]]
    clips = scan_clips(files, config, resample=True, cli=True).clips
    assert [c.num_samples for c in clips] == [len(at_16k(p)) for p in files]
    dataset = VocoderDataset(clips, config, train=False, resample=True, cli=True)
    frontend = MelSpectrogram(**config.mel_kwargs())
    for i, path in enumerate(files):
        mel, audio, _, _ = dataset[i]
        np.testing.assert_allclose(audio.numpy(), normalize_peak(at_16k(path), 0.95), atol=1e-6)
        assert mel.shape == (config.num_mels, len(audio) // config.hop_size)
        assert torch.equal(mel, frontend(audio))
    train_item = VocoderDataset(clips, config, train=True, resample=True, cli=True)[0]
    assert train_item[1].shape == (config.segment_size,)


def test_train_resamples_the_bundled_corpus_only_when_asked(tmp_path, capsys):
    config = save_config_json(tmp_path / "tiny16k.json", tiny_config(sampling_rate=16000))
    out = tmp_path / "run"
    args = ["train", "--config", str(config), "--corpus", str(CORPUS), "--out", str(out), "--max-steps", "1",
            "--valid-count", "1", "--validation-interval", "0", "--no-progress"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sample rate is 22050 Hz, expected 16000 Hz (use --resample)" in err
    assert str(CORPUS) in err and left_in(out) == SCAN_ONLY  # for the rerun
    try:
        assert main([*args, "--resample"]) == 0
        lines = capsys.readouterr().err.splitlines()
        assert any(line.endswith("training set: 23 clips; validation set: 1 clip") for line in lines)
        ckpt = read_checkpoint(out / "checkpoints" / "latest.pt")
    finally:
        shutil.rmtree(out, ignore_errors=True)  # the run's checkpoints
    assert ckpt["step"] == 1 and ckpt["config"]["sampling_rate"] == 16000 and ckpt["data"]["resample"] is True


def test_a_run_refused_after_the_scan_keeps_it_and_the_resampled_rerun_reads_only_the_other_rate(
        tmp_path, tiny_corpus, capsys):
    """The scan's cache is saved before the checks that refuse the run, and --resample reads again only the files it
    changes: at a 300k-file corpus, the corrected rerun does not read every file again."""
    corpus = tmp_path / "c"
    shutil.copytree(tiny_corpus, corpus)
    audio, rate = sf.read(corpus / "clip00.wav", dtype="int16")
    sf.write(corpus / "fast.wav", np.repeat(audio, 2), 2 * rate, subtype="PCM_16")
    config = save_config_json(tmp_path / "tiny.json", tiny_config())
    out = tmp_path / "run"
    args = ["train", "--config", str(config), "--corpus", str(corpus), "--out", str(out), "--max-steps", "0",
            "--valid-count", "1", "--validation-interval", "0", "--no-progress"]
    assert main(args) == 2
    assert "fast.wav: sample rate is 16000 Hz, expected 8000 Hz (use --resample)" in capsys.readouterr().err
    assert main([*args, "--resample"]) == 0
    said = capsys.readouterr().err
    assert f"scan: 9 files, 1 read, 8 unchanged ({out / 'scan-cache.npz'})" in said
    assert "of it held out; 1 clip resampled to 8000 Hz (1 down from 16000 Hz)\n" in said


def test_the_scan_line_counts_the_usable_clips_that_resample_and_mix_to_mono_change(tmp_path, tiny_corpus):
    """By rate, up or down, and the clips mixed down; a file they change that does not train after (silent, or too
    short at the model rate: 100 samples at 16 kHz are 50 at 8 kHz, n_fft 64) is counted apart, so that the line
    accounts for every file an option changed, as the set's summary counts the skipped ones."""
    corpus = shutil.copytree(tiny_corpus, tmp_path / "c")
    audio, rate = sf.read(corpus / "clip00.wav", dtype="float32")
    sf.write(corpus / "slow.wav", audio[::2], rate // 2)
    for name in ("fast1.wav", "fast2.wav", "fast3.wav"):
        sf.write(corpus / name, np.repeat(audio, 2), 2 * rate)
    sf.write(corpus / "silent.wav", np.zeros(2 * len(audio), np.float32), 2 * rate)
    sf.write(corpus / "stereo.wav", np.stack([audio, audio], axis=1), rate)
    sf.write(corpus / "fast_stereo.wav", np.stack([np.repeat(audio, 2)] * 2, axis=1), 2 * rate)
    sf.write(corpus / "brief.wav", np.repeat(audio[:50], 2), 2 * rate)
    config = tiny_config()

    def scanned(resample: bool, mix_to_mono: bool) -> ScannedCorpus:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the silent file's
            return scan_corpus(Corpus(folder=corpus, valid_count=2), config,
                               lambda files: gather_facts(files, ReadSettings(rate, resample, mix_to_mono)),
                               resample=resample, mix_to_mono=mix_to_mono)

    both = scanned(True, True)
    assert both.converted(rate) == (
        "; 5 clips resampled to 8000 Hz (1 up from 4000 Hz, 4 down from 16000 Hz) and 2 files resampled then skipped "
        "(1 too short, 1 silence-only); 2 clips mixed to mono")
    # its count is at the model rate, and the reason says so: 100 samples at 16 kHz would pass n_fft 64
    assert [(p.name, why) for p, why in both.train.short + both.valid.short] == [
        ("brief.wav", "too short (50 samples once resampled to 8000 Hz, need more than 64)")]
    (corpus / "fast_stereo.wav").unlink()
    (corpus / "stereo.wav").unlink()
    (corpus / "silent.wav").unlink()
    assert scanned(True, False).converted(rate) == (
        "; 4 clips resampled to 8000 Hz (1 up from 4000 Hz, 3 down from 16000 Hz) and 1 file resampled then skipped "
        "(1 too short)")
    sf.write(corpus / "stereo_short.wav", np.stack([audio[:50]] * 2, axis=1), rate)
    assert scanned(True, True).converted(rate).endswith("; 1 file mixed to mono then skipped (1 too short)")
    for name in ("slow.wav", "fast1.wav", "fast2.wav", "fast3.wav", "brief.wav", "stereo_short.wav"):
        (corpus / name).unlink()
    assert scanned(False, False).converted(rate) == ""
