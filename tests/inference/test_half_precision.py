"""Vocoder in fp16 and bf16: the network runs in that dtype and returns float32, a precision this CPU emulates is
said in one line (Python's warning, the command's line), and the backends that run in fp32 only are refused."""

import warnings

import pytest
import torch

from hifigan.errors import HifiganError
from hifigan.inference.engines import resolve_backend
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.runtime.machine import cpu_computes, emulated_message
from tests.support.cli_runs import SR, run_module, tone, wav
from tests.support.tiny import tiny_config


@pytest.mark.parametrize(("precision", "dtype", "bound"),
                         [("bf16", torch.bfloat16, 0.05), ("fp16", torch.float16, 5e-3)])
def test_half_precision_runs_the_network_in_that_dtype(precision, dtype, bound):
    """fp16/bf16 cast the weights (the outputs move by about the dtype's rounding, never 0) and return float32."""
    cfg = tiny_config("1")
    torch.manual_seed(0)
    state = Generator(cfg).state_dict()
    mel = torch.randn(cfg.num_mels, 40) - 4
    outputs = {}
    for name in ("fp32", precision):
        for backend in ("eager", "fused"):
            g = Generator(cfg)
            g.load_state_dict(state)
            vocoder = Vocoder(g, cfg, backend=backend, precision=name)
            assert vocoder.dtype == (torch.float32 if name == "fp32" else dtype)
            assert all(p.dtype == vocoder.dtype for p in vocoder._runner.parameters())
            outputs[name, backend] = vocoder(mel)
    for backend in ("eager", "fused"):
        half = outputs[precision, backend]
        assert half.dtype == torch.float32 and half.shape == (40 * cfg.upsample_factor,)
        err = float((half - outputs["fp32", "eager"]).abs().max())
        assert 0 < err < bound * float(outputs["fp32", "eager"].abs().max())


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_a_half_precision_this_cpu_emulates_is_said_in_one_line(precision, capsys):
    """Emulated fp16/bf16 (no AVX512-FP16 / AVX512-BF16 or AMX: oneDNN took ~20x the fp32 time) still vocodes, and
    says so as a Python warning, pointing at the caller; where the CPU computes it, nothing is said (on a Zen 4: a
    warning for fp16, none for bf16). Nothing is printed: the CLI turns the warning into its one line."""
    cfg = tiny_config("1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vocoder = Vocoder(Generator(cfg), cfg, backend="auto", precision=precision)
    assert vocoder(torch.randn(cfg.num_mels, 5) - 4).shape == (5 * cfg.upsample_factor,)
    note = (f"precision={precision!r}: {emulated_message(precision)}, many times slower than fp32 "
            "(fp32 is the fast choice on this CPU)")  # the argument, as a Python caller gives it
    assert [str(w.message) for w in caught] == ([] if cpu_computes(precision) else [note])
    assert all(w.filename == __file__ for w in caught)
    assert capsys.readouterr().err == ""


def test_vocode_says_an_emulated_half_precision_as_a_one_line_warning(tmp_path, tiny_checkpoint):
    """docs/commands.md: a warning is `hifigan COMMAND: warning: ...`, one line on stderr (a child process: pytest
    records the warnings of its own)."""
    precision = next((p for p in ("fp16", "bf16") if not cpu_computes(p)), None)
    if precision is None:
        pytest.skip("this CPU computes fp16 and bf16: nothing to warn of")
    audio = wav(tmp_path / "a.wav", tone(SR // 4))  # copy synthesis: a mel of the model's own convention
    proc = run_module("vocode", "-c", tiny_checkpoint, "--precision", precision, "-o", tmp_path / "out", audio, "-q")
    assert proc.returncode == 0, proc.stderr
    said = (f"hifigan vocode: warning: --precision {precision}: {emulated_message(precision)}, many times slower "
            "than fp32 (fp32 is the fast choice on this CPU)")
    assert proc.stderr.splitlines() == [said]


def test_half_precision_picks_fused_and_refuses_fp32_only_backends():
    cpu = torch.device("cpu")
    assert resolve_backend("auto", cpu, "bf16", cli=False) == "fused"
    assert resolve_backend("auto", cpu, "fp32", cli=False) == "tiled-split"
    for backend in ("jit", "onnx", "tiled-split", "fused-split"):
        with pytest.raises(HifiganError, match=f"backend {backend} runs in fp32 only"):
            resolve_backend(backend, cpu, "fp16", cli=False)
    with pytest.raises(HifiganError, match="unknown precision 'fp8'"):
        resolve_backend("eager", cpu, "fp8", cli=False)
