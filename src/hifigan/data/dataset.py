"""The official training items (`meldataset.py`): int16 audio / 32768, peak-normalised to 0.95, a random
`segment_size` window (zero-padded when shorter), the input mel (fmax) and the loss mel (fmax_for_loss).
Fine-tuning on teacher-forced mels keeps the audio as recorded and cuts mel and audio at the same frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import librosa
import numpy as np
import torch
from torch.utils.data import Dataset

from hifigan.audio import load_audio, load_mel
from hifigan.config import HifiganConfig
from hifigan.data.clip_scan import Clip
from hifigan.mel import MelSpectrogram

PEAK = 0.95  # official: librosa.util.normalize(audio) * 0.95
MEL_FLOOR = math.log(1e-5)  # the front-end's log floor: the value of silence, used to pad teacher-forced mels


def normalize_peak(audio: np.ndarray) -> np.ndarray:
    """The official loudness normalisation: peak to 0.95."""
    return (librosa.util.normalize(audio) * PEAK).astype(np.float32)


class VocoderDataset(Dataset):
    """Items (input mel [num_mels, F], audio [T], loss mel [num_mels, F], clip index) as the official code makes.

    `train=True`: random `segment_size` windows; `train=False`: whole utterances (validation).
    With teacher-forced mels (clips carrying `mel_path`) the audio is not normalised and the window
    starts on a random mel frame, the audio at frame * hop.
    """

    def __init__(
        self, clips: Sequence[Clip], config: HifiganConfig, *, train: bool, seed: int = 1234,
        resample: bool = False, mix_to_mono: bool = False,
    ) -> None:
        self.clips = list(clips)
        self.config, self.train, self.seed = config, train, seed
        self.resample, self.mix_to_mono = resample, mix_to_mono
        self.input_mel = MelSpectrogram(**config.mel_kwargs())
        self.loss_mel = MelSpectrogram(**config.mel_kwargs(for_loss=True))
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the random windows of this epoch (deterministic in seed, epoch and index)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
        clip = self.clips[index]
        cfg = self.config
        rng = np.random.default_rng([self.seed, self.epoch, index])
        audio = load_audio(clip.path, cfg.sampling_rate, resample=self.resample, mix_to_mono=self.mix_to_mono)
        if clip.mel_path is None:
            audio = normalize_peak(audio)
            if self.train:
                audio = self._window(audio, rng)
            mel = self.input_mel(torch.from_numpy(audio))
        else:
            mel = torch.from_numpy(load_mel(clip.mel_path, cfg.num_mels))
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

    def _aligned_window(
        self, mel: torch.Tensor, audio: np.ndarray, rng: np.random.Generator
    ) -> tuple[torch.Tensor, np.ndarray]:
        hop, seg = self.config.hop_size, self.config.segment_size
        frames = seg // hop
        if audio.shape[0] >= seg:
            start = int(rng.integers(0, max(mel.shape[1] - frames, 1)))  # official: randint(0, F - frames - 1)
            mel = mel[:, start : start + frames]
            audio = audio[start * hop : (start + frames) * hop]
        if mel.shape[1] < frames:
            mel = torch.nn.functional.pad(mel, (0, frames - mel.shape[1]), value=MEL_FLOOR)
        if audio.shape[0] < seg:
            audio = np.pad(audio, (0, seg - audio.shape[0]))
        return mel, audio
