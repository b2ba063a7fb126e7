"""Training data: corpus discovery, the validation split, an up-front scan, and the official segment dataset.

Preprocessing follows the official `meldataset.py`: int16 audio / 32768, peak-normalised to 0.95, a random
`segment_size` window (zero-padded when shorter), the input mel (fmax) and the loss mel (fmax_for_loss).
Fine-tuning on teacher-forced mels keeps the audio as recorded and cuts mel and audio at the same frame.
Every random choice comes from (seed, epoch, clip index), so the data are identical for any number of
workers and after a resume.
"""

from __future__ import annotations

import math
import os
import random
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import librosa
import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler

from hifigan.audio import (
    AUDIO_SUFFIXES,
    MAX_WAV_VALUE,
    MelSpectrogram,
    audio_info,
    check_format,
    find_audio,
    load_audio,
    load_mel,
)
from hifigan.config import HifiganConfig
from hifigan.errors import AudioError, HifiganError

PEAK = 0.95  # official: librosa.util.normalize(audio) * 0.95
SILENCE_PEAK = 1.0 / MAX_WAV_VALUE  # a file whose peak is below one int16 step holds only digital silence
CLIP_LEVEL = 1.0 - 2.0 / MAX_WAV_VALUE
CLIP_FRACTION = 1e-3  # warn when more than 0.1% of the samples sit at full scale
MEL_FLOOR = math.log(1e-5)  # the front-end's log floor: the value of silence, used to pad teacher-forced mels


# ---------------------------------------------------------------- which files
def read_filelist(path: str | os.PathLike, wav_root: str | os.PathLike) -> list[Path]:
    """LJSpeech-style `id|text` lines (official training.txt / validation.txt) -> wav_root/<id>.wav."""
    path, wav_root = Path(path), Path(wav_root)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise HifiganError(path, "no such file list") from None
    except (OSError, UnicodeDecodeError) as e:
        raise HifiganError(path, f"cannot read file list ({e})") from None
    files = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        clip_id = line.split("|", 1)[0].strip()
        if not clip_id:
            raise HifiganError(path, f"line {number}: empty id (expected 'id|text')")
        name = clip_id if Path(clip_id).suffix.lower() in AUDIO_SUFFIXES else f"{clip_id}.wav"
        files.append(wav_root / name)
    if not files:
        raise HifiganError(path, "file list holds no entries")
    return files


def split_validation(
    files: Sequence[Path], *, count: int | None = None, fraction: float | None = None, seed: int = 1234
) -> tuple[list[Path], list[Path]]:
    """Hold out `count` files (or `fraction` of them; default 5%, at least 1), chosen by a seeded shuffle."""
    files = sorted(files)
    if len(files) < 2:
        raise HifiganError(None, f"need at least 2 audio files to hold out a validation clip, found {len(files)}")
    if count is None:
        fraction = 0.05 if fraction is None else fraction
        if not 0 < fraction < 1:
            raise HifiganError(None, f"validation fraction must be in (0, 1), got {fraction}")
        count = max(1, round(fraction * len(files)))
    if not 1 <= count < len(files):
        raise HifiganError(None, f"cannot hold out {count} of {len(files)} files (keep at least one for training)")
    order = list(range(len(files)))
    random.Random(seed).shuffle(order)
    held = set(order[:count])
    train = [f for i, f in enumerate(files) if i not in held]
    valid = [f for i, f in enumerate(files) if i in held]
    return train, valid


@dataclass
class Corpus:
    """Where the data come from: a folder, or file lists with a wav root; and how validation is chosen."""

    folder: Path | None = None
    train_list: Path | None = None
    valid_list: Path | None = None
    wav_root: Path | None = None
    valid_count: int | None = None
    valid_fraction: float | None = None

    def resolve(self, seed: int) -> tuple[list[Path], list[Path]]:
        """The training and validation files (validation: the explicit list, else a seeded held-out part)."""
        if (self.folder is None) == (self.train_list is None):
            raise HifiganError(None, "give either a corpus folder or a training file list (not both)")
        if self.train_list is not None:
            root = self.wav_root if self.wav_root is not None else self.train_list.parent
            files = read_filelist(self.train_list, root)
        else:
            root = self.wav_root if self.wav_root is not None else self.folder
            files = find_audio(self.folder, recursive=True)
        if self.valid_list is not None:
            valid = read_filelist(self.valid_list, root)
            held = {p.resolve() for p in valid}
            return [f for f in files if f.resolve() not in held], valid
        return split_validation(files, count=self.valid_count, fraction=self.valid_fraction, seed=seed)


# ---------------------------------------------------------------- scan
@dataclass
class Clip:
    """One usable file: its path, an id for logs, its length in samples at the model rate, an optional mel."""

    path: Path
    num_samples: int
    mel_path: Path | None = None

    @property
    def id(self) -> str:
        return self.path.stem


@dataclass
class ScanReport:
    """The outcome of scanning a file set: the usable clips and every file that was skipped or suspicious."""

    clips: list[Clip] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    clipping: list[Path] = field(default_factory=list)
    silent: list[Path] = field(default_factory=list)
    misaligned: list[tuple[Path, str]] = field(default_factory=list)

    def summary(self, what: str) -> str:
        parts = [f"{what}: {len(self.clips)} clips"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} unreadable or empty skipped")
        if self.silent:
            parts.append(f"{len(self.silent)} silence-only skipped")
        if self.clipping:
            parts.append(f"{len(self.clipping)} clipping (kept)")
        return ", ".join(parts)


def scan_clips(
    files: Sequence[Path],
    config: HifiganConfig,
    *,
    resample: bool = False,
    mix_to_mono: bool = False,
    input_mels: Path | None = None,
    what: str = "training set",
) -> ScanReport:
    """Read every file once before training, so a bad file is skipped and counted, never a crash mid-epoch.

    Unreadable or empty files are skipped; silence-only files are skipped (normalising them would turn
    noise into full-scale audio); clipping files are kept. A sample rate other than the config's, or
    more than one channel, is an error naming the file unless --resample / --mix-to-mono is given.
    Warnings are issued once, with counts and the first few names.
    """
    report = ScanReport()
    min_samples = config.n_fft  # the mel front-end needs more than (n_fft - hop) / 2 samples; keep a margin
    for path in files:
        try:
            info = audio_info(path)
        except AudioError as e:
            report.skipped.append((path, e.problem))
            continue
        if info.frames == 0:
            report.skipped.append((path, "contains no audio samples"))
            continue
        check_format(path, info.channels, info.samplerate, config.sampling_rate, resample=resample,
                     mix_to_mono=mix_to_mono)  # a format problem stops the run: it applies to the whole corpus
        try:
            audio = load_audio(path, config.sampling_rate, resample=resample, mix_to_mono=mix_to_mono)
        except AudioError as e:
            report.skipped.append((path, e.problem))
            continue
        if audio.shape[0] <= min_samples:
            report.skipped.append((path, f"too short ({audio.shape[0]} samples, need more than {min_samples})"))
            continue
        peak = float(np.abs(audio).max())
        if peak < SILENCE_PEAK:
            report.silent.append(path)
            continue
        if np.mean(np.abs(audio) >= CLIP_LEVEL) > CLIP_FRACTION:
            report.clipping.append(path)
        mel_path = None
        if input_mels is not None:
            mel_path = Path(input_mels) / f"{path.stem}.npy"
            frames = load_mel(mel_path, config.num_mels).shape[1]  # missing or malformed: an error
            expected = audio.shape[0] / config.hop_size
            if abs(frames - expected) > max(2.0, 0.05 * expected):
                report.misaligned.append((mel_path, f"{frames} frames, the audio implies {expected:.0f}"))
        report.clips.append(Clip(path, int(audio.shape[0]), mel_path))
    _warn(report, what)
    if not report.clips:
        raise HifiganError(None, f"{what}: no usable audio files ({len(report.skipped)} skipped, "
                                 f"{len(report.silent)} silent)")
    return report


def _warn(report: ScanReport, what: str) -> None:
    groups = (
        (report.skipped, "skipped {n} unreadable or empty files"),
        ([(p, "") for p in report.silent], "skipped {n} silence-only files"),
        (report.misaligned, "{n} teacher-forced mels do not match their audio length (kept)"),
        ([(p, "") for p in report.clipping], "{n} files clip (kept)"),
    )
    for items, message in groups:
        if items:
            shown = "; ".join(f"{p} ({why})" if why else str(p) for p, why in items[:3])
            more = " ..." if len(items) > 3 else ""
            warnings.warn(f"{what}: {message.format(n=len(items))}: {shown}{more}", stacklevel=3)


# ---------------------------------------------------------------- dataset
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


# ---------------------------------------------------------------- order
class ResumableSampler(DistributedSampler):
    """DistributedSampler (seeded shuffle per epoch, one shard per rank) that can start part-way into an epoch.

    `skip` drops this rank's first samples of the epoch, so a resumed run sees exactly the order it
    would have seen without the interruption.
    """

    def __init__(self, dataset: Dataset, num_replicas: int, rank: int, seed: int) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed, drop_last=False)
        self.skip = 0

    def __iter__(self) -> Iterator[int]:
        return iter(list(super().__iter__())[self.skip :])

    def __len__(self) -> int:
        return max(0, self.num_samples - self.skip)

