"""Every exported model file is run (onnxruntime, torch.jit.load) against the eager generator before it is renamed
into place: a file that computes otherwise is a one-line error, and no file (an existing one is kept)."""

import re

import numpy as np
import pytest
import torch
from torch import nn

from hifigan.errors import HifiganError
from hifigan.inference.export import export_generator
from hifigan.inference.export_check import check_model_file, compare
from hifigan.messages.plural import count
from hifigan.models import Generator
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


class _ExportedLouder(nn.Module):
    """A generator (no layer description: exported as itself) whose graph, as the ONNX exporter records it, is 0.1%
    louder than its eager forward: an exporter defect of the size of a dropped constant."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv1d(16, 16, 1)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        audio = torch.tanh(self.conv(mel)).transpose(1, 2).reshape(mel.shape[0], 1, -1)
        return audio * 1.001 if torch.onnx.is_in_onnx_export() else audio


def test_an_onnx_file_that_computes_otherwise_is_not_written(tmp_path):
    """The exporter's graph 1e-3 off eager: refused in one line naming the output; an existing file is kept and no
    temporary file is left. The same module exports as TorchScript (its trace is eager's), checked alike."""
    out = tmp_path / "g.onnx"
    out.write_bytes(b"previous")
    message = (f"{out}: the exported onnx file differs from the eager generator by 0.001 of the audio's peak at 19 "
               "frames (more than 0.0001)")
    with pytest.raises(HifiganError, match=f"^{re.escape(message)}$"):
        export_generator(_ExportedLouder(), "onnx", out, num_mels=16)
    assert [p.name for p in tmp_path.iterdir()] == ["g.onnx"] and out.read_bytes() == b"previous"
    export_generator(_ExportedLouder(), "torchscript", tmp_path / "g.pt", num_mels=16)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.onnx", "g.pt"]


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_the_check_tells_a_file_from_another_generator(tmp_path, fmt):
    """check_model_file on a real export: its own generator passes; the same generator with conv_post's bias moved
    by 1e-3 (0.4% of the peak) is refused, the error naming the format, the size and the mel's frames."""
    cfg = tiny_config()
    torch.manual_seed(0)
    generator = Generator(cfg).eval()
    export_generator(generator, fmt, tmp_path / "g")  # checked against `generator` as it was written
    mel = torch.randn(2, cfg.num_mels, 9) - 3

    def mono(mel: torch.Tensor) -> torch.Tensor:
        return generator(mel)[:, 0]

    check_model_file(tmp_path / "g", fmt, mono, mel, "g")
    with torch.no_grad():
        before = mono(mel)
        generator.conv_post.bias += 1e-3
        after = mono(mel)
    with pytest.raises(HifiganError) as info:
        check_model_file(tmp_path / "g", fmt, mono, mel, "g")
    said = re.fullmatch(rf"g: the exported {fmt} file differs from the eager generator by (\S+) of the audio's peak at "
                        r"9 frames \(more than 0\.0001\)", str(info.value))
    moved = float((after - before).abs().max() / after.abs().max())  # by hand: the file computes `before`
    assert said is not None and 2e-3 < moved and float(said.group(1)) == pytest.approx(moved, rel=0.02)


@pytest.mark.parametrize(("got", "said"), [(1, "1 sample for 1 frame"), (2, "2 samples for 1 frame")])
def test_a_length_that_differs_is_counted_in_words(got, said):
    with pytest.raises(HifiganError) as refused:
        compare(np.zeros((1, got)), np.zeros((1, 3)), subject="the exported onnx file",
                reference="the eager generator", unit="sample", where=count(1, "frame"), scale="the audio's peak",
                tolerance=1e-4)
    assert str(refused.value) == f"the exported onnx file gives {said}, the eager generator 3"
