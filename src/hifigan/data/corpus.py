"""Which files a run trains and validates on: a corpus folder, or LJSpeech-style file lists with a wav root; the
validation files are an explicit list or a seeded held-out part."""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hifigan.audio import AUDIO_SUFFIXES, find_audio
from hifigan.errors import HifiganError


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
