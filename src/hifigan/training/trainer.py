"""`Trainer`: one run put together (device, seed, state, data, validation, log) behind a small façade; the step
(step.py), the loop (loop.py), the state (state.py), validation, DDP and stopping live in their own modules."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from hifigan.checkpoints.run_files import remove_stale_temporaries, require_training_state, save_step_checkpoint
from hifigan.config import HifiganConfig
from hifigan.data.clip_scan import Clip
from hifigan.mel import MelSpectrogram
from hifigan.training.batches import RunData
from hifigan.training.distributed import DistInfo, training_device
from hifigan.training.init import init_from
from hifigan.training.loop import fit
from hifigan.training.losses import build_generator_objective
from hifigan.training.nonfinite import NonfiniteGuard
from hifigan.training.options import TrainOptions
from hifigan.training.rng import seed_everything
from hifigan.training.run_log import RunLog, say
from hifigan.training.state import TrainingState, new_state
from hifigan.training.step import Batch, StepOptions, StepResult, check_precision, train_step
from hifigan.training.validation import Validation

DEBUG_DIR_ENV = "HIFIGAN_DEBUG_DIR"  # set by tests: each rank writes the clip ids it trained on there


class Trainer:
    """A run: `state` (models, optimizers, position), `data`, `validation`, `log`; `fit` continues where it
    stopped. The model attributes (generator, mpd, msd, optim_g, ...) and the position read through to `state`."""

    def __init__(self, config: HifiganConfig, train_clips: list[Clip], valid_clips: list[Clip],
                 options: TrainOptions, dist: DistInfo | None = None) -> None:
        self.config, self.options = config, options
        self.dist = dist or DistInfo()
        self.device = training_device(options.device, self.dist)
        check_precision(options.precision, self.device)
        if options.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
            # Filling fresh memory with NaN is a debugging aid, not needed for repeatability, and costly on the CPU.
            torch.utils.deterministic.fill_uninitialized_memory = False
        # The parts check their names, arguments and values as they are built: before anything is written.
        objective = build_generator_objective(config)
        seed_everything(config.seed)
        self.state: TrainingState = new_state(config, self.device)
        self.step_options = StepOptions(MelSpectrogram(**config.mel_kwargs(for_loss=True)), objective, self.device,
                                        options.precision, self.dist.active)
        self.data = RunData(config, train_clips, valid_clips, self.dist, self.device, options.resample,
                            options.mix_to_mono)
        self.validation = Validation(self.data.valid_set, config, self.device, self.step_options.autocast,
                                     options.media_clips)
        self.nonfinite = NonfiniteGuard(options.max_nonfinite)
        self.last_saved_step = self.last_validated_step = -1
        self.ckpt_dir = Path(options.out) / "checkpoints"
        self.log: RunLog | None = None
        self._seen: list[list[int]] = []  # clip indices per step, written only for DEBUG_DIR_ENV
        self.data_spec: dict[str, Any] = {}  # where the data came from, so --resume needs no data options

    # ---------------------------------------------------------------- read-through names
    generator = property(lambda self: self.state.generator)
    discriminators = property(lambda self: self.state.discriminators)
    mpd = property(lambda self: self.state.discriminators["mpd"])
    msd = property(lambda self: self.state.discriminators["msd"])
    optim_g = property(lambda self: self.state.optim_g)
    optim_d = property(lambda self: self.state.optim_d)
    sched_g = property(lambda self: self.state.sched_g)
    sched_d = property(lambda self: self.state.sched_d)
    train_set = property(lambda self: self.data.train_set)
    valid_set = property(lambda self: self.data.valid_set)
    sampler = property(lambda self: self.data.sampler)
    loader = property(lambda self: self.data.loader)
    steps_per_epoch = property(lambda self: self.data.steps_per_epoch)
    nonfinite_run = property(lambda self: self.nonfinite.run)

    @property
    def step(self) -> int:
        return self.state.step

    @property
    def epoch(self) -> int:
        return self.state.epoch

    # ---------------------------------------------------------------- state and checkpoints
    def state_payload(self) -> dict[str, Any]:
        """Everything needed to continue exactly, plus the batch layout and where the data came from."""
        return self.state.payload(batch_size=self.config.batch_size, world_size=self.dist.world_size,
                                  data=self.data_spec)

    def restore(self, obj: dict[str, Any], source: Path) -> None:
        """Continue from one of our training checkpoints (weights, optimizers, schedule, data position, RNG)."""
        require_training_state(obj, source)
        self.state.restore(obj, source)
        if obj.get("batch_size") != self.config.batch_size or obj.get("world_size") != self.dist.world_size:
            warnings.warn("batch size or process count changed since the checkpoint: the data order restarts "
                          "at the next epoch", stacklevel=2)
            if self.state.batch_in_epoch:
                self.state.batch_in_epoch = self.steps_per_epoch
        self.last_saved_step = self.step

    def init_from(self, path: Path, discriminators: Path | None = None, obj: dict[str, Any] | None = None
                  ) -> list[str]:
        """Start from an official g_*/do_* pair or one of our checkpoints (see training.init.init_from)."""
        return init_from(self.state, path, discriminators, obj)

    def save_checkpoint(self) -> Path | None:
        """Rank 0 writes ckpt_<step>.pt atomically, points latest.pt at it and keeps the newest `keep` files."""
        if not self.dist.is_main or self.step == self.last_saved_step:
            return None
        path = save_step_checkpoint(self.ckpt_dir, self.step, self.state_payload(), self.options.keep)
        self.last_saved_step = self.step
        if self.log:
            self.log.event(self.step, "checkpoint", str(path))
        return path

    # ---------------------------------------------------------------- one step, validation
    def train_step(self, batch: Batch) -> StepResult:
        """One D step then one G step (training.step.train_step); non-finite steps are reported and counted."""
        if os.environ.get(DEBUG_DIR_ENV):
            self._seen.append([int(i) for i in batch[3]])
        result = train_step(self.state, batch, self.step_options)
        message = self.nonfinite.check(result.ok, self.step, result.terms)
        if message:
            self._say(message)
            if self.log:
                self.log.event(self.step, "nonfinite", message)
            self.nonfinite.raise_at_limit(self.step)
        return result

    def validate(self) -> float:
        """Mean mel L1 over the held-out clips, whole utterances as the official code; rank 0 only."""
        if not self.dist.is_main:
            return float("nan")
        value = self.validation.run(self.generator, self.step, self.epoch, self.log)
        self.last_validated_step = self.step
        return value

    def vocode_held_out(self) -> Iterator[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """(index, input mel, reference audio, generated audio as float32 on the CPU) per held-out utterance."""
        return self.validation.vocode(self.generator)

    def fit(self, max_steps: int | None = None, epochs: int | None = None, max_minutes: float | None = None) -> str:
        """Train until a limit or SIGINT/SIGTERM, then validate and save (training.loop.fit). Returns why it stopped."""
        return fit(self, max_steps, epochs, max_minutes)

    # ---------------------------------------------------------------- output
    def _say(self, message: str) -> None:
        if self.dist.is_main:
            say(message)

    def _open_log(self) -> None:
        if self.dist.is_main and self.log is None:
            Path(self.options.out).mkdir(parents=True, exist_ok=True)
            self.ckpt_dir.mkdir(parents=True, exist_ok=True)
            remove_stale_temporaries(self.ckpt_dir)
            self.log = RunLog(Path(self.options.out), self.step)

    def _dump_debug(self) -> None:
        folder = os.environ.get(DEBUG_DIR_ENV)
        if not folder:
            return
        Path(folder).mkdir(parents=True, exist_ok=True)
        ids = [[self.train_set.clips[i].id for i in step] for step in self._seen]
        (Path(folder) / f"rank{self.dist.rank}.json").write_text(json.dumps({"rank": self.dist.rank, "steps": ids}))
        torch.save(self.generator.state_dict(), Path(folder) / f"rank{self.dist.rank}_generator.pt")

    def close(self) -> None:
        if self.log:
            self.log.close()
            self.log = None

