"""What a training run reports: console lines and the progress bar, TensorBoard events and a JSONL copy of the
scalars, and the validation: every whole held-out utterance through the generator (eval mode, no gradients), as the
official code, its mean mel L1, and the audio and mel images of the first few clips."""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hifigan.config import HifiganConfig
from hifigan.data.dataset import VocoderDataset
from hifigan.evaluation.spectral import mel_l1
from hifigan.mel import MelSpectrogram


def say(message: str) -> None:
    """A console line on stderr that does not break the progress bar."""
    from tqdm import tqdm

    tqdm.write(message, file=sys.stderr)


def progress_bar(start: int, total: int | None):
    """A tqdm bar over steps on stderr."""
    from tqdm import tqdm

    return tqdm(total=total, initial=start, unit="step", desc="train", file=sys.stderr, dynamic_ncols=True)


def show_step(bar, terms: dict[str, float]) -> None:
    """Advance the bar one step, showing the main losses."""
    bar.update(1)
    shown = {k: terms[k] for k in ("g/total", "g/mel_l1", "d/total") if k in terms}
    bar.set_postfix({k: f"{v:.3f}" for k, v in shown.items()}, refresh=False)


class StepRate:
    """Steps per second since the previous reading."""

    def __init__(self, step: int) -> None:
        self.mark = (time.monotonic(), step)

    def read(self, step: int) -> float:
        now = time.monotonic()
        then, old = self.mark
        self.mark = (now, step)
        return (step - old) / max(now - then, 1e-9)


class RunLog:
    """TensorBoard events plus a JSONL file (one object per line) of the same scalars, for scripts."""

    def __init__(self, folder: Path, start_step: int) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(folder / "logs"), purge_step=start_step or None)
        self.jsonl = open(folder / "log.jsonl", "a", encoding="utf-8")  # closed in close()

    def scalars(self, step: int, values: dict[str, float], **extra: Any) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, step)
        record = {"step": step, **extra, **{k: (v if math.isfinite(v) else str(v)) for k, v in values.items()}}
        self.jsonl.write(json.dumps(record) + "\n")
        self.jsonl.flush()

    def event(self, step: int, kind: str, message: str) -> None:
        self.jsonl.write(json.dumps({"step": step, "event": kind, "message": message}) + "\n")
        self.jsonl.flush()

    def close(self) -> None:
        self.writer.close()
        self.jsonl.close()


def mel_figure(reference: np.ndarray, generated: np.ndarray, title: str = ""):
    """A matplotlib figure: ground-truth and generated log-mel side by side (Agg backend, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    lo = float(min(reference.min(), generated.min()))
    hi = float(max(reference.max(), generated.max()))
    for ax, mel, name in zip(axes, (reference, generated), ("ground truth", "generated")):
        image = ax.imshow(mel, aspect="auto", origin="lower", interpolation="none", vmin=lo, vmax=hi)
        ax.set_title(f"{title} {name}".strip())
        ax.set_xlabel("frame")
    axes[0].set_ylabel("mel bin")
    fig.colorbar(image, ax=axes, label="log magnitude")
    return fig


class Validation:
    """The held-out clips and how to score them; `media_clips` clips also go to TensorBoard as audio and mels."""

    def __init__(self, valid_set: VocoderDataset, config: HifiganConfig, device: torch.device,
                 autocast: Callable[[], contextlib.AbstractContextManager], media_clips: int) -> None:
        self.valid_set, self.config, self.device, self.autocast = valid_set, config, device, autocast
        self.media_clips = media_clips
        self.input_mel = MelSpectrogram(**config.mel_kwargs())
        self.logged_references = False

    @torch.no_grad()
    def run(self, generator: nn.Module, step: int, epoch: int, log: RunLog | None) -> float:
        """Mean mel L1 (loss mel) over the held-out clips, logged as val/mel_l1 (NaN when there are none)."""
        if len(self.valid_set) == 0:
            return math.nan
        errors = []
        for i, mel, audio, y_hat in self.vocode(generator):
            errors.append(mel_l1(audio, y_hat, self.config))
            if log and i < self.media_clips:
                self._log_media(log, step, i, mel, audio, y_hat)
        value = float(np.mean(errors))
        if log:
            log.scalars(step, {"val/mel_l1": value}, epoch=epoch)
        return value

    def vocode(self, generator: nn.Module) -> Iterator[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """(index, input mel, reference audio, generated audio as float32 on the CPU) for each held-out clip.

        Frame i's audio is samples [i hop, (i + 1) hop) in either framing, so sample n of one is sample n of the
        other; the generated audio stops at the recording's end (centred framing's 1 + T // hop frames give up
        to a hop more)."""
        generator.eval()
        try:
            with torch.no_grad():
                for i in range(len(self.valid_set)):
                    mel, audio, _, _ = self.valid_set[i]
                    with self.autocast():
                        y_hat = generator(mel.unsqueeze(0).to(self.device))
                    yield i, mel, audio, y_hat.float().reshape(-1)[: audio.shape[-1]].cpu()
        finally:
            generator.train()

    def _log_media(self, log: RunLog, step: int, i: int, mel: torch.Tensor, audio: torch.Tensor,
                   y_hat: torch.Tensor) -> None:
        clip = self.valid_set.clips[i].id
        sr = self.config.sampling_rate
        writer = log.writer
        if not self.logged_references:
            writer.add_audio(f"reference/{clip}", audio.unsqueeze(0), step, sr)
        writer.add_audio(f"generated/{clip}", y_hat.unsqueeze(0), step, sr)
        generated = self.input_mel(y_hat).numpy()
        writer.add_figure(f"mel/{clip}", mel_figure(mel.numpy(), generated, clip), step, close=True)
        if i == min(self.media_clips, len(self.valid_set)) - 1:
            self.logged_references = True
