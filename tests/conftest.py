"""Shared fixtures: tiny configs and generator checkpoints (ours and official-format) built once per session."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import pytest
import torch

from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.config import HifiganConfig, load_config
from hifigan.models import Generator
from tests.support.files import save_config_json, write_clips
from tests.support.heap import HeapTrimmer
from tests.support.marks import one_at_a_time
from tests.support.official_reference import RefGenerator
from tests.support.pretrained_fake import make_tiny80
from tests.support.threads import threads
from tests.support.tiny import tiny_config
from tests.support.users import MACHINE_TEMP

LARGE_MEMORY_LOCK = MACHINE_TEMP / "hifigan-tests-large-memory.lock"  # one per machine, every suite on it
_THREADS = pytest.StashKey[int]()  # torch's intra-op thread count for every test of this process
_TRIM_HEAP = HeapTrimmer()  # this process's


def pytest_configure(config) -> None:
    """Under pytest-xdist (`make test`: 2 workers on 2 cores) each worker, and every process a test starts, computes
    on one thread: more OpenMP threads than cores spin against each other and slow a step ~10x. Ctrl-C is Python's
    KeyboardInterrupt in every process of the suite, however it was started."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)
        os.environ["OMP_NUM_THREADS"] = "1"
    config.stash[_THREADS] = torch.get_num_threads()
    # A suite started with SIGINT ignored (`make test &` in a non-interactive shell, nohup, some CI runners) passes
    # the ignoring on to every process; the tests that press Ctrl-C need Python's own handler, and the processes they
    # start then get the default disposition.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_terminal_summary(terminalreporter) -> None:
    """The CPU the suite ran on, beside its time (the suite's time differs about 2x between the CPUs seen)."""
    from hifigan.runtime.machine import cpu_identity, cpu_text

    terminalreporter.write_line(f"ran on {cpu_text(cpu_identity())}, {os.cpu_count()} cores")


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem) -> None:
    """After each test's fixtures are gone, give the heap's free pages back to the OS (glibc keeps them) where the
    process has grown enough since the last time (tests/support/heap.py): else it holds its largest test's peak for
    the rest of the run, and the 2 workers' sum of peaks grows.
    Where a module's fixtures are gone too, its tests must have left torch's process-wide thread count as they
    found it: one that leaks 2 threads into a worker of `make test` slows every later test of that worker ~3x."""
    _TRIM_HEAP()
    expected, left = item.config.stash[_THREADS], torch.get_num_threads()
    if (nextitem is None or nextitem.module is not item.module) and left != expected:
        torch.set_num_threads(expected)
        raise AssertionError(f"{item.module.__name__} left torch's intra-op thread count at {left} (it was "
                             f"{expected}): set it inside `with hifigan.runtime.threads.intra_op_threads(n)`")


def pytest_collection_modifyitems(config, items) -> None:
    """Module order, which `make test` keeps (--no-loadscope-reorder) when it hands modules to its 2 workers: those with
    more tests first, as pytest-xdist orders them, and the large_memory modules spread evenly among them, so that
    their lock (below) seldom keeps a worker waiting."""
    modules: dict[str, list] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::")[0], []).append(item)
    large = [name for name, its in modules.items() if any(i.get_closest_marker("large_memory") for i in its)]
    order = sorted((name for name in modules if name not in large), key=lambda name: -len(modules[name]))
    gap = len(order) / (len(large) + 1)
    for k, name in enumerate(large):
        order.insert(round(gap * (k + 1)) + k, name)
    items[:] = [item for name in order for item in modules[name]]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Under pytest-xdist a large_memory test, with the fixtures its setup and teardown build and drop, waits until no
    other worker runs one (nor another suite on this machine: the lock file is one per machine)."""
    if item.get_closest_marker("large_memory") is None or not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    with one_at_a_time(LARGE_MEMORY_LOCK):
        yield


@pytest.fixture(scope="session", autouse=True)
def children_temp(tmp_path_factory):
    """Temporary folders go under this session's pytest folder (which pytest prunes, keeping the last 3 runs), for
    every process a test starts (TMPDIR) and the ones this process forks (tempfile's cached folder, which a fork
    inherits): a process a test kills leaves its `pymp-*` (multiprocessing's, e.g. a DataLoader worker's) and
    `torchelastic_*` (torchrun's agent) folders there, not in the machine's temp folder for ever."""
    folder = str(tmp_path_factory.mktemp("children-temp"))
    before, cached = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = folder, folder
    yield
    tempfile.tempdir = cached
    if before is None:
        os.environ.pop("TMPDIR")
    else:
        os.environ["TMPDIR"] = before


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
