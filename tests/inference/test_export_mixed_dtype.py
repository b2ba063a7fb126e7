"""A generator whose layers are of mixed dtypes (one layer left float64, say by loading a float64 state into it) is
exported wholly float32, as the files promise, and the caller's module keeps its dtypes."""

from __future__ import annotations

import torch

from hifigan.inference.export import export_generator
from hifigan.models import Generator
from tests.support.tiny import tiny_config


def test_a_generator_with_one_float64_layer_exports_as_float32(tmp_path):
    cfg = tiny_config()
    torch.manual_seed(0)
    eager = Generator(cfg).eval()
    eager.conv_post.double()
    export_generator(eager, "torchscript", tmp_path / "g.pt")
    assert {p.dtype for p in eager.conv_post.parameters()} == {torch.float64}
    assert next(eager.conv_pre.parameters()).dtype == torch.float32
    mel = torch.randn(1, cfg.num_mels, 9) - 3
    with torch.inference_mode():
        got = torch.jit.load(str(tmp_path / "g.pt"))(mel)
        expected = Generator(cfg).eval()
        expected.load_state_dict({k: v.float() for k, v in eager.state_dict().items()})
        want = expected.remove_weight_norm()(mel)[:, 0]
    assert got.dtype == torch.float32 and (got - want).abs().max() < 1e-5
