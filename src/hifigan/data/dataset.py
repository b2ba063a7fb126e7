"""The official training items (`meldataset.py`): int16 audio / 32768, peak-normalised to 0.95 (the config's
`audio_peak`), a random
`segment_size` window (zero-padded when shorter), the input mel (fmax) and the loss mel (fmax_for_loss).
With centred mel framing (Parallel WaveGAN's), the input mel is the whole clip's, cut at a random frame with its
samples. Fine-tuning on teacher-forced mels keeps the audio as recorded and cuts mel and audio at the same frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import librosa
import numpy as np
import torch
from torch.utils.data import Dataset

from hifigan.config import HifiganConfig
from hifigan.data.clip_scan import Clip
from hifigan.data.packed_clips import PackedClips
from hifigan.data.segments import load_clip
from hifigan.data.shortest_segment import check_segment_size
from hifigan.data.teacher_mels import load_teacher_mel
from hifigan.mel import MelSpectrogram
from hifigan.melconv.model import ModelMel


def normalize_peak(audio: np.ndarray, peak: float | None) -> np.ndarray:
    """The official loudness normalisation, librosa.util.normalize(audio) * peak (the config's audio_peak: 0.95);
    None: the audio as it is."""
    if peak is None:
        return audio
    return (librosa.util.normalize(audio) * peak).astype(np.float32)


class VocoderDataset(Dataset):
    """Items (input mel [num_mels, F], audio [T], loss mel [num_mels, F], clip index) as the official code makes.

    `train=True`: random `segment_size` windows; `train=False`: whole utterances (validation).
    With teacher-forced mels (clips carrying `mel_path`, in `mel_convention`: None is the model's own), or centred
    framing, the window starts on a random mel frame, the audio at frame * hop; teacher-forced audio is not normalised.
    """

    def __init__(
        self, clips: Sequence[Clip], config: HifiganConfig, *, train: bool, seed: int = 1234,
        resample: bool = False, mix_to_mono: bool = False, mel_convention: str | None = None, cli: bool,
    ) -> None:
        self.clips = PackedClips(clips)  # arrays: the workers' reads copy none of it (data.packed_clips)
        self.config, self.train, self.seed = config, train, seed
        self.resample, self.mix_to_mono, self.mel_convention = resample, mix_to_mono, mel_convention
        self.cli = cli  # how the hints of a teacher mel and of a format problem name a setting (option_names)
        self.input_mel = MelSpectrogram(**config.mel_kwargs())
        self.loss_mel = MelSpectrogram(**config.mel_kwargs(for_loss=True))
        if train:
            check_segment_size(config, input_mel=self.input_mel, loss_mel=self.loss_mel)
        # The input front-end's value of silence per bin [num_mels, 1]: what pads a short teacher-forced mel.
        self.silence = self.input_mel(torch.zeros(config.n_fft))[:, :1]
        # The mel the model takes, which teacher-forced mels are read as (converted from their declared convention).
        self.model_mel = ModelMel.of(config) if self.clips.has_mels else None
        self.epoch = 0
        # librosa.util loads on first use (~0.5 s of CPU: numba's caches). Loaded here, in the process that builds the
        # DataLoader, its forked workers inherit it; else each worker pays it again, every epoch.
        librosa.util.normalize  # noqa: B018

    def set_epoch(self, epoch: int) -> None:
        """Select the random windows of this epoch (deterministic in seed, epoch and index) for a bare index."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
        """Clip `key`'s item: an index (the window of set_epoch's epoch) or (epoch, index), that epoch's window
        (data.sampler.EpochKeyed, for DataLoader workers that outlive an epoch)."""
        epoch, index = key if isinstance(key, tuple) else (self.epoch, key)
        clip = self.clips[index]
        cfg = self.config
        rng = np.random.default_rng([self.seed, epoch, index])
        audio = load_clip(clip.path, cfg.sampling_rate, resample=self.resample, mix_to_mono=self.mix_to_mono,
                          cli=self.cli)
        if clip.mel_path is None and self.input_mel.framing == "center":
            mel, audio = self._centred(normalize_peak(audio, cfg.audio_peak), rng)
        elif clip.mel_path is None:
            audio = normalize_peak(audio, cfg.audio_peak)
            if self.train:
                audio = self._window(audio, rng)
            mel = self.input_mel(torch.from_numpy(audio))
        else:
            mel = torch.from_numpy(load_teacher_mel(clip.mel_path, self.model_mel, self.mel_convention, cli=self.cli))
            if self.train:
                mel, audio = self._aligned_window(mel, audio, rng)
        audio_t = torch.from_numpy(np.ascontiguousarray(audio))
        mel_loss = self.loss_mel(audio_t)
        return mel, audio_t, mel_loss, index

    def _window(self, audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        seg = self.config.segment_size
        if audio.shape[0] >= seg:
            start = int(rng.integers(0, audio.shape[0] - seg + 1))
            return audio[start : start + seg]
        return np.pad(audio, (0, seg - audio.shape[0]))

    def _centred(self, audio: np.ndarray, rng: np.random.Generator) -> tuple[torch.Tensor, np.ndarray]:
        """Centred framing: the mel of the whole clip (zero-padded to a segment when shorter, as the official code
        pads). Validation keeps it and the clip; training cuts segment_size // hop frames at a random frame and
        their samples [start hop, (start + frames) hop), the clip's end padded with its last value where the last
        frames need it (Parallel WaveGAN: np.pad(audio, (0, fft_size), mode="edge")[: frames * hop])."""
        hop, seg = self.config.hop_size, self.config.segment_size
        if self.train and audio.shape[0] < seg:
            audio = np.pad(audio, (0, seg - audio.shape[0]))
        mel = self.input_mel(torch.from_numpy(audio))
        if not self.train:
            return mel, audio
        frames, total = seg // hop, mel.shape[1]
        start = int(rng.integers(0, total - frames + 1))
        aligned = np.pad(audio, (0, max(0, total * hop - audio.shape[0])), mode="edge")
        return mel[:, start : start + frames], aligned[start * hop : (start + frames) * hop]

    def _aligned_window(
        self, mel: torch.Tensor, audio: np.ndarray, rng: np.random.Generator
    ) -> tuple[torch.Tensor, np.ndarray]:
        hop, seg = self.config.hop_size, self.config.segment_size
        frames = seg // hop
        if audio.shape[0] >= seg:
            start = int(rng.integers(0, max(mel.shape[1] - frames, 1)))  # official: randint(0, F - frames - 1)
            mel = mel[:, start : start + frames]
            audio = audio[start * hop : (start + frames) * hop]
        mel = mel[:, :frames]  # a short clip's mel a few frames long (the official pad by a negative amount crops)
        if mel.shape[1] < frames:
            mel = torch.cat([mel, self.silence.expand(-1, frames - mel.shape[1])], dim=1)
        if audio.shape[0] < seg:
            audio = np.pad(audio, (0, seg - audio.shape[0]))
        return mel, audio
