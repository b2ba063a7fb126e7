"""`hifigan configs`: the preset configs (src/hifigan/configs), one row each, or one preset's file to copy."""

from __future__ import annotations

import argparse
import json

from hifigan.cli.common import add_command
from hifigan.messages.columns import aligned

COLUMNS = ("name", "rate", "hop", "n_fft/win", "mels", "fmin-fmax", "mel", "generator", "recipe")


def add_configs(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "configs", run_configs,
        help="list the preset configs (--config NAME) or print one to copy",
        description="List every preset config that --config NAME takes: sampling rate, hop in samples and "
        "milliseconds, FFT size and window, mel bins, mel band, mel convention (log and floor; centred frames; no "
        "epsilon under the magnitude), the generator's parameters and upsampling, and the published recipe it "
        "follows. A new rate is a new file: print a preset with --show, edit it and pass its path to --config.",
        epilog="examples:\n  hifigan configs\n  hifigan configs --show pwg-24k > my_24k.json",
    )
    p.add_argument("--show", metavar="NAME", help="print this preset's file (JSON) instead of the table")
    p.add_argument("--json", action="store_true", help="the table as JSON (one object per preset)")


def preset_row(name: str) -> dict[str, object]:
    """One preset's row: what a user compares presets by (the generator is sized on the meta device, no memory)."""
    from hifigan.config import load_preset
    from hifigan.melconv.model import ModelMel
    from hifigan.models.generators import meta_generator

    cfg = load_preset(name)
    params = meta_generator(cfg)[1]
    fmax = "sr/2" if cfg.fmax is None else f"{cfg.fmax:g}"
    return {
        "name": name,
        "rate": f"{cfg.sampling_rate} Hz",
        "hop": f"{cfg.hop_size} ({cfg.frames_ms(1):.2f} ms)",
        "n_fft/win": f"{cfg.n_fft}/{cfg.win_size}",
        "mels": cfg.num_mels,
        "fmin-fmax": f"{cfg.fmin:g}-{fmax}",
        "mel": ModelMel.of(cfg).label,
        "generator": f"{params / 1e6:.2f} M, x{'x'.join(map(str, cfg.upsample_rates))}",
        "recipe": cfg.recipe.get("project", ""),
    }


def table(rows: list[dict[str, object]]) -> str:
    """Rows as an aligned text table with a header."""
    cells = [list(COLUMNS)] + [[str(row[c]) for c in COLUMNS] for row in rows]
    return "\n".join(line.rstrip() for line in aligned(cells, left=range(len(COLUMNS))))


def run_configs(args: argparse.Namespace) -> int:
    from hifigan.config.files import preset_names, preset_path
    from hifigan.errors import ConfigError

    if args.show is not None:
        path = preset_path(args.show)
        if path is None:
            raise ConfigError(None, f"no preset {args.show!r} (presets: {', '.join(preset_names())})")
        print(path.read_text(), end="")
        return 0
    rows = [preset_row(name) for name in preset_names()]
    print(json.dumps(rows, indent=2) if args.json else table(rows))
    return 0
