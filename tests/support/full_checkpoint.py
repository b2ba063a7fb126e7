"""A checkpoint of ours with everything export-official writes (generator, MPD, MSD, both optimizers, step and
epoch), built by hand without training: for the export-official and failed-write tests."""

from __future__ import annotations

from pathlib import Path

import torch

from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.models import Generator, MultiPeriodDiscriminator, MultiScaleDiscriminator
from tests.support.tiny import TINY_DISCRIMINATORS, tiny_config


def optimizer_state(module: torch.nn.Module, lr: float) -> dict:
    """An AdamW state with moments after one real step (lr tells the two optimizers apart)."""
    optim = torch.optim.AdamW(module.parameters(), lr=lr)
    sum(p.sum() for p in module.parameters()).backward()
    optim.step()
    return optim.state_dict()


def narrow_discriminators() -> tuple[torch.nn.Module, torch.nn.Module]:
    """The official MPD and MSD at the tiny widths (TINY_DISCRIMINATORS)."""
    return (MultiPeriodDiscriminator(**TINY_DISCRIMINATORS["mpd"]),
            MultiScaleDiscriminator(**TINY_DISCRIMINATORS["msd"]))


def write_full_checkpoint(path: Path) -> tuple[Path, dict]:
    """Our checkpoint at step 7, epoch 2, of a config with the official MPD and MSD (their arguments untouched),
    written to `path`; the weights are narrow ones, which export_official copies without building the modules."""
    torch.manual_seed(0)
    cfg = tiny_config("1", official_discriminators=True)
    generator = Generator(cfg)
    mpd, msd = narrow_discriminators()
    payload = generator_payload(generator.state_dict(), cfg, mpd=mpd.state_dict(), msd=msd.state_dict(),
                                optim_g=optimizer_state(generator, 1e-3), optim_d=optimizer_state(msd, 5e-4),
                                step=7, epoch=2)
    write_checkpoint(path, payload)
    return path, payload
