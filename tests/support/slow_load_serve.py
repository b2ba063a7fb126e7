"""Run by tests/serve/test_shutdown.py: `hifigan serve`'s serve() on a free port, whose model load computes for
SECONDS in torch (convolutions) before it returns the tiny model, so that a signal can come while the loader's
thread is inside torch. Exits with serve()'s code.

usage: python tests/support/slow_load_serve.py SECONDS
"""

from __future__ import annotations

import sys
import time

import torch

from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.limits import ServeOptions
from hifigan.serve.routes import build_app
from hifigan.serve.server import bind, serve
from tests.support.tiny import tiny_config


def load(seconds: float) -> Vocoder:
    cfg = tiny_config()
    signal_, weight = torch.randn(1, 16, 4000), torch.randn(16, 16, 7)
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        torch.conv1d(signal_, weight, padding=3)
    return Vocoder(Generator(cfg), cfg)


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(serve(build_app(None, "slow", ServeOptions()), bind("127.0.0.1", 0), "127.0.0.1",
                   lambda: load(float(sys.argv[1]))))
