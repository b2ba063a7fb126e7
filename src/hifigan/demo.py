"""`hifigan demo`: train a small model on the bundled clips for a few minutes, then show what it learned.

The budget goes mostly to a generator-only warm-up on the mel loss (it learns fastest per CPU second),
then to full GAN training for the rest; the held-out clips are vocoded before and after, and a table of
objective scores (computed by `compare`, one row per clip) is printed and written as markdown and JSON.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hifigan.audio import mel_frontend, save_audio
from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError


def compare(reference: np.ndarray, generated: np.ndarray, config: HifiganConfig) -> dict[str, float]:
    """Objective scores of one generated clip against its recording (add metrics here; lower or higher
    is better per metric, named in `METRIC_DIRECTION`)."""
    from hifigan.metrics import mel_l1

    return {"mel_l1": mel_l1(reference, generated, config)}


METRIC_DIRECTION = {"mel_l1": "lower is better"}


@dataclass
class Vocoded:
    """One held-out clip: its id, the reference audio, the input mel and the generated audio."""

    clip: str
    reference: np.ndarray
    mel: np.ndarray
    generated: np.ndarray


def vocode_clips(generator: torch.nn.Module, dataset, device: torch.device) -> list[Vocoded]:
    """Run the generator (as trained, eval mode) on every whole held-out utterance."""
    out = []
    generator.eval()
    try:
        with torch.no_grad():
            for i in range(len(dataset)):
                mel, audio, _, _ = dataset[i]
                y_hat = generator(mel.unsqueeze(0).to(device)).float().reshape(-1).cpu().numpy()
                out.append(Vocoded(dataset.clips[i].id, audio.numpy(), mel.numpy(), y_hat))
    finally:
        generator.train()
    return out


def score_table(start: list[Vocoded], end: list[Vocoded], config: HifiganConfig) -> list[dict[str, Any]]:
    """One row per clip (and a mean row): every `compare` metric before and after training."""
    rows = []
    for before, after in zip(start, end):
        s, e = compare(before.reference, before.generated, config), compare(after.reference, after.generated, config)
        rows.append({"clip": before.clip, **{f"{k} start": v for k, v in s.items()},
                     **{f"{k} end": v for k, v in e.items()}})
    keys = [k for k in rows[0] if k != "clip"]
    rows.append({"clip": "mean", **{k: float(np.mean([r[k] for r in rows])) for k in keys}})
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """A markdown table (also readable in a terminal)."""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join("---" for _ in keys) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(v if isinstance(v, str) else f"{v:.4f}" for v in row.values()) + " |")
    return "\n".join(lines)


def run_demo(
    corpus: Path,
    out: Path,
    *,
    minutes: float = 9.0,
    config: str | HifiganConfig = "v3",
    batch_size: int = 4,
    segment_size: int | None = None,
    valid_count: int = 3,
    gan_fraction: float = 0.15,
    device: str = "cpu",
    seed: int | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Train for `minutes` in all (warm-up, then GAN), vocode the held-out clips, write wavs, PNGs, tables."""
    from hifigan.config import config_from_dict, load_config
    from hifigan.data import Corpus, scan_clips
    from hifigan.train import Trainer, TrainOptions, mel_figure

    begun = time.monotonic()
    if not 0 <= gan_fraction <= 1:
        raise HifiganError(None, f"--gan-fraction must be in [0, 1], got {gan_fraction}")
    base = load_config(config)
    overrides: dict[str, Any] = {"batch_size": batch_size, "num_workers": 0, "disc_start_step": 10**9}
    if segment_size is not None:
        overrides["segment_size"] = segment_size
    if seed is not None:
        overrides["seed"] = seed
    cfg = config_from_dict({**base.to_dict(), **overrides}, "demo options")
    train_files, valid_files = Corpus(folder=corpus, valid_count=valid_count).resolve(cfg.seed)
    train = scan_clips(train_files, cfg, what="training set").clips
    valid = scan_clips(valid_files, cfg, what="validation set").clips
    out.mkdir(parents=True, exist_ok=True)
    options = TrainOptions(out=out / "run", device=device, checkpoint_interval=0, validation_interval=200,
                           log_interval=10, keep=1, progress=progress)
    trainer = Trainer(cfg, train, valid, options)
    say = trainer._say

    vocode_start = time.monotonic()
    start = vocode_clips(trainer.generator, trainer.valid_set, trainer.device)
    vocode_seconds = time.monotonic() - vocode_start
    # What is left after set-up, minus the final vocoding and writing (about twice the first vocoding).
    budget = max(minutes * 60 - (time.monotonic() - begun) - 2 * vocode_seconds - min(5.0, minutes), 1.0)
    warm = budget * (1 - gan_fraction)
    say(f"demo: {len(train)} training clips, {len(valid)} held out; {budget / 60:.1f} min of training "
        f"({warm / 60:.1f} generator-only warm-up, then {(budget - warm) / 60:.1f} with the discriminators)")
    try:
        trainer.fit(max_minutes=warm / 60)
        if gan_fraction > 0:
            trainer.config.disc_start_step = trainer.step
            say(f"demo: discriminators start at step {trainer.step}")
            trainer.fit(max_minutes=(budget - warm) / 60)
    finally:
        trainer.close()
    end = vocode_clips(trainer.generator, trainer.valid_set, trainer.device)

    frontend = mel_frontend(**cfg.mel_kwargs())
    for clip in end:
        save_audio(out / f"{clip.clip}_generated.wav", clip.generated, cfg.sampling_rate)
        save_audio(out / f"{clip.clip}_reference.wav", clip.reference, cfg.sampling_rate)
        figure = mel_figure(clip.mel, frontend(torch.from_numpy(clip.generated)).numpy(), clip.clip)
        figure.savefig(out / f"{clip.clip}_mel.png", dpi=100)
    rows = score_table(start, end, cfg)
    table = format_table(rows)
    summary = (f"after {trainer.step} steps ({trainer.config.disc_start_step if gan_fraction else 'no'} "
               f"generator-only), {(time.monotonic() - begun) / 60:.1f} min in all")
    (out / "results.md").write_text(f"# hifigan demo\n\n{summary}\n\n{table}\n\n"
                                    + "".join(f"- {k}: {v}\n" for k, v in METRIC_DIRECTION.items()))
    (out / "results.json").write_text(json.dumps({"steps": trainer.step, "disc_start_step":
                                                  trainer.config.disc_start_step, "rows": rows}, indent=2))
    print(f"\n{summary}\n{table}\n\nwrote {out}/ (wavs, *_mel.png, results.md, results.json, run/)",
          file=sys.stdout)
    return rows
