"""Official-format checkpoint files (g_*, do_*) written by the official-style modules, for loading tests."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tests.support.official_reference import RefGenerator, RefMPD, RefMSD, reference_widths
from tests.support.tiny import tiny_config


def official_discriminator_file(g_state: dict, config, steps: int, epoch: int, betas=(0.9, 0.999), seed: int = 1
                                ) -> dict:
    """An official do_* dict: fresh MPD/MSD (seeded; the widths `config` gives) and both AdamWs after one step on
    random gradients, so their moments are real; the generator optimizer is over copies of `g_state`'s tensors."""
    import itertools

    torch.manual_seed(seed)
    mpd, msd = RefMPD(**reference_widths(config, "mpd")), RefMSD(**reference_widths(config, "msd"))
    optim_g = torch.optim.AdamW([torch.nn.Parameter(t.clone()) for t in g_state.values()], 2e-4, betas=betas)
    optim_d = torch.optim.AdamW(itertools.chain(msd.parameters(), mpd.parameters()), 2e-4, betas=betas)
    for optim in (optim_g, optim_d):
        for group in optim.param_groups:
            for p in group["params"]:
                p.grad = torch.randn_like(p)
        optim.step()
    return {"mpd": mpd.state_dict(), "msd": msd.state_dict(), "optim_g": optim_g.state_dict(),
            "optim_d": optim_d.state_dict(), "steps": steps, "epoch": epoch}


def official_tiny_files(folder: Path) -> tuple:
    """tests/support/tiny.py's ResBlock1 config, a seeded official g_* file of it and its json: (cfg, g file, json)."""
    cfg = tiny_config("1")
    torch.manual_seed(0)
    ckpt = folder / "g_00000010"
    torch.save({"generator": RefGenerator(cfg).state_dict()}, ckpt)
    cfg_path = folder / "config_tiny.json"
    cfg_path.write_text(json.dumps(cfg.to_dict()))
    return cfg, ckpt, cfg_path
