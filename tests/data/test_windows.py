"""Training windows at their edges: a clip of exactly a segment, one a sample longer (both windows reachable),
a short clip zero-padded at its end (also with centred framing), centred framing's last window, a teacher-forced mel
one frame longer than a window (the official start range never starts on its last frame), and the shortest segment
the front-end takes."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from hifigan.data.dataset import VocoderDataset
from hifigan.errors import ConfigError
from tests.support.scan import quiet_scan
from tests.support.tiny import tiny_config

CFG = tiny_config()  # segment 512, hop 16, n_fft 64, 8 kHz


def clips_of(tmp_path, lengths, cfg=CFG, input_mels=None):
    """Clips of the given lengths, int16 ramps 20 k for k = 1, 2, ... (the peak last), as the scan finds them."""
    paths = []
    for n in lengths:
        path = tmp_path / f"ramp{n}.wav"
        sf.write(path, np.arange(1, n + 1, dtype=np.int16) * 20, cfg.sampling_rate, subtype="PCM_16")
        paths.append(path)
    return quiet_scan(paths, cfg, input_mels=input_mels).clips


def ramp(n: int) -> np.ndarray:
    """The ramp of n samples, peak-normalised to 0.95 by hand: k / n * 0.95."""
    return np.arange(1, n + 1) / n * 0.95


def test_a_clip_of_one_segment_is_its_window_and_both_windows_of_one_sample_more_are_drawn(tmp_path):
    exact, longer = clips_of(tmp_path, [512, 513])
    ds = VocoderDataset([exact, longer], CFG, train=True, seed=0, cli=True)
    starts = set()
    for epoch in range(12):
        ds.set_epoch(epoch)
        np.testing.assert_allclose(ds[0][1].numpy(), ramp(512), rtol=0, atol=1e-6)
        audio = ds[1][1].numpy()
        start = round(float(audio[0]) * 513 / 0.95) - 1  # the ramp's value names its sample
        np.testing.assert_allclose(audio, ramp(513)[start : start + 512], rtol=0, atol=1e-6)
        starts.add(start)
    assert starts == {0, 1}


@pytest.mark.parametrize("framing", ["official", "center"])
def test_a_short_clip_is_zero_padded_at_its_end(tmp_path, framing):
    cfg = tiny_config() if framing == "official" else tiny_config(mel_framing="center")
    (clip,) = clips_of(tmp_path, [300], cfg)
    ds = VocoderDataset([clip], cfg, train=True, seed=0, cli=True)
    for epoch in range(4):
        ds.set_epoch(epoch)
        mel, audio, _, _ = ds[0]
        assert mel.shape == (cfg.num_mels, 32) and audio.shape == (512,)
        start = int(np.argmin(np.abs(ramp(300) - audio.numpy()[0])))
        np.testing.assert_allclose(audio.numpy()[: 300 - start], ramp(300)[start:], rtol=0, atol=1e-6)
        assert not audio[300 - start :].any()


def test_a_teacher_forced_window_never_starts_on_the_mels_last_frame(tmp_path):
    """528 samples, 33 frames, a 32-frame window: the official randint(0, 33 - 32 - 1) always starts at 0."""
    mels = tmp_path / "mels"
    mels.mkdir()
    full = np.arange(16 * 33, dtype=np.float32).reshape(16, 33)
    np.save(mels / "ramp528.npy", full)
    (clip,) = clips_of(tmp_path, [528], input_mels=mels)
    ds = VocoderDataset([clip], CFG, train=True, seed=0, cli=True)
    for epoch in range(10):
        ds.set_epoch(epoch)
        mel, audio, _, _ = ds[0]
        np.testing.assert_array_equal(mel.numpy(), full[:, :32])
        np.testing.assert_array_equal(audio.numpy(), np.arange(1, 513, dtype=np.float32) * 20 / 32768)


def test_a_segment_must_be_longer_than_the_front_ends_padding():
    """n_fft 48, hop 16: the mels reflect-pad a window by (48 - 16) / 2 = 16 samples per side, so 17 samples, in
    whole hops 32, is the shortest that trains."""
    with pytest.raises(ConfigError, match=r"segment_size 16 is too short .* per side: give 32 or more, a multiple of "
                                          r"hop_size 16$"):
        VocoderDataset([], tiny_config(n_fft=48, win_size=48, segment_size=16), train=True, cli=True)
    VocoderDataset([], tiny_config(n_fft=48, win_size=48, segment_size=32), train=True, cli=True)


def test_centred_framings_last_window_is_drawn(tmp_path):
    """Centred framing, a clip of one segment: 33 frames, 32 to a window, so starts 0 and 1 (its samples padded
    with the last one, Parallel WaveGAN's edge pad) are both drawn, each the whole clip's mel and samples there."""
    cfg = tiny_config(mel_framing="center")
    (clip,) = clips_of(tmp_path, [512], cfg)
    whole, _, _, _ = VocoderDataset([clip], cfg, train=False, cli=True)[0]
    assert whole.shape == (cfg.num_mels, 33)
    edge = np.concatenate([ramp(512), np.full(16, ramp(512)[-1])])
    ds = VocoderDataset([clip], cfg, train=True, seed=0, cli=True)
    starts = set()
    for epoch in range(12):
        ds.set_epoch(epoch)
        mel, audio, _, _ = ds[0]
        start = (round(float(audio[0]) * 512 / 0.95) - 1) // 16  # the ramp's value names its sample, so its frame
        np.testing.assert_allclose(audio.numpy(), edge[start * 16 : start * 16 + 512], rtol=0, atol=1e-6)
        np.testing.assert_array_equal(mel.numpy(), whole.numpy()[:, start : start + 32])
        starts.add(start)
    assert starts == {0, 1}
