"""Issue #2/#6: every bad input to `mel` and `vocode` fails up front with one line naming the file, exit 2,
no traceback (unless --debug) and no output file or temp file left behind."""

from __future__ import annotations

import io
import os
import pickle
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.cli import main
from hifigan.models import Generator
from tests.support.official_reference import reference_mel
from tests.support.tiny import tiny_config

SR = 8000  # tiny_config().sampling_rate
HOP = 16
BINS = 16


class Custom:
    """A class a checkpoint must never make us import (pickled code)."""


def cli(capsys, *argv) -> tuple[int, str]:
    """Run hifigan.cli.main in-process; return (exit code, stderr)."""
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def run_module(*argv, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run `python -m hifigan ARGV` as a user would."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "hifigan", *map(str, argv)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300, **kwargs)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def assert_clean_failure(code: int, err: str, name: str, out: Path, problem: str = "", fresh: bool = True) -> None:
    """Exit 2, one non-empty stderr line naming `name` (and `problem`), no traceback, nothing in `out`; a `fresh` out
    (one that did not exist before the command) was not even created."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert name in lines[0], lines[0]
    assert problem in lines[0], lines[0]
    assert "Traceback" not in err
    assert files_in(out) == [], files_in(out)
    if fresh:
        assert not out.exists(), f"{out} was created by a command that failed"


def tone(n: int, sr: int = SR, channels: int = 1) -> np.ndarray:
    t = np.arange(n) / sr
    mono = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return mono if channels == 1 else np.stack([mono * (c + 1) / channels for c in range(channels)], axis=1)


def wav(path: Path, audio: np.ndarray, sr: int = SR, subtype: str = "PCM_16") -> Path:
    sf.write(path, audio, sr, subtype=subtype, format="WAV")
    return path


@pytest.fixture
def good_wav(tmp_path) -> Path:
    return wav(tmp_path / "good.wav", tone(SR // 2))


@pytest.fixture
def good_mel(tmp_path) -> Path:
    path = tmp_path / "good.npy"
    np.save(path, np.random.default_rng(0).normal(-5, 1, (BINS, 20)).astype(np.float32))
    return path


# ---------------------------------------------------------------- bad audio (both commands)
def _raw(data: bytes, name: str = "bad.wav") -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        (d / name).write_bytes(data)
        return d / name
    return make


def _directory(d: Path) -> Path:
    (d / "bad.wav").mkdir()
    return d / "bad.wav"


BAD_AUDIO: dict[str, tuple[Callable[[Path], Path], str]] = {
    "random bytes": (_raw(np.random.default_rng(1).bytes(3000)), "not a readable audio file"),
    "text named .wav": (_raw(b"this is not audio\n" * 20), "not a readable audio file"),
    "zero frames": (lambda d: wav(d / "bad.wav", np.zeros(0, np.float32)), "no audio samples"),
    "zero bytes": (_raw(b""), "empty"),
    "missing": (lambda d: d / "bad.wav", "no such file"),
    "directory": (_directory, "is a directory"),
    "stereo": (lambda d: wav(d / "bad.wav", tone(4000, channels=2)), "2 channels"),
    "wrong rate": (lambda d: wav(d / "bad.wav", tone(4000), sr=16000), "16000 Hz"),
    "nan samples": (lambda d: wav(d / "bad.wav", np.full(4000, np.nan, np.float32), subtype="FLOAT"), "non-finite"),
    "too short": (lambda d: wav(d / "bad.wav", tone(10)), "too short"),
}


@pytest.mark.parametrize("case", list(BAD_AUDIO))
def test_mel_rejects_bad_audio(tmp_path, capsys, case, tiny_config_json):
    make, problem = BAD_AUDIO[case]
    out = tmp_path / "out"
    code, err = cli(capsys, "mel", make(tmp_path), "-o", out / "x.npy", "--config", tiny_config_json)
    assert_clean_failure(code, err, "bad.wav", out, problem)


@pytest.mark.parametrize("case", list(BAD_AUDIO))
def test_vocode_rejects_bad_audio(tmp_path, capsys, case, tiny_checkpoint):
    make, problem = BAD_AUDIO[case]
    out = tmp_path / "out"
    code, err = cli(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, make(tmp_path))
    assert_clean_failure(code, err, "bad.wav", out, problem)


def test_mix_to_mono_and_resample_work(tmp_path, capsys, tiny_config_json, tiny_checkpoint):
    stereo = wav(tmp_path / "stereo.wav", tone(4000, channels=2))
    code, _ = cli(capsys, "mel", stereo, "-o", tmp_path / "stereo.npy", "--config", tiny_config_json, "--mix-to-mono")
    assert code == 0
    channels = sf.read(stereo, dtype="int16")[0].astype(np.float64) / 32768
    mixed = torch.from_numpy(((channels[:, 0] + channels[:, 1]) / 2).astype(np.float32))  # the mean, by hand
    expected = reference_mel(mixed[None], **tiny_config().mel_kwargs())[0].numpy()
    np.testing.assert_allclose(np.load(tmp_path / "stereo.npy"), expected, atol=1e-5)

    fast = wav(tmp_path / "fast.wav", tone(8000, sr=16000), sr=16000)  # 0.5 s at 16 kHz -> 4000 samples at 8 kHz
    code, _ = cli(capsys, "mel", fast, "-o", tmp_path / "fast.npy", "--config", tiny_config_json, "--resample")
    assert code == 0
    assert np.load(tmp_path / "fast.npy").shape == (BINS, 4000 // HOP)
    code, _ = cli(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", fast, "--resample")
    assert code == 0
    out, rate = sf.read(tmp_path / "out" / "fast.wav")
    assert rate == SR and out.shape == (4000 // HOP * HOP,)


# ---------------------------------------------------------------- bad mel files (vocode)
def _npy(array: np.ndarray, allow_pickle: bool = False) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        np.save(d / "bad.npy", array, allow_pickle=allow_pickle)
        return d / "bad.npy"
    return make


def _npz(d: Path) -> Path:
    with open(d / "bad.npy", "wb") as f:
        np.savez(f, mel=np.zeros((BINS, 5), np.float32))
    return d / "bad.npy"


def _with(value: float, dtype=np.float32) -> np.ndarray:
    mel = np.zeros((BINS, 10), dtype)
    mel[3, 4] = value
    return mel


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


BAD_MEL: dict[str, tuple[Callable[[Path], Path], str]] = {
    "wrong bins": (_npy(np.zeros((BINS - 1, 10), np.float32)), f"{BINS - 1} bins"),
    "rank 1": (_npy(np.zeros(10, np.float32)), "shape"),
    "rank 4": (_npy(np.zeros((1, 1, BINS, 10), np.float32)), "shape"),
    "batch of 2": (_npy(np.zeros((2, BINS, 10), np.float32)), "shape"),
    "int dtype": (_npy(np.zeros((BINS, 10), np.int32)), "dtype int32"),
    "bool dtype": (_npy(np.zeros((BINS, 10), bool)), "dtype bool"),
    "complex dtype": (_npy(np.zeros((BINS, 10), np.complex64)), "dtype complex64"),
    "nan": (_npy(_with(np.nan)), "non-finite"),
    "inf": (_npy(_with(-np.inf)), "non-finite"),
    "beyond float32": (_npy(_with(1e300, np.float64)), "float32"),
    "no frames": (_npy(np.zeros((BINS, 0), np.float32)), "no frames"),
    "pickled object": (_npy(np.array({"mel": 1}), allow_pickle=True), "pickled"),
    "npz archive": (_npz, "not a single .npy array"),
    "random bytes": (_raw(np.random.default_rng(2).bytes(500), "bad.npy"), "not a readable .npy"),
    "truncated": (_raw(_npy_bytes(np.zeros((BINS, 50), np.float32))[:200], "bad.npy"), "not a readable"),
    "missing": (lambda d: d / "bad.npy", "no such file"),
    "zero bytes": (_raw(b"", "bad.npy"), "empty"),
}


@pytest.mark.parametrize("case", list(BAD_MEL))
def test_vocode_rejects_bad_mel(tmp_path, capsys, case, tiny_checkpoint):
    make, problem = BAD_MEL[case]
    out = tmp_path / "out"
    code, err = cli(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, make(tmp_path))
    assert_clean_failure(code, err, "bad.npy", out, problem)


def test_vocode_accepts_batched_and_float64_mel(tmp_path, capsys, tiny_checkpoint):
    np.save(tmp_path / "a.npy", np.zeros((1, BINS, 7), np.float64) - 4)
    np.save(tmp_path / "b.npy", np.zeros((BINS, 9), np.float16) - 4)
    code, err = cli(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", tmp_path / "a.npy",
                    tmp_path / "b.npy")
    assert code == 0, err
    assert sf.info(tmp_path / "out" / "a.wav").frames == 7 * HOP
    assert sf.info(tmp_path / "out" / "b.wav").frames == 9 * HOP


# ---------------------------------------------------------------- bad checkpoints (vocode)
def _torch_save(obj) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        torch.save(obj, d / "bad.pt")
        return d / "bad.pt"
    return make


def _pickle_dump(obj, protocol: int) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        with open(d / "bad.pt", "wb") as f:
            pickle.dump(obj, f, protocol=protocol)
        return d / "bad.pt"
    return make


def _misfit(d: Path) -> Path:
    """Our format, but the weights are of a wider generator than the stored config."""
    wide = Generator(tiny_config(upsample_initial_channel=64)).state_dict()
    write_checkpoint(d / "bad.pt", generator_payload(wide, tiny_config()))
    return d / "bad.pt"


def _bad_stored_config(d: Path) -> Path:
    payload = generator_payload(Generator(tiny_config()).state_dict(), tiny_config())
    payload["config"]["no_such_key"] = 1
    write_checkpoint(d / "bad.pt", payload)
    return d / "bad.pt"


BAD_CHECKPOINT: dict[str, tuple[Callable, str]] = {
    "missing": (lambda d: d / "bad.pt", "no such file"),
    "directory": (lambda d: (d / "bad.pt").mkdir() or d / "bad.pt", "is a directory"),
    "empty": (_raw(b"", "bad.pt"), "empty"),
    "random bytes": (_raw(np.random.default_rng(3).bytes(4096), "bad.pt"), "not a checkpoint"),
    "text file": (_raw(b"generator = 1\n" * 10, "bad.pt"), "not a checkpoint"),
    "wav file": (lambda d: wav(d / "bad.pt", tone(1000)), "not a checkpoint"),
    "custom class (torch.save)": (_torch_save({"generator": {}, "extra": Custom()}), "needs pickled code"),
    "custom class (pickle 2)": (_pickle_dump({"generator": Custom()}, 2), "needs pickled code"),
    "custom class (pickle 5)": (_pickle_dump({"generator": Custom()}, 5), "needs pickled code"),
    "not a dict": (_torch_save([torch.zeros(3)]), "holds a list"),
    "no generator": (_torch_save({"weights": torch.zeros(3)}), "not a HiFi-GAN generator checkpoint"),
    "misfit weights": (_misfit, "conv_pre.bias has shape (64,), the model expects (32,)"),
    "invalid stored config": (_bad_stored_config, "no_such_key"),
}


@pytest.mark.parametrize("case", list(BAD_CHECKPOINT))
def test_vocode_rejects_bad_checkpoint(tmp_path, capsys, case, good_mel):
    make, problem = BAD_CHECKPOINT[case]
    out = tmp_path / "out"
    code, err = cli(capsys, "vocode", "-c", make(tmp_path), "-o", out, good_mel)
    assert_clean_failure(code, err, "bad.pt", out, problem)


@pytest.mark.parametrize("fraction", [0.02, 0.5, 0.99])
def test_vocode_rejects_truncated_checkpoint(tmp_path, capsys, fraction, tiny_checkpoint, good_mel):
    bad = tmp_path / "bad.pt"
    data = tiny_checkpoint.read_bytes()
    bad.write_bytes(data[: int(len(data) * fraction)])
    code, err = cli(capsys, "vocode", "-c", bad, "-o", tmp_path / "out", good_mel)
    assert_clean_failure(code, err, "bad.pt", tmp_path / "out", "truncated or corrupt checkpoint")


def test_official_checkpoint_of_another_config(tmp_path, capsys, official_v3, good_wav):
    code, err = cli(capsys, "vocode", "-c", official_v3, "--config", "v1", "-o", tmp_path / "out", good_wav,
                    "--resample")
    assert_clean_failure(code, err, official_v3.name, tmp_path / "out",
                         "conv_pre.bias has shape (256,), the model expects (512,)")


def test_official_checkpoint_needs_config(tmp_path, capsys, official_tiny80, good_wav):
    checkpoint, config_json = official_tiny80
    code, err = cli(capsys, "vocode", "-c", checkpoint, "-o", tmp_path / "out", good_wav)
    assert_clean_failure(code, err, checkpoint.name, tmp_path / "out", "--config")
    code, err = cli(capsys, "vocode", "-c", checkpoint, "--config", tmp_path / "nope.json", "-o", tmp_path / "out",
                    good_wav)
    assert_clean_failure(code, err, "nope.json", tmp_path / "out", "no such config file")
    code, err = cli(capsys, "vocode", "-c", checkpoint, "--config", config_json, "-o", tmp_path / "out", good_wav)
    assert code == 0, err
    assert files_in(tmp_path / "out") == ["good.wav"]


def test_duplicate_output_names(tmp_path, capsys, tiny_checkpoint, good_wav, good_mel):
    code, err = cli(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", good_wav, good_mel)
    assert_clean_failure(code, err, "good", tmp_path / "out", "same output name")


# ---------------------------------------------------------------- outputs that cannot be written
def test_output_folder_under_a_file(tmp_path, capsys, tiny_checkpoint, tiny_config_json, good_wav):
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file")
    code, err = cli(capsys, "vocode", "-c", tiny_checkpoint, "-o", blocker / "out", good_wav)
    assert_clean_failure(code, err, "blocker", tmp_path / "nothing", "cannot create folder")
    code, err = cli(capsys, "vocode", "-c", tiny_checkpoint, "-o", blocker, good_wav)
    assert_clean_failure(code, err, "blocker", tmp_path / "nothing", "not a folder")
    code, err = cli(capsys, "mel", good_wav, "-o", blocker / "x.npy", "--config", tiny_config_json)
    assert_clean_failure(code, err, "blocker", tmp_path / "nothing", "not a folder")
    code, err = cli(capsys, "mel", good_wav, "-o", blocker / "sub" / "x.npy", "--config", tiny_config_json)
    assert_clean_failure(code, err, "blocker", tmp_path / "nothing", "cannot create folder")
    assert blocker.read_text() == "a regular file"
    (tmp_path / "dir.npy").mkdir()
    code, err = cli(capsys, "mel", good_wav, "-o", tmp_path / "dir.npy", "--config", tiny_config_json)
    assert_clean_failure(code, err, "dir.npy", tmp_path / "dir.npy", "is a directory", fresh=False)


def _fsize_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # runs in the child: writes past `limit` bytes fail with EFBIG instead of killing it
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_file_size_limit_leaves_no_partial_file(tmp_path, tiny_checkpoint, tiny_config_json, good_wav):
    """A full disk, simulated portably: RLIMIT_FSIZE makes the output write fail part-way (EFBIG)."""
    out = tmp_path / "out"
    out.mkdir()
    limit = _fsize_limit(4096)  # the outputs are ~8 KB (vocode) and ~16 KB (mel)
    proc = run_module("mel", good_wav, "-o", out / "x.npy", "--config", tiny_config_json, preexec_fn=limit)
    assert_clean_failure(proc.returncode, proc.stderr, "x.npy", out, "cannot write", fresh=False)
    proc = run_module("vocode", "-c", tiny_checkpoint, "-o", out, good_wav, preexec_fn=limit)
    assert_clean_failure(proc.returncode, proc.stderr, "good.wav", out, "cannot write", fresh=False)


def _in_private_mount(mount_options: str, folder: Path, *argv) -> subprocess.CompletedProcess:
    """Run `python -m hifigan ARGV` with a fresh tmpfs mounted on `folder` in a private mount namespace
    (unshare: no root needed where user namespaces are enabled; nothing leaks to the host), then list it."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    script = 'mount -t tmpfs -o "$1" tmpfs "$2" || exit 99; shift 2; "$@"; rc=$?; echo "LEFT:$(ls -A "$0")"; exit $rc'
    command = ["unshare", "--mount", "--map-root-user", "sh", "-c", script, str(folder), mount_options, str(folder),
               sys.executable, "-m", "hifigan", *map(str, argv)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if proc.returncode == 99 or "unshare:" in proc.stderr:
        pytest.skip(f"cannot mount a private tmpfs here: {proc.stderr.strip()}")
    return proc


def _left(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.rsplit("LEFT:", 1)[1].strip()


def test_full_disk_leaves_no_partial_file(tmp_path, tiny_checkpoint, tiny_config_json, good_wav):
    """A real full disk: a 4 KB tmpfs, too small for the outputs."""
    disk = tmp_path / "disk"
    disk.mkdir()
    proc = _in_private_mount("size=4k", disk, "mel", good_wav, "-o", disk / "x.npy", "--config", tiny_config_json)
    assert_clean_failure(proc.returncode, proc.stderr, "x.npy", tmp_path / "nothing", "No space left on device")
    assert _left(proc) == ""
    proc = _in_private_mount("size=4k", disk, "vocode", "-c", tiny_checkpoint, "-o", disk, good_wav)
    assert_clean_failure(proc.returncode, proc.stderr, "good.wav", tmp_path / "nothing", "No space left on device")
    assert _left(proc) == ""


def test_read_only_output_folder(tmp_path, tiny_checkpoint, tiny_config_json, good_wav):
    """A read-only mount: not writable even for root (unlike permission bits)."""
    disk = tmp_path / "ro"
    disk.mkdir()
    proc = _in_private_mount("ro", disk, "mel", good_wav, "-o", disk / "x.npy", "--config", tiny_config_json)
    assert_clean_failure(proc.returncode, proc.stderr, "ro", tmp_path / "nothing", "Read-only file system")
    proc = _in_private_mount("ro", disk, "vocode", "-c", tiny_checkpoint, "-o", disk, good_wav)
    assert_clean_failure(proc.returncode, proc.stderr, "ro", tmp_path / "nothing", "Read-only file system")
    proc = _in_private_mount("ro", disk, "vocode", "-c", tiny_checkpoint, "-o", disk / "sub", good_wav)
    assert_clean_failure(proc.returncode, proc.stderr, "sub", tmp_path / "nothing", "Read-only file system")


# ---------------------------------------------------------------- as a user runs it
def test_subprocess_one_line_and_debug_traceback(tmp_path, tiny_checkpoint):
    """Through `python -m hifigan`: no warnings or traceback by default; --debug adds the traceback."""
    _pickle_dump({"generator": Custom()}, 5)(tmp_path)
    mel = tmp_path / "m.npy"
    np.save(mel, np.zeros((BINS, 4), np.float32))
    proc = run_module("vocode", "-c", tmp_path / "bad.pt", "-o", tmp_path / "out", mel)
    assert_clean_failure(proc.returncode, proc.stderr, "bad.pt", tmp_path / "out", "needs pickled code")
    assert proc.stderr.startswith("hifigan vocode: error: ")
    proc = run_module("mel", tmp_path / "missing.wav", "-o", tmp_path / "x.npy", "--debug")
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("hifigan mel: error: ")
    assert "missing.wav" in proc.stderr.strip().splitlines()[-1]
