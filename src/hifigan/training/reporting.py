"""What a training run reports: console lines and the progress bar, TensorBoard events and a JSONL copy of the
scalars, and the mel images the validation (training.validation) logs."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

LOG_JSONL, EVENTS = "log.jsonl", "logs"  # in the run folder: one JSON record per logged step; TensorBoard's events

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from tqdm import tqdm


def say(message: str) -> None:
    """A console line on stderr that does not break the progress bar."""
    from tqdm import tqdm

    tqdm.write(message, file=sys.stderr)


def progress_bar(start: int, total: int | None) -> tqdm:
    """A tqdm bar over steps on stderr."""
    from tqdm import tqdm

    return tqdm(total=total, initial=start, unit="step", desc="train", file=sys.stderr, dynamic_ncols=True)


def show_step(bar: tqdm, terms: dict[str, float]) -> None:
    """Advance the bar one step, showing the main losses."""
    bar.update(1)
    shown = {k: terms[k] for k in ("g/total", "g/mel_l1", "d/total") if k in terms}
    bar.set_postfix({k: f"{v:.3f}" for k, v in shown.items()}, refresh=False)


class StepRate:
    """Steps per second since the previous reading (`clock`: seconds, monotonic)."""

    def __init__(self, step: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.mark = (clock(), step)

    def read(self, step: int) -> float:
        now = self.clock()
        then, old = self.mark
        self.mark = (now, step)
        return (step - old) / max(now - then, 1e-9)


class RunLog:
    """TensorBoard events plus a JSONL file (one object per line) of the same scalars, for scripts.

    A run resumed from step S continues the log of the run it resumes: what that run logged after step S (after
    its checkpoint, before it stopped) is dropped from both, so that each step is logged once. Each file is created
    when the first record is written to it: a run that fails before it logged anything leaves no logs, which would
    keep a new run out of its folder (training.run_folder.check_run_folder)."""

    def __init__(self, folder: Path, start_step: int) -> None:
        self.folder, self.start_step = folder, start_step
        self._writer: Any = None
        self._jsonl: Any = None
        if start_step:
            keep_records_up_to(folder / LOG_JSONL, start_step)

    @property
    def writer(self) -> Any:
        """The TensorBoard SummaryWriter (events under logs/), created on first use."""
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            # TensorBoard hides the earlier events of steps >= purge_step
            self._writer = SummaryWriter(str(self.folder / EVENTS),
                                         purge_step=self.start_step + 1 if self.start_step else None)
        return self._writer

    def scalars(self, step: int, values: dict[str, float], **extra: Any) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, step)
        record = {"step": step, **extra, **{k: (v if math.isfinite(v) else str(v)) for k, v in values.items()}}
        self._write(record)

    def event(self, step: int, kind: str, message: str) -> None:
        self._write({"step": step, "event": kind, "message": message})

    def _write(self, record: dict[str, Any]) -> None:
        """One JSONL line, flushed (log.jsonl opened on the first)."""
        if self._jsonl is None:
            self._jsonl = open(self.folder / LOG_JSONL, "a", encoding="utf-8")  # closed in close()
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()

    def close(self) -> None:
        for handle in (self._writer, self._jsonl):
            if handle is not None:
                handle.close()
        self._writer = self._jsonl = None


def keep_records_up_to(path: Path, step: int) -> None:
    """Rewrite a JSONL log (atomically) without its records of steps after `step`, and without a line that is not a
    whole JSON object (the last line of a run killed while writing it)."""
    from hifigan.atomic import atomic_path

    if not path.is_file():
        return
    with atomic_path(path) as tmp, open(path, encoding="utf-8") as old, open(tmp, "w", encoding="utf-8") as new:
        for line in old:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("step", 0) <= step:
                new.write(line if line.endswith("\n") else line + "\n")


def mel_figure(reference: np.ndarray, generated: np.ndarray, title: str = "") -> Figure:
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


def save_figure(figure: Figure, target: str | Path, dpi: int = 100) -> None:
    """`figure` as a PNG at `target`, whole or not at all (hifigan.atomic): a full disk leaves no half image."""
    from hifigan.atomic import atomic_path

    with atomic_path(target) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi)
