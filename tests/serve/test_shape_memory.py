"""A server on the CPU runs its model's passes in a bounded set of shapes (hifigan.serve.limits.serve_buckets), so
that the convolution primitives oneDNN keeps per shape, and the process's memory, stay bounded over its life
(docs/serving.md, Memory). Counted here: the shapes the generator is actually called with."""

import numpy as np
import torch

from hifigan.inference.packing import Buckets
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.limits import serve_buckets
from tests.support.tiny import tiny_config

CFG = tiny_config()
FIELD = Vocoder(Generator(CFG), CFG, backend="eager").receptive_field
EDGE = FIELD.left + FIELD.right  # the edge windows' width (packing)


def _served_shapes(choice: str, lengths) -> set[tuple[int, ...]]:
    """The input shapes of every generator pass of a Vocoder built as `hifigan serve --shape-buckets CHOICE` builds it
    on the CPU, vocoding each length as the scheduler vocodes a lone request (`batch`, all frames kept)."""
    cfg = CFG
    torch.manual_seed(0)
    vocoder = Vocoder(Generator(cfg), cfg, backend="eager", shape_buckets=serve_buckets(choice, "cpu"))
    shapes: set[tuple[int, ...]] = set()
    vocoder.generator.register_forward_pre_hook(lambda module, args: shapes.add(tuple(args[0].shape)))
    rng = np.random.default_rng(0)
    for n in lengths:
        mel = torch.from_numpy(rng.uniform(-11, -2, (cfg.num_mels, int(n))).astype(np.float32))
        vocoder.batch([mel], keep=[(0, int(n))])
    return shapes


def test_random_lengths_meet_few_pass_shapes_on_a_cpu_server():
    lengths = np.random.default_rng(1).integers(1, 301, 150)
    served = _served_shapes("auto", lengths)
    sizes = {Buckets().frames(n) for n in range(1, 301)}  # 50 frame counts; one row each (a lone request)
    assert {f for _, _, f in served} <= sizes | {EDGE}
    assert len(served) <= len(sizes) + 1
    assert len(_served_shapes("off", lengths)) == len(set(lengths))  # serve's CPU default before: one per length


def test_a_length_that_keeps_coming_stays_bucketed_on_a_cpu_server():
    """`Buckets.exact_after` (a shape asked for 32 times runs as it is) is off for a CPU server: each exact shape
    would be one more set of primitives kept, and over weeks every common length would become one."""
    served = _served_shapes("on", [300] * 40)
    assert (1, 16, 300) not in served
    assert {f for _, _, f in served} == {Buckets().frames(300), EDGE}  # 320 frames, and the end's edge window
