"""Shared fixtures: tiny configs and generator checkpoints (ours and official-format) built once per session."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path

import pytest
import torch

from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.config import HifiganConfig, load_config
from hifigan.models import Generator
from tests.support.files import save_config_json, write_clips
from tests.support.official_reference import RefGenerator
from tests.support.pretrained_fake import make_tiny80
from tests.support.threads import threads
from tests.support.tiny import tiny_config


def pytest_configure(config) -> None:
    """Under pytest-xdist (`make test`: 2 workers on 2 cores) each worker, and every process a test starts, computes
    on one thread: more OpenMP threads than cores spin against each other and slow a step ~10x."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)
        os.environ["OMP_NUM_THREADS"] = "1"


_LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if sys.platform == "linux" else None


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem) -> None:
    """After each test's fixtures are gone, give the heap's free pages back to the OS (glibc keeps them): else a
    process holds its largest test's peak for the rest of the run, and the 2 workers' sum of peaks grows."""
    if _LIBC is not None and hasattr(_LIBC, "malloc_trim"):
        _LIBC.malloc_trim(0)


@pytest.fixture(scope="session")
def tiny_cfg() -> HifiganConfig:
    """The tiny 16-bin, 8 kHz, hop-16 config of tests/support/tiny.py (its narrow MPD and MSD)."""
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


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    """A folder of 8 short 8 kHz clips for training tests (copy it before adding files)."""
    folder = tmp_path_factory.mktemp("corpus")
    write_clips(folder, 8)
    return folder


@pytest.fixture
def single_thread():
    """One intra-op thread: on a shared 2-core machine, oversubscribed OpenMP threads slow training steps ~10x."""
    with threads(1):
        yield


@pytest.fixture(scope="session")
def tiny80(tmp_path_factory) -> tuple:
    """The `tiny-test` pretrained model of tests/support/pretrained_fake.py: (config, json, file bytes, state)."""
    return make_tiny80(tmp_path_factory.mktemp("tiny80"))
