"""Files the tests build: configs as json, short WAV corpora; where the repository's own data lies; state equality."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import torch

from hifigan.config import HifiganConfig

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "data" / "ljspeech-mini"  # the bundled 24 LJSpeech clips (22050 Hz)
SHORTEST_CLIPS = ("LJ001-0008", "LJ001-0002", "LJ001-0013", "LJ001-0011")  # of CORPUS: 1.8, 1.9, 2.6, 4.5 s
FIXTURES = REPO / "tests" / "fixtures"  # the official config_v*.json files, as published
SCAN_ONLY = ["scan-cache.npz"]  # what a run refused once its files were read leaves in its folder (left_in)


def left_in(folder: Path) -> list[str]:
    """The names a refused run left in its run folder, sorted ([]: no folder)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def corpus_with_bad_files(folder: Path, clips: Path) -> Path:
    """A copy of the corpus `clips` in `folder` plus four files a scan must flag: two unreadable (garbage, empty), one
    silent, one clipping (a full-scale square wave)."""
    import shutil

    import numpy as np
    import soundfile as sf

    shutil.copytree(clips, folder)
    (folder / "garbage.wav").write_bytes(b"RIFF\x00\x00not really a wav file" * 3)
    (folder / "empty.wav").write_bytes(b"")
    sf.write(folder / "silent.wav", np.zeros(2000, dtype=np.int16), 8000, subtype="PCM_16")
    square = np.full(2000, 32767, dtype=np.int16) * np.sign(np.sin(np.arange(2000))).astype(np.int16)
    sf.write(folder / "loud.wav", square, 8000, subtype="PCM_16")
    return folder


def save_config_json(path: Path, config: HifiganConfig) -> Path:
    """Write a config as an official-style json file (what `--config PATH` reads)."""
    path.write_text(json.dumps(config.to_dict()))
    return path



def write_clips(folder: Path, count: int, sampling_rate: int = 8000, seed: int = 0,
                seconds: tuple[float, float] = (0.05, 0.3)) -> list[Path]:
    """`count` short int16 WAVs (a tone plus noise, by default 0.05-0.3 s: some shorter than a training segment)."""
    import numpy as np
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        n = int(rng.integers(int(sampling_rate * seconds[0]), int(sampling_rate * seconds[1])))
        t = np.arange(n) / sampling_rate
        x = 0.4 * np.sin(2 * np.pi * (150 + 40 * i) * t) + 0.05 * rng.standard_normal(n)
        path = folder / f"clip{i:02d}.wav"
        sf.write(path, (x * 20000).astype(np.int16), sampling_rate, subtype="PCM_16")
        paths.append(path)
    return paths



def equal_states(a: dict, b: dict) -> bool:
    """Nested dicts/lists of tensors and numbers are identical."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(equal_states(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(equal_states(x, y) for x, y in zip(a, b))
    return a == b


def damage_tensor_bytes(path: Path, count: int = 4000, record: str | None = None) -> str:
    """Overwrite up to `count` bytes inside the largest tensor record of a zip checkpoint (or the one named `record`)
    with NaN patterns (0xFF), in place: the zip still opens, only the record's CRC-32 tells. Returns the record's
    name."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        infos = [i for i in archive.infolist() if "/data/" in i.filename and record in (None, i.filename)]
        info = max(infos, key=lambda i: i.file_size)
    with open(path, "r+b") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = (int.from_bytes(f.read(2), "little") for _ in range(2))
        start = info.header_offset + 30 + name_len + extra_len
        n = min(count, info.file_size)
        f.seek(start + (info.file_size - n) // 2)
        f.write(b"\xff" * n)
    return info.filename


def repack_deflated(path: Path) -> None:
    """The checkpoint's zip records stored again, deflated (a zip tool's repack): torch loads it as it is."""
    with zipfile.ZipFile(path) as source:
        records = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in records:
            archive.writestr(name, data)


def file_states(folder: Path) -> dict[Path, tuple[bytes, int]]:
    """Every file under `folder` with its bytes and modification time: what a command that must touch nothing left."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_run(run: Path, folder: Path) -> Path:
    """A copy of the run folder `run` as folder/run, for a test that resumes a run a module fixture trained once:
    best.pt and latest.pt stay hard links to their ckpt_<step>.pt (`cp -a`), as in the run."""
    import subprocess

    copy = folder / "run"
    subprocess.run(["cp", "-a", str(run), str(copy)], check=True)
    return copy
