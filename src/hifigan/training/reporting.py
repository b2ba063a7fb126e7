"""What a training run reports: console lines and the progress bar, TensorBoard events and a JSONL copy of the
scalars, and the mel images the validation (training.validation) logs."""

from __future__ import annotations

import contextlib
import errno
import json
import math
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hifigan.errors import WriteError
from hifigan.files.atomic import atomic_path
from hifigan.files.write_failures import write_failure
from hifigan.messages.figure_text import drawable
from hifigan.training.event_file import EventFile
from hifigan.training.stop_signal import to_devnull

LOG_JSONL, EVENTS = "log.jsonl", "logs"  # in the run folder: one JSON record per logged step; TensorBoard's events

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from torch.utils.tensorboard import SummaryWriter
    from tqdm import tqdm

    from hifigan.training.stop_signal import StopOnSignal


def say(message: str, stop: StopOnSignal | None = None) -> None:
    """A console line on stderr that does not break the progress bar. `stop`: a training loop's, which a console
    gone (stderr's reader ended: `|& head`, a `tee` killed; EIO: a terminal gone under `nohup`) asks to stop
    after this step and save, SIGPIPE its reason, with stderr sent to /dev/null; without it, the OSError ends the
    command (nothing trained yet)."""
    from tqdm import tqdm

    try:
        tqdm.write(message, file=sys.stderr)
    except OSError as e:
        if stop is None or e.errno not in (errno.EPIPE, errno.EIO):
            raise
        to_devnull(sys.stderr)
        stop.request(signal.SIGPIPE)


def progress_bar(start: int, total: int | None) -> tqdm:
    """A tqdm bar over steps on stderr."""
    from tqdm import tqdm

    return tqdm(total=total, initial=start, unit="step", desc="train", file=sys.stderr, dynamic_ncols=True)


def show_step(bar: tqdm, terms: dict[str, float], total: int | None = None) -> None:
    """Advance the bar one step, showing that step's main losses and `total` (the step the run is expected to stop
    at, None: as it was), each set before the update, which may draw the bar."""
    if total is not None:
        bar.total = total
    shown = {k: terms[k] for k in ("g/total", "g/mel_l1", "d/total") if k in terms}
    bar.set_postfix({k: f"{v:.3f}" for k, v in shown.items()}, refresh=False)
    bar.update(1)


class StepRate:
    """Steps per second since the previous reading (`clock`: seconds, monotonic), not counting the time spent in
    `paused()` blocks (validation and checkpoints, which are not training steps)."""

    def __init__(self, step: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.mark = (clock(), step)
        self.excluded = 0.0  # seconds paused since the previous reading

    def read(self, step: int) -> float:
        now = self.clock()
        then, old = self.mark
        self.mark = (now, step)
        elapsed, self.excluded = now - then - self.excluded, 0.0
        return (step - old) / max(elapsed, 1e-9)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The block's time is left out of the next reading."""
        start = self.clock()
        try:
            yield
        finally:
            self.excluded += self.clock() - start


class RunLog:
    """TensorBoard events plus a JSONL file (one object per line) of the same scalars, for scripts.

    A run resumed from step S continues the log of the run it resumes: what that run logged after step S (after
    its checkpoint, before it stopped) is dropped from both, so that each step is logged once. Each file is created
    when the first record is written to it: a run that fails before it logged anything leaves no logs, which would
    keep a new run out of its folder (training.run_folder.check_run_folder). A write that fails (a full disk) raises
    a WriteError naming the file, once: the run stops on it, and close() then closes without raising it again."""

    def __init__(self, folder: Path, start_step: int) -> None:
        self.folder, self.start_step = folder, start_step
        self._events: EventFile | None = None
        self._jsonl: Any = None
        self.failed = False  # a write failed, and said so
        if start_step:
            keep_records_up_to(folder / LOG_JSONL, start_step)

    @contextlib.contextmanager
    def tensorboard(self) -> Iterator[SummaryWriter]:
        """TensorBoard's SummaryWriter (its events file under logs/ made on first use), for add_* calls: a write
        that fails, in the block or in TensorBoard's thread since, raises a WriteError naming the events file."""
        with self._failing():
            if self._events is None:
                # TensorBoard hides the earlier events of steps >= purge_step
                self._events = EventFile(self.folder / EVENTS, self.start_step + 1 if self.start_step else None)
            with self._events.writing() as writer:
                yield writer

    def scalars(self, step: int, values: dict[str, float], **extra: Any) -> None:
        with self.tensorboard() as writer:
            for name, value in values.items():
                writer.add_scalar(name, value, step)
        record = {"step": step, **extra, **{k: (v if math.isfinite(v) else str(v)) for k, v in values.items()}}
        self._write(record)

    def event(self, step: int, kind: str, message: str) -> None:
        self._write({"step": step, "event": kind, "message": message})

    def _write(self, record: dict[str, Any]) -> None:
        """One JSONL line, flushed (log.jsonl opened on the first)."""
        with self._failing(), self._jsonl_writes():
            if self._jsonl is None:
                self._jsonl = open(self.folder / LOG_JSONL, "a", encoding="utf-8")  # closed in close()
            self._jsonl.write(json.dumps(record) + "\n")
            self._jsonl.flush()

    @contextlib.contextmanager
    def _jsonl_writes(self) -> Iterator[None]:
        """An OSError in the block as a WriteError naming log.jsonl."""
        try:
            yield
        except OSError as e:
            raise write_failure(self.folder / LOG_JSONL, e) from None

    @contextlib.contextmanager
    def _failing(self) -> Iterator[None]:
        """A WriteError in the block marks the log failed (close() then does not raise it again)."""
        try:
            yield
        except WriteError:
            self.failed = True
            raise

    def close(self) -> None:
        """Close both files: a write that failed since the last record (in TensorBoard's thread) raises here,
        unless a failed write was raised already."""
        events, jsonl, self._events, self._jsonl = self._events, self._jsonl, None, None
        try:
            try:
                if events is not None:
                    events.close()
            finally:
                if jsonl is not None:
                    with self._jsonl_writes():
                        jsonl.close()
        except WriteError:
            if not self.failed:
                self.failed = True
                raise


def keep_records_up_to(path: Path, step: int) -> None:
    """Rewrite a JSONL log (atomically) without its records of steps after `step`, and without a line that is not a
    whole JSON object (the last line of a run killed while writing it)."""
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


def mel_figure(reference: np.ndarray, generated: np.ndarray, title: str = "",
               scale: tuple[float, float] | None = None) -> Figure:
    """A matplotlib figure: ground-truth and generated log-mel side by side (Agg backend, no display), low bins at
    the bottom. `scale`: the colour bar's (low, high), values beyond it drawn in its end colours (the bar's arrows);
    else the range of both mels."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    # A fixed layout (room for the labels, the colour bar in its own axes): matplotlib's constrained layout took 40% of
    # a validation's media time, every validation. wspace leaves ~40 px between the panels, room for the halves of
    # the left's last frame label and the right's first ('1000' and '0' at the edges would read '10000').
    fig = Figure(figsize=(10, 3.2))
    axes = fig.subplots(1, 2, sharey=True, gridspec_kw=dict(left=0.06, right=0.89, bottom=0.14, top=0.9, wspace=0.1))
    lo, hi = scale or (float(min(reference.min(), generated.min())), float(max(reference.max(), generated.max())))
    for ax, mel, name in zip(axes, (reference, generated), ("ground truth", "generated")):
        image = ax.imshow(mel, aspect="auto", origin="lower", interpolation="none", vmin=lo, vmax=hi)
        ax.set_title(f"{drawable(title)} {name}".strip(), parse_math=False)  # a clip's `$_$` is no math (figure_text)
        ax.set_xlabel("frame")
    axes[0].set_ylabel("mel bin")
    fig.colorbar(image, cax=fig.add_axes((0.905, 0.14, 0.012, 0.76)), label="log magnitude",
                 extend="neither" if scale is None else "both")
    return fig


def save_figure(figure: Figure, target: str | Path, dpi: int = 100) -> None:
    """`figure` as a PNG at `target`, whole or not at all (hifigan.files.atomic): a full disk leaves no half image."""
    with atomic_path(target) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi)
