"""The command line's choices and defaults are the library's own (one copy of each), and every subcommand
has --debug and a function to run."""

import dataclasses
import inspect
import re
from pathlib import Path

import pytest
import torch

from hifigan.cli import build_parser, main
from hifigan.inference.choices import AUTO_CHUNK_FRAMES, HALF_BACKENDS, bench_entry
from hifigan.inference.engines import PRECISIONS
from hifigan.inference.vocoder import Vocoder
from hifigan.training import options

SUBCOMMANDS = ("mel", "vocode", "check-mel", "evaluate", "train", "export-official", "demo", "export", "bench",
               "listen", "serve", "pretrained", "configs")


def _subparsers():
    parser = build_parser()
    return next(a for a in parser._actions if a.dest == "command").choices


def _action(sub, dest):
    return next(a for a in sub._actions if a.dest == dest)


def test_every_subcommand_has_debug_and_a_runner():
    subs = _subparsers()
    assert tuple(subs) == SUBCOMMANDS
    for name, sub in subs.items():
        assert _action(sub, "debug").default is False, name
        assert callable(sub.get_default("func")), name


def test_inference_precisions_are_the_engines_dtypes():
    choices = tuple(_action(_subparsers()["vocode"], "precision").choices)
    assert choices == tuple(PRECISIONS) == ("fp32", "fp16", "bf16")
    assert [PRECISIONS[c] for c in choices] == [torch.float32, torch.float16, torch.bfloat16]


def test_vocode_chunking_defaults_are_the_vocoders():
    vocode = _subparsers()["vocode"]
    assert _action(vocode, "chunk_frames").default == inspect.signature(Vocoder.chunked).parameters[
        "chunk_frames"].default
    assert f"longer than {AUTO_CHUNK_FRAMES} frames" in _action(vocode, "stream").help


def test_train_defaults_are_train_options():
    train = _subparsers()["train"]
    assert tuple(_action(train, "precision").choices) == options.PRECISIONS == ("fp32", "bf16")
    args = build_parser().parse_args(["train", "--corpus", "c", "--out", "o"])
    defaults = {f.name: f.default for f in dataclasses.fields(options.TrainOptions) if f.name != "out"}
    shared = {"device", "precision", "checkpoint_interval", "validation_interval", "log_interval", "keep",
              "max_nonfinite", "deterministic", "cuda_graph", "resample", "mix_to_mono"}
    assert shared <= set(defaults)
    for name in shared:
        assert getattr(args, name) == defaults[name], name
    # bars on a terminal only: no --no-progress, and TrainOptions' None (hifigan.messages.progress_bars.shows_bars)
    assert args.no_progress is False and defaults["progress"] is None and args.out == Path("o")
    for flag, wanted in (("--cuda-graph", True), ("--no-cuda-graph", False)):  # the default, None: where it can run
        assert build_parser().parse_args(["train", "--corpus", "c", "--out", "o", flag]).cuda_graph is wanted


def test_bench_entries_name_a_backend_and_a_precision(capsys):
    assert bench_entry("tiled-split") == ("tiled-split", "fp32")
    assert [bench_entry(f"{b}:{p}") for b in HALF_BACKENDS for p in ("fp16", "bf16")] == [
        (b, p) for b in HALF_BACKENDS for p in ("fp16", "bf16")]
    for entry, message in (("turbo", "turbo: unknown backend"), ("auto", "auto: unknown backend"),
                           ("fused:fp8", "fused:fp8: unknown precision"),
                           ("onnx:bf16",
                            "onnx:bf16: onnx runs fp32 only (bf16 runs on eager, fused, cuda-graph, cuda-compiled)")):
        with pytest.raises(ValueError, match=re.escape(message)):
            bench_entry(entry)
    assert main(["bench", "--backends", "eager,fused:fp8", "--seconds", "0.1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "hifigan bench: error: --backends: fused:fp8: unknown precision (choose from fp32, fp16, bf16)"]
    assert main(["bench", "--backends", "fused:bf16", "--seconds", "0.1"]) == 2
    assert "--backends: include eager (fp32), the baseline" in capsys.readouterr().err
    assert main(["bench", "--backends", "eager,cuda-graph:fp16", "--seconds", "0.1"]) == 2  # the CPU, by default
    assert capsys.readouterr().err.strip().splitlines() == [
        "hifigan bench: error: --backends: backend cuda-graph runs on CUDA only (--device cuda)"]
    if not torch.cuda.is_available():
        assert main(["bench", "--device", "cuda", "--seconds", "0.1"]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [
            "hifigan bench: error: --device cuda: CUDA is not available on this machine"]


def test_no_help_restates_a_measured_speed():
    """A speed ratio or the machine it was measured on (`1.2-1.7x on an H200`, `~3x slower`) drifts from the
    measurement the docs own (docs/inference.md): --help says what an option does and points there."""
    measured = re.compile(r"\d(\.\d+)?x\b|\b[HA]100\b|\bH200\b|\bZen ?\d|\bEPYC\b")
    for name, sub in _subparsers().items():
        for text in (sub.description, sub.epilog, *(a.help for a in sub._actions)):
            assert not measured.search(text or ""), (name, text)
