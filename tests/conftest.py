"""Shared fixtures: tiny configs and generator checkpoints (ours and official-format) built once per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.config import HifiganConfig, load_config
from hifigan.models import Generator
from official_reference import RefGenerator
from tiny import tiny_config


def save_config_json(path: Path, config: HifiganConfig) -> Path:
    """Write a config as an official-style json file (what `--config PATH` reads)."""
    path.write_text(json.dumps(config.to_dict()))
    return path


@pytest.fixture(scope="session")
def tiny_cfg() -> HifiganConfig:
    """The tiny 16-bin, 8 kHz, hop-16 config of tests/tiny.py (its narrow MPD and MSD)."""
    return tiny_config()


@pytest.fixture(scope="session")
def tiny_config_json(tmp_path_factory, tiny_cfg) -> Path:
    """The tiny config as a json file, for `--config PATH`."""
    return save_config_json(tmp_path_factory.mktemp("config") / "tiny.json", tiny_cfg)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_cfg) -> Path:
    """Our checkpoint format holding a freshly initialised tiny generator."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    write_checkpoint(path, generator_payload(Generator(tiny_cfg).state_dict(), tiny_cfg))
    return path


@pytest.fixture(scope="session")
def official_tiny80(tmp_path_factory) -> tuple[Path, Path]:
    """An official-format g_* file (80 mel bins, as the official generator hard-codes) and its config json, which
    keeps the official MPD and MSD (official do_* files go with it)."""
    torch.manual_seed(0)
    cfg = tiny_config(num_mels=80, n_fft=512, win_size=512,  # enough FFT bins for 80 non-empty mel filters
                      official_discriminators=True)
    folder = tmp_path_factory.mktemp("official")
    torch.save({"generator": RefGenerator(cfg).state_dict()}, folder / "g_00000001")
    return folder / "g_00000001", save_config_json(folder / "config_tiny80.json", cfg)


@pytest.fixture(scope="session")
def official_v3(tmp_path_factory) -> Path:
    """An official-format g_* file of the V3 architecture (random weights)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("official_v3") / "g_v3"
    torch.save({"generator": RefGenerator(load_config("v3")).state_dict()}, path)
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


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    """A folder of 8 short 8 kHz clips for training tests (copy it before adding files)."""
    folder = tmp_path_factory.mktemp("corpus")
    write_clips(folder, 8)
    return folder


def equal_states(a: dict, b: dict) -> bool:
    """Nested dicts/lists of tensors and numbers are identical."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(equal_states(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(equal_states(x, y) for x, y in zip(a, b))
    return a == b


@pytest.fixture
def single_thread():
    """One intra-op thread: on a shared 2-core machine, oversubscribed OpenMP threads slow training steps ~10x."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
