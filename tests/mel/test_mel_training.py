"""Training computes the config's front-end: the items' mels follow mel_convention, centred framing cuts aligned
windows from the whole clip's mel, validation pairs every sample, and statistics travel inside the checkpoint."""

from __future__ import annotations

import json
import math
import shutil
import warnings

import numpy as np
import pytest
import soundfile as sf
import torch

from hifigan.audio import find_audio, load_audio
from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.data.clip_scan import scan_clips
from hifigan.data.dataset import VocoderDataset, normalize_peak
from hifigan.inference import Vocoder
from hifigan.mel import MelSpectrogram
from hifigan.models import Generator
from hifigan.training.validation import Validation
from tests.support.tiny import tiny_config


def clips_of(folder, cfg):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scan_clips(find_audio(folder, recursive=True), cfg, cli=True).clips


def test_training_item_of_a_log10_config_is_log10(tiny_corpus):
    """The input mel is the log10 front-end of the audio window; the loss mel stays the official nats."""
    cfg = tiny_config(mel_convention="log10")
    clips = clips_of(tiny_corpus, cfg)
    frontend = MelSpectrogram(**cfg.mel_kwargs())
    magnitude = MelSpectrogram(**{**cfg.mel_kwargs(), "convention": "linear-magnitude", "floor": None})
    loss = MelSpectrogram(**tiny_config().mel_kwargs(for_loss=True))
    ds = VocoderDataset(clips, cfg, train=True, seed=7, cli=True)
    for i in range(len(clips)):
        mel, audio, mel_loss, _ = ds[i]
        assert torch.equal(mel, frontend(audio))
        torch.testing.assert_close(mel, torch.log10(torch.clamp(magnitude(audio), min=1e-10)), rtol=0, atol=1e-6)
        assert torch.equal(mel_loss, loss(audio))


def _whole(cfg, clip, frontend):
    """A clip as the dataset prepares it for centred framing: peak-normalised, zero-padded to a segment, its mel."""
    full = normalize_peak(load_audio(clip.path), 0.95)
    if len(full) < cfg.segment_size:
        full = np.pad(full, (0, cfg.segment_size - len(full)))
    return full, frontend(torch.from_numpy(full))


def _check_centred_item(cfg, clip, mel, audio, frontend) -> int:
    """The window is frames [s, s + frames) of the whole clip's mel and samples [s hop, (s + frames) hop) of the
    clip, its end padded with the last sample as Parallel WaveGAN pads; returns s."""
    hop, frames = cfg.hop_size, cfg.segment_size // cfg.hop_size
    full, whole = _whole(cfg, clip, frontend)
    assert whole.shape[1] == 1 + len(full) // hop
    assert mel.shape == (cfg.num_mels, frames) and audio.shape == (cfg.segment_size,)
    starts = [s for s in range(whole.shape[1] - frames + 1) if torch.equal(whole[:, s : s + frames], mel)]
    assert starts, "the window is no run of the whole clip's frames"
    start = starts[0]
    aligned = np.pad(full, (0, cfg.n_fft), mode="edge")[: whole.shape[1] * hop]  # preprocess.py
    np.testing.assert_array_equal(audio.numpy(), aligned[start * hop : (start + frames) * hop])
    return start


def test_centred_training_items_are_aligned_windows_of_the_whole_clip(tiny_corpus):
    cfg = tiny_config(mel_framing="center", mel_convention="log10", mel_magnitude_eps=0.0)
    clips = clips_of(tiny_corpus, cfg)
    frontend = MelSpectrogram(**cfg.mel_kwargs())
    ds = VocoderDataset(clips, cfg, train=True, seed=3, cli=True)
    for epoch in range(2):
        ds.set_epoch(epoch)
        for i, clip in enumerate(clips):
            mel, audio, _, _ = ds[i]
            _check_centred_item(cfg, clip, mel, audio, frontend)
    # A clip one frame longer than its window, whose length is no multiple of the hop: the window that ends on the
    # last frame takes the edge-padded samples past the clip's end.
    longest = max(clips, key=lambda c: c.num_samples if c.num_samples % cfg.hop_size else 0)
    cfg = tiny_config(mel_framing="center", segment_size=longest.num_samples // 16 * 16)
    frontend, ds = MelSpectrogram(**cfg.mel_kwargs()), VocoderDataset([longest], cfg, train=True, seed=3, cli=True)
    starts = set()
    for epoch in range(12):
        ds.set_epoch(epoch)
        mel, audio, _, _ = ds[0]
        starts.add(_check_centred_item(cfg, longest, mel, audio, frontend))
    assert starts == {0, 1}


def test_centred_validation_pairs_every_sample(tiny_corpus):
    """Whole utterances: the mel has 1 + T // hop frames, the generated audio is cut to the recording's T samples,
    sample n against sample n."""
    cfg = tiny_config(mel_framing="center")
    clips = clips_of(tiny_corpus, cfg)[:3]
    valid = VocoderDataset(clips, cfg, train=False, cli=True)
    torch.manual_seed(0)
    generator = Generator(cfg)
    validation = Validation(valid, cfg, torch.device("cpu"), media_clips=0)
    frontend = MelSpectrogram(**cfg.mel_kwargs())
    for i, mel, audio, y_hat in validation.vocode(generator):
        full = normalize_peak(load_audio(clips[i].path), 0.95)
        np.testing.assert_array_equal(audio.numpy(), full)
        assert torch.equal(mel, frontend(torch.from_numpy(full))) and mel.shape[1] == 1 + len(full) // cfg.hop_size
        generator.eval()
        with torch.no_grad():
            whole = generator(mel.unsqueeze(0)).reshape(-1)
        generator.train()
        assert y_hat.shape == (len(full),) and whole.shape[0] > len(full)
        torch.testing.assert_close(y_hat, whole[: len(full)])
    assert math.isfinite(validation.run(generator, 0, 0, None))


@pytest.mark.usefixtures("single_thread")
def test_a_checkpoint_trained_with_statistics_vocodes_without_the_file(tmp_path, tiny_corpus):
    """`hifigan train` reads mel_stats (here beside the config) once and stores the values in the config it saves."""
    cfg = tiny_config(mel_convention="log10")
    frontend = MelSpectrogram(**cfg.mel_kwargs())
    wavs = find_audio(tiny_corpus, recursive=True)
    audio = [torch.from_numpy(normalize_peak(load_audio(p), 0.95)) for p in wavs]
    frames = np.concatenate([frontend(a).numpy() for a in audio], axis=1)
    mean, std = frames.mean(axis=1), frames.std(axis=1)
    folder = tmp_path / "config"
    folder.mkdir()
    np.savez(folder / "stats.npz", mean=mean, std=std, convention="log10")
    (folder / "tiny.json").write_text(json.dumps({**cfg.to_dict(), "mel_stats": "stats.npz"}))
    run = tmp_path / "run"
    try:
        assert main(["train", "--config", str(folder / "tiny.json"), "--corpus", str(tiny_corpus), "--out", str(run),
                     "--max-steps", "1", "--no-progress", "--valid-count", "2"]) == 0
        shutil.rmtree(folder)
        checkpoint = run / "checkpoints" / "latest.pt"
        stored = read_checkpoint(checkpoint)["config"]["mel_stats"]
        assert stored == {"mean": mean.tolist(), "std": std.tolist()}
        assert main(["vocode", "-c", str(checkpoint), "-o", str(tmp_path / "out"), str(wavs[0])]) == 0
        # Copy synthesis computed the normalised log10 mel of the recording.
        recording = load_audio(wavs[0])
        normalised = (frontend(torch.from_numpy(recording)).numpy() - mean[:, None]) / std[:, None]
        expected = Vocoder.from_checkpoint(checkpoint)(normalised.astype(np.float32)).numpy()
        written = sf.read(tmp_path / "out" / f"{wavs[0].stem}.wav", dtype="float32")[0]
        assert np.abs(written - expected).max() <= 1 / 32768
    finally:
        shutil.rmtree(run, ignore_errors=True)  # the run's checkpoints


def test_short_teacher_forced_mel_is_padded_with_the_conventions_silence(tmp_path):
    """A teacher-forced mel shorter than a segment is padded with what the front-end gives for silence: for log10,
    log10 of each bin's sqrt(1e-9) through the filterbank (not the official ln(1e-5))."""
    cfg = tiny_config(mel_convention="log10")
    frontend = MelSpectrogram(**cfg.mel_kwargs())
    wavs, mels = tmp_path / "wavs", tmp_path / "mels"
    wavs.mkdir()
    mels.mkdir()
    sf.write(wavs / "short.wav", (np.random.default_rng(0).standard_normal(300) * 3000).astype(np.int16),
             cfg.sampling_rate, subtype="PCM_16")
    np.save(mels / "short.npy", frontend(torch.from_numpy(load_audio(wavs / "short.wav"))).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clips = scan_clips(find_audio(wavs), cfg, input_mels=mels, cli=True).clips
    mel, _, _, _ = VocoderDataset(clips, cfg, train=True, seed=0, cli=True)[0]
    frames = np.load(mels / "short.npy").shape[1]
    silence = np.log10(np.maximum(frontend._basis_np.astype(np.float64).sum(axis=1) * np.sqrt(1e-9), 1e-10))
    assert mel.shape[1] == cfg.segment_size // cfg.hop_size > frames
    np.testing.assert_allclose(mel[:, frames:].numpy(), np.repeat(silence[:, None], mel.shape[1] - frames, 1),
                               rtol=0, atol=1e-5)
