"""The model's mel front-end (`hifigan.mel.MelSpectrogram` of its config) as ONNX, so that a deployment computes its
input with the package's own front-end rather than a copy: audio float32 [batch, samples] in [-1, 1] -> the mel the
exported generator takes, float32 [batch, num_mels, frames] (`hifigan export --frontend` writes it as NAME.mel.onnx).

torch's dynamo exporter writes it (the TorchScript-based one has no complex STFT); onnxruntime checks it against
MelSpectrogram before it is written.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hifigan.arrays.padding import reflect_pad
from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError
from hifigan.inference.export_check import compare, onnx_session
from hifigan.inference.export_facts import frontend_facts, with_onnx_facts
from hifigan.mel import MelSpectrogram
from hifigan.messages.plural import count
from hifigan.runtime.extras import optional_import

FRONTEND_OPSET = 18  # torch.stft becomes ONNX STFT (opset 17 on); 18 is the dynamo exporter's own opset
SUFFIX = ".mel.onnx"  # NAME.onnx's front-end is NAME.mel.onnx
# Agreement with MelSpectrogram's float64 mel (what the file computes, to the float32 rounding of |X|, the filterbank
# and the map) on check_frontend's noise, relative to the mel's largest |value| (its floor, for a log convention): 3e-7
# at most on tiny configs, every convention and framing, both STFT paths (tests/inference/test_export_frontend.py); a
# one-sample shift of the padding is >= 1.5e-2. Torch's float32 mel is 1e-7 to 1e-6 of it further, its FFT's rounding
# (real speech on V1: ~4e-5 of it in its quiet bins: docs/export.md), which is why the check is not against it.
TOLERANCE = 1e-6


def frontend_path(model: str | os.PathLike) -> Path:
    """Where `hifigan export --frontend` writes the front-end of the model file `model`: NAME.onnx -> NAME.mel.onnx."""
    model = Path(model)
    return model.with_name(model.stem + SUFFIX) if model.suffix.lower() == ".onnx" else model.with_name(
        model.name + SUFFIX)


class FrontEnd(nn.Module):
    """A MelSpectrogram as a module, for the exporter: [batch, samples] -> [batch, num_mels, frames] (exporting leaves
    its tensor cache as it was: MelSpectrogram keeps none of the exporter's fake tensors).

    ONNX's STFT operator runs in float64, |X| cast to float32 before the filterbank: ONNX Runtime's float32 radix-2
    FFT takes its twiddle factors as cos/sin of float32 angles (up to 4e-7 rad off near 2 pi; correctly rounded ones,
    pocketfft's in torch, 4e-8), so its rounding, absolute (on 2048 samples of noise 1.8e-6 of their norm, torch's
    4.7e-7), was 2-4x torch's in nats: 4e-3 in a 48 kHz mel's bins near the floor (audio resampled up from 22.05
    kHz, whose top bins are near silent). In float64 the file computes MelSpectrogram's float64 mel to float32
    rounding, for ~10% more CPU (docs/export.md).

    An n_fft other than a power of two (an odd one, which the official framing of an odd hop needs: 2049 for hop 441
    at 44.1 kHz; or 1200, 960, ...) takes its STFT as the frames times the windowed DFT's rows, a float64 MatMul:
    ONNX Runtime's float64 STFT of such a length is as exact but takes 3x the CPU (a DFT of n_fft^2 per frame, where
    MatMul is a GEMM), and float64 Conv it has none. Those rows weigh 16 (n_fft // 2 + 1) n_fft bytes in the file
    (n_fft 1200: 12 MB, 2049: 34 MB)."""

    def __init__(self, mel: MelSpectrogram) -> None:
        super().__init__()
        self.mel = mel
        self.dft = _windowed_dft(mel) if mel.n_fft & (mel.n_fft - 1) else None

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        mel = self.mel
        if self.dft is None:  # the STFT in float64, the rest in float32 as MelSpectrogram
            return mel.of_magnitude(mel.stft_magnitude(audio.double()).float())
        y = reflect_pad(audio.double(), mel.pad, mel.pad)
        if mel.stft_pad:  # the official code's center=True: torch.stft's own reflect padding as well
            y = reflect_pad(y, mel.stft_pad, mel.stft_pad)
        parts = torch.matmul(y.unfold(-1, mel.n_fft, mel.hop_size), self.dft).transpose(1, 2)  # [B, 2 bins, frames]
        real, imag = parts.chunk(2, dim=1)
        return mel.of_magnitude(mel.magnitude(real, imag).float())


def _windowed_dft(mel: MelSpectrogram) -> torch.Tensor:
    """[n_fft, 2 (n_fft // 2 + 1)] float64: the real then the imaginary parts of torch.stft's one-sided DFT of a
    frame, its Hann window of win_size centred in n_fft as torch.stft places it."""
    n, bins = mel.n_fft, mel.n_fft // 2 + 1
    window = torch.zeros(n, dtype=torch.float64)
    left = (n - mel.win_size) // 2
    window[left : left + mel.win_size] = torch.hann_window(mel.win_size, dtype=torch.float64)
    angle = 2 * torch.pi * ((torch.arange(bins)[:, None] * torch.arange(n)[None]) % n).double() / n
    return (torch.cat([torch.cos(angle), -torch.sin(angle)]) * window).T.contiguous()


def _audio(batch: int, samples: int, seed: int) -> np.ndarray:
    """Float32 noise [batch, samples] at -20 dB with a silent first quarter (there the floor and epsilon show)."""
    audio = np.random.default_rng(seed).standard_normal((batch, samples)).astype(np.float32) * 0.1
    audio[:, : samples // 4] = 0
    return audio


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """The exporter's notices (deprecations, torchvision not installed, its progress) kept off the command's
    output: a command prints one line."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def dynamo_onnx_bytes(module: nn.Module, min_samples: int, example_samples: int, outputs: list[str]) -> bytes:
    """`module` ([batch, samples] audio -> `outputs`) as ONNX by torch's dynamo exporter: input 'audio', batch and
    samples dynamic (samples >= min_samples), traced on float32 audio [2, example_samples]. A failure is one line."""
    for package in ("onnx", "onnxruntime"):  # the exporter writes with onnx; the check runs onnxruntime
        optional_import(package, "exporting the mel front-end")
    optimizer = optional_import("onnxscript.optimizer", "exporting the mel front-end")  # the dynamo exporter's
    example = torch.from_numpy(_audio(2, example_samples, seed=0))
    samples = torch.export.Dim("samples", min=min_samples)
    try:
        with _quiet_exporter(), torch.no_grad():
            # Not the exporter's optimize=True: onnxscript 0.7's rewrite rules take x + c for x where |c| <= 1e-8,
            # and drop |X|'s 1e-9 epsilon (silent frames then fall to the floor). Constants folded only.
            program = torch.onnx.export(
                module.eval(), (example,), dynamo=True, dynamic_shapes=({0: torch.export.Dim("batch"), 1: samples},),
                input_names=["audio"], output_names=outputs, opset_version=FRONTEND_OPSET, verbose=False,
                optimize=False,
            )
            optimizer.fold_constants(program.model)
            optimizer.remove_unused_nodes(program.model)
    except Exception as e:  # the exporter's failures have many types; its first line says what
        text = " ".join(str(e).split())[:200]
        raise HifiganError(None, f"cannot export the mel front-end ({type(e).__name__}: {text})") from None
    return program.model_proto.SerializeToString()


def frontend_onnx_bytes(mel: MelSpectrogram) -> bytes:
    """The front-end `mel` as an ONNX model (bytes, without facts): input 'audio' [batch, samples], samples >=
    mel.min_samples; output 'mel' [batch, num_mels, frames]."""
    least = mel.min_samples
    return dynamo_onnx_bytes(FrontEnd(mel), least, max(least, 4 * mel.n_fft), ["mel"])


def check_frontend(model: bytes, mel: MelSpectrogram) -> None:
    """`model` run by onnxruntime gives `mel`'s mel of the audio in float64 (shape, and values within TOLERANCE of its
    range) at its shortest audio and at a longer one, batch 2; else a one-line HifiganError saying where it differs."""
    session = onnx_session(model, "checking the exported mel front-end")
    for samples in (mel.min_samples, 3 * mel.n_fft + mel.hop_size // 2 + 1):
        audio = _audio(2, samples, seed=samples)
        expected = mel(torch.from_numpy(audio.astype(np.float64))).numpy()
        got = session.run(["mel"], {"audio": audio})[0]
        compare(got, expected, subject="the exported mel front-end", reference="MelSpectrogram", unit="frame",
                where=count(samples, "sample"), scale="the mel's range", tolerance=TOLERANCE)


def frontend_bytes(config: HifiganConfig) -> bytes:
    """The config's front-end exported and checked, its facts (export_facts.frontend_facts) in its metadata_props:
    one MelSpectrogram is exported, checked against and asked its shortest audio."""
    mel = MelSpectrogram(**config.mel_kwargs())
    model = frontend_onnx_bytes(mel)
    check_frontend(model, mel)
    return with_onnx_facts(model, frontend_facts(config, mel.min_samples))
