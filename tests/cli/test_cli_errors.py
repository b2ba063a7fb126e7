"""Issue #2/#6: every bad input to `mel` and `vocode` fails up front with one line naming the file, exit 2,
no traceback (unless --debug) and no output file or temp file left behind (each bad audio or .npy mel file:
test_cli_bad_inputs.py)."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.models import Generator
from tests.support.cli_runs import (
    BINS,
    HOP,
    SR,
    failed_cleanly,
    files_in,
    raw_file,
    run,
    run_commands,
    tone,
    wav,
)
from tests.support.files import save_config_json
from tests.support.official_reference import reference_mel
from tests.support.tiny import tiny_config


class Custom:
    """A class a checkpoint must never make us import (pickled code)."""


def test_audio_shorter_than_one_hop_is_too_short_where_the_hop_exceeds_the_padding(tmp_path, capsys):
    """hop 32 over n_fft 64 pads 16 per side: 20 samples pass the padding but make no 64-sample window. Both commands
    refuse them in one line naming the file and the minimum (one hop), not stft's RuntimeError."""
    cfg = tiny_config(upsample_rates=[8, 4], upsample_kernel_sizes=[16, 8], hop_size=32)
    ckpt = tmp_path / "hop32.pt"
    write_checkpoint(ckpt, generator_payload(Generator(cfg).state_dict(), cfg))
    short = wav(tmp_path / "short.wav", tone(20))
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", ckpt, "-o", out, short)
    failed_cleanly(code, err, out, "short.wav: too short: 20 samples at 8000 Hz, need at least 32")
    code, _, err = run(capsys, "mel", short, "-o", out / "x.npy", "--config", save_config_json(tmp_path / "c.json",
                                                                                                cfg))
    failed_cleanly(code, err, out, "short.wav: too short: 20 samples at 8000 Hz, need at least 32")


def test_mix_to_mono_and_resample_work(tmp_path, capsys, tiny_config_json, tiny_checkpoint):
    stereo = wav(tmp_path / "stereo.wav", tone(4000, channels=2))
    code, _, _ = run(capsys, "mel", stereo, "-o", tmp_path / "stereo.npy", "--config", tiny_config_json,
                     "--mix-to-mono")
    assert code == 0
    channels = sf.read(stereo, dtype="int16")[0].astype(np.float64) / 32768
    mixed = torch.from_numpy(((channels[:, 0] + channels[:, 1]) / 2).astype(np.float32))  # the mean, by hand
    expected = reference_mel(mixed[None], **tiny_config().mel_kwargs())[0].numpy()
    # float32 rounding, which the FFT's thread count changes: 5e-5 at a log-mel of -9.8 near the floor (4.5e-6 of it);
    # one channel for the mean, or their sum, is off by log 2 or more
    np.testing.assert_allclose(np.load(tmp_path / "stereo.npy"), expected, rtol=1e-5, atol=1e-5)

    fast = wav(tmp_path / "fast.wav", tone(8000, sr=16000), sr=16000)  # 0.5 s at 16 kHz -> 4000 samples at 8 kHz
    code, _, _ = run(capsys, "mel", fast, "-o", tmp_path / "fast.npy", "--config", tiny_config_json, "--resample")
    assert code == 0
    assert np.load(tmp_path / "fast.npy").shape == (BINS, 4000 // HOP)
    code, _, _ = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", fast, "--resample")
    assert code == 0
    out, rate = sf.read(tmp_path / "out" / "fast.wav")
    assert rate == SR and out.shape == (4000 // HOP * HOP,)


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


def _misfit_rank(d: Path) -> Path:
    """Our format, but conv_pre.bias holds its 32 values as (32, 1): a shape no config key explains."""
    state = Generator(tiny_config()).state_dict()
    state["conv_pre.bias"] = state["conv_pre.bias"][:, None]
    write_checkpoint(d / "bad.pt", generator_payload(state, tiny_config()))
    return d / "bad.pt"


def _bad_stored_config(d: Path) -> Path:
    payload = generator_payload(Generator(tiny_config()).state_dict(), tiny_config())
    payload["config"]["no_such_key"] = 1
    write_checkpoint(d / "bad.pt", payload)
    return d / "bad.pt"


def _ours_without(key: str) -> Callable[[Path], Path]:
    """Our format (its version key), but without its `key` ("generator" or "config")."""
    def make(d: Path) -> Path:
        payload = generator_payload(Generator(tiny_config()).state_dict(), tiny_config())
        write_checkpoint(d / "bad.pt", {k: v for k, v in payload.items() if k != key})
        return d / "bad.pt"
    return make


def _discriminators(d: Path) -> Path:
    """An official do_* file's contents under another name (so no g_* can be named beside it)."""
    from tests.support.official_files import official_discriminator_file

    torch.save(official_discriminator_file(Generator(tiny_config()).state_dict(), tiny_config(), 10, 1), d / "bad.pt")
    return d / "bad.pt"


BAD_CHECKPOINT: dict[str, tuple[Callable, str]] = {
    "missing": (lambda d: d / "bad.pt", "no such file"),
    "directory": (lambda d: (d / "bad.pt").mkdir() or d / "bad.pt", "is a directory"),
    "empty": (raw_file(b"", "bad.pt"), "empty"),
    "random bytes": (raw_file(np.random.default_rng(3).bytes(4096), "bad.pt"), "not a checkpoint"),
    "text file": (raw_file(b"generator = 1\n" * 10, "bad.pt"), "not a checkpoint"),
    "wav file": (lambda d: wav(d / "bad.pt", tone(1000)), "not a checkpoint"),
    "custom class (torch.save)": (_torch_save({"generator": {}, "extra": Custom()}), "needs pickled code"),
    "custom class (pickle 2)": (_pickle_dump({"generator": Custom()}, 2), "needs pickled code"),
    "custom class (pickle 5)": (_pickle_dump({"generator": Custom()}, 5), "needs pickled code"),
    # a protocol 2 pickle that BUILDs a plain dict: torch's long refusal, cut to its first 100 characters
    "weights-only refusal": (raw_file(b"\x80\x02}q\x00}b.", "bad.pt"), "bad.pt: not a checkpoint (cannot be "
                             "unpickled as weights: Can only build Tensor, Parameter, OrderedDict or types allowlisted "
                             "via `add_safe_globals`, but go...)"),
    "not a dict": (_torch_save([torch.zeros(3)]), "holds a list"),
    "no generator": (_torch_save({"weights": torch.zeros(3)}),
                     "not a HiFi-GAN generator's (conv_pre, ups, resblocks, conv_post)"),
    "misfit weights": (_misfit, "upsample_initial_channel is 32, the weights take 64 (conv_pre.bias (64,) vs (32,))"),
    "misfit rank": (_misfit_rank, "bad.pt: generator does not fit the config: conv_pre.bias has shape (32, 1), the "
                    "model expects (32,)"),
    "invalid stored config": (_bad_stored_config, "no_such_key"),
    "ours without a generator": (_ours_without("generator"), "bad.pt: checkpoint holds no generator"),
    "ours without a config": (_ours_without("config"), "bad.pt: checkpoint has no config"),
    "official discriminators": (_discriminators, "bad.pt: an official do_* file (discriminators and optimizer "
                                "states), not a generator: give the g_* file of the same step"),
}


@pytest.mark.parametrize("case", list(BAD_CHECKPOINT))
def test_vocode_rejects_bad_checkpoint(tmp_path, capsys, case, good_mel):
    make, problem = BAD_CHECKPOINT[case]
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", make(tmp_path), "-o", out, good_mel)
    failed_cleanly(code, err, out, "bad.pt", problem)


def test_vocode_with_a_config_refuses_official_discriminators_and_names_no_generator_beside_them(tmp_path, capsys,
                                                                                                   good_mel):
    """A do_* file's contents given with --config (the config an official g_* file needs) are still no generator;
    named otherwise than do_<step>, no g_<step> is suggested beside them."""
    config = save_config_json(tmp_path / "tiny.json", tiny_config())
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", _discriminators(tmp_path), "--config", config, "-o", out, good_mel)
    line = failed_cleanly(code, err, out, "bad.pt: an official do_* file (discriminators and optimizer states), not "
                          "a generator: give the g_* file of the same step")
    assert line.endswith("give the g_* file of the same step"), line


def test_vocode_names_a_missing_input_with_a_bad_checkpoint(tmp_path, capsys, good_mel):
    """A checkpoint that cannot be read and an input that does not exist are named together, in one line."""
    code, _, err = run(capsys, "vocode", "-c", tmp_path / "nope.pt", "-o", tmp_path / "out", tmp_path / "bad.wav",
                       good_mel)
    line = failed_cleanly(code, err, tmp_path / "out", "nope.pt: no such file", "bad.wav: no such file")
    assert "2 of 3 inputs are bad" in line and "good.npy" not in line


def test_evaluate_names_every_missing_folder(tmp_path, capsys, tiny_config_json):
    code, _, err = run(capsys, "evaluate", "--reference", tmp_path / "nodir", "--system", tmp_path / "nodir2",
                       "--config", tiny_config_json, "-o", tmp_path / "out/")
    failed_cleanly(code, err, tmp_path / "out", "nodir: no such folder", "nodir2: no such folder")


@pytest.mark.parametrize("fraction", [0.02, 0.5, 0.99])
def test_vocode_rejects_truncated_checkpoint(tmp_path, capsys, fraction, tiny_checkpoint, good_mel):
    bad = tmp_path / "bad.pt"
    data = tiny_checkpoint.read_bytes()
    bad.write_bytes(data[: int(len(data) * fraction)])
    code, _, err = run(capsys, "vocode", "-c", bad, "-o", tmp_path / "out", good_mel)
    failed_cleanly(code, err, tmp_path / "out", "bad.pt",
                   "truncated checkpoint (a zip archive without its end: the file was cut short)")


def test_official_checkpoint_of_another_config(tmp_path, capsys, official_v3, good_wav):
    code, _, err = run(capsys, "vocode", "-c", official_v3, "--config", "v1", "-o", tmp_path / "out", good_wav,
                       "--resample")
    failed_cleanly(code, err, tmp_path / "out", official_v3.name,
                   "upsample_initial_channel is 512, the weights take 256 (conv_pre.bias (256,) vs (512,))")


def test_official_checkpoint_needs_config(tmp_path, capsys, official_tiny80, good_wav):
    checkpoint, config_json = official_tiny80
    code, _, err = run(capsys, "vocode", "-c", checkpoint, "-o", tmp_path / "out", good_wav)
    failed_cleanly(code, err, tmp_path / "out", checkpoint.name, "--config")
    code, _, err = run(capsys, "vocode", "-c", checkpoint, "--config", tmp_path / "nope.json", "-o", tmp_path / "out",
                       good_wav)
    failed_cleanly(code, err, tmp_path / "out", "nope.json", "no such config file")
    code, _, err = run(capsys, "vocode", "-c", checkpoint, "--config", config_json, "-o", tmp_path / "out", good_wav)
    assert code == 0, err
    assert files_in(tmp_path / "out") == ["good.wav"]


def test_duplicate_output_names(tmp_path, capsys, tiny_checkpoint, good_wav, good_mel):
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", good_wav, good_mel)
    failed_cleanly(code, err, tmp_path / "out", "good", "same output name")
    np.save(tmp_path / "ints.npy", np.zeros((BINS, 10), np.int32))  # named in the same line as the duplicate
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", good_wav, good_mel,
                       tmp_path / "ints.npy", tmp_path / "missing.wav")
    line = failed_cleanly(code, err, tmp_path / "out", "same output name", "ints.npy", "missing.wav")
    assert "3 of 4 inputs are bad" in line, line


# ---------------------------------------------------------------- as a user runs it
@pytest.fixture(scope="module")
def as_a_user(tmp_path_factory, tiny_checkpoint) -> tuple[Path, dict[str, tuple[int, str, list[str]]]]:
    """The commands of the two tests below in one fresh interpreter (tests.support.cli_runs.run_commands: its stderr
    file descriptor read per command, as a user sees it; torch imported once): (their folder, runs by name)."""
    folder = tmp_path_factory.mktemp("as-a-user")
    _pickle_dump({"generator": Custom()}, 5)(folder)
    mel = folder / "m.npy"
    np.save(mel, np.zeros((BINS, 4), np.float32))
    runs = run_commands(folder, ["export-official", "--checkpoint", tiny_checkpoint, "--out", folder / "x"],
                        ["vocode", "-c", folder / "bad.pt", "-o", folder / "out", mel],
                        ["mel", folder / "missing.wav", "-o", folder / "x.npy", "--debug"])
    return folder, dict(zip(("warning", "error", "debug"), runs, strict=True))


def test_subprocess_one_line_and_debug_traceback(as_a_user):
    """No warnings or traceback by default; --debug adds the traceback."""
    folder, runs = as_a_user
    (code, err, _), (debug_code, debug_err, _) = runs["error"], runs["debug"]
    failed_cleanly(code, err, folder / "out", "bad.pt", "needs pickled code")
    assert err.startswith("hifigan vocode: error: ")
    assert debug_code == 2
    assert "Traceback" in debug_err
    assert debug_err.strip().splitlines()[-1].startswith("hifigan mel: error: ")
    assert "missing.wav" in debug_err.strip().splitlines()[-1]


def test_a_warning_is_one_line_naming_the_command(as_a_user):
    """As the errors are: no source path, no line of code; one line per warning (the tiny generator's 16 mel bins,
    which the official code cannot load; a generator alone gets no do_* note)."""
    code, err, _ = as_a_user[1]["warning"]
    assert code == 0 and err == (
        "hifigan export-official: warning: g_00000000: the official code cannot load it: its conv_pre takes 80 mel "
        "bins, this model 16 (a fork that reads num_mels from the config can)\n")


def test_a_bug_exits_1_and_an_environment_error_2_each_in_one_line():
    """What no check caught: an OSError (permissions, I/O) names its file, exit 2; anything else is a bug, exit 1,
    said as such."""
    import argparse
    import errno

    from hifigan.cli import _run

    def raising(error: BaseException):
        def func(_args: argparse.Namespace) -> int:
            raise error
        return argparse.Namespace(func=func, command="vocode")

    said: list[tuple[str, int]] = []

    def fail(message: str, code: int) -> int:
        said.append((message, code))
        return code

    assert _run(raising(RuntimeError("boom")), fail) == 1
    assert _run(raising(OSError(errno.EIO, "Input/output error", "x.wav")), fail) == 2
    assert said == [("internal error: RuntimeError: boom (please report it; --debug shows the traceback)", 1),
                    ("error: x.wav: Input/output error", 2)]
