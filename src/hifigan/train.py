"""Training: the official HiFi-GAN loop (discriminator step, then generator step) with exact resume,
DistributedDataParallel, logs, and recovery from interrupts and non-finite losses; `hifigan train`.

The optimizer layout is the official one (AdamW over the generator; AdamW over chain(msd, mpd)), so
optimizer states move 1:1 to and from the official `do_*` files. The run's files, logs, RNG state, process
group and signal handling live in run_checkpoints, monitor, rng, distributed and stop_signal.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import signal
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from hifigan.audio import mel_frontend
from hifigan.checkpoint import config_of, generator_payload, is_own_checkpoint, load_state_strict, read_checkpoint
from hifigan.compat import is_official_discriminators, is_official_generator, official_to_ours
from hifigan.config import HifiganConfig
from hifigan.data import Clip, ResumableSampler, VocoderDataset
from hifigan.distributed import DistInfo, agree, init_distributed, training_device
from hifigan.errors import CheckpointError, HifiganError
from hifigan.losses import discriminator_objective, generator_objective, terms_to_floats
from hifigan.metrics import mel_l1
from hifigan.models import Generator, MultiPeriodDiscriminator, MultiScaleDiscriminator
from hifigan.monitor import RunLog, mel_figure
from hifigan.rng import rng_state, seed_everything, set_rng_state
from hifigan.run_checkpoints import (
    checkpoint_files,
    find_resume_checkpoint,
    remove_stale_temporaries,
    require_training_state,
    save_step_checkpoint,
)
from hifigan.stop_signal import StopOnSignal, ignore_sigint_in_worker

DEBUG_DIR_ENV = "HIFIGAN_DEBUG_DIR"  # set by tests: each rank writes the clip ids it trained on there


@dataclass
class TrainOptions:
    """How to run training (the model and data hyperparameters live in HifiganConfig)."""

    out: Path
    device: str = "cpu"
    precision: str = "fp32"
    checkpoint_interval: int = 5000
    validation_interval: int = 1000
    log_interval: int = 10
    keep: int = 3
    max_nonfinite: int = 10
    deterministic: bool = False
    progress: bool = True
    resample: bool = False
    mix_to_mono: bool = False
    media_clips: int = 3  # validation clips whose audio and mel images go to TensorBoard



@dataclass
class StepResult:
    ok: bool
    terms: dict[str, float] = field(default_factory=dict)


class Trainer:
    """Models, optimizers, data and the loop; `fit` can be called repeatedly and continues where it stopped."""

    def __init__(
        self,
        config: HifiganConfig,
        train_clips: list[Clip],
        valid_clips: list[Clip],
        options: TrainOptions,
        dist: DistInfo | None = None,
    ) -> None:
        self.config, self.options = config, options
        self.dist = dist or DistInfo()
        self.device = training_device(options.device, self.dist)
        if options.precision not in ("fp32", "bf16"):
            raise HifiganError(None, f"--precision must be fp32 or bf16, got {options.precision!r}")
        if options.precision == "bf16" and self.device.type != "cuda":
            raise HifiganError(None, "--precision bf16 is CUDA-only; use fp32 on the CPU")
        if options.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
            # Filling fresh memory with NaN is a debugging aid, not needed for repeatability; it slows CPU steps ~10x.
            torch.utils.deterministic.fill_uninitialized_memory = False
        seed_everything(config.seed)

        self.generator = Generator(config).to(self.device)
        self.mpd = MultiPeriodDiscriminator().to(self.device)
        self.msd = MultiScaleDiscriminator().to(self.device)
        betas = (config.adam_b1, config.adam_b2)
        self.optim_g = torch.optim.AdamW(self.generator.parameters(), config.learning_rate, betas=betas, fused=True)
        # Official layout: MSD parameters first, then MPD, so optimizer states map 1:1 to do_* files.
        self.optim_d = torch.optim.AdamW(
            itertools.chain(self.msd.parameters(), self.mpd.parameters()), config.learning_rate, betas=betas, fused=True
        )
        self.sched_g = torch.optim.lr_scheduler.ExponentialLR(self.optim_g, gamma=config.lr_decay)
        self.sched_d = torch.optim.lr_scheduler.ExponentialLR(self.optim_d, gamma=config.lr_decay)
        self._g, self._mpd, self._msd = self.generator, self.mpd, self.msd  # DDP-wrapped in fit()
        self.loss_mel = mel_frontend(**config.mel_kwargs(for_loss=True))
        self.input_mel = mel_frontend(**config.mel_kwargs())

        self.step = self.epoch = self.batch_in_epoch = 0
        self.nonfinite_run = self.nonfinite_total = 0
        self.last_saved_step = self.last_validated_step = -1
        self.logged_references = False

        self.train_set = VocoderDataset(train_clips, config, train=True, seed=config.seed,
                                        resample=options.resample, mix_to_mono=options.mix_to_mono)
        self.valid_set = VocoderDataset(valid_clips, config, train=False, seed=config.seed,
                                        resample=options.resample, mix_to_mono=options.mix_to_mono)
        self.sampler = ResumableSampler(self.train_set, self.dist.world_size, self.dist.rank, config.seed)
        if self.sampler.num_samples < config.batch_size:
            raise HifiganError(None, f"the training set has {len(self.train_set)} clips ({self.sampler.num_samples} "
                                     f"per process), fewer than the batch size {config.batch_size}")
        workers = min(config.num_workers, os.cpu_count() or 1)  # more than the cores only contend (torch warns)
        self.loader = DataLoader(
            self.train_set, batch_size=config.batch_size, sampler=self.sampler, drop_last=True,
            num_workers=workers, pin_memory=self.device.type == "cuda",
            worker_init_fn=ignore_sigint_in_worker if workers > 0 else None,
            persistent_workers=False,
        )
        self.ckpt_dir = Path(options.out) / "checkpoints"
        self.log: RunLog | None = None
        self._seen: list[list[int]] = []  # clip indices per step, written only for DEBUG_DIR_ENV
        self.data_spec: dict[str, Any] = {}  # where the data came from, so --resume needs no data options

    @property
    def steps_per_epoch(self) -> int:
        return self.sampler.num_samples // self.config.batch_size

    # ---------------------------------------------------------------- state
    def state_payload(self) -> dict[str, Any]:
        """Everything needed to continue exactly: weights, optimizers, schedulers, position, RNG, config."""
        return generator_payload(
            self.generator.state_dict(), self.config,
            mpd=self.mpd.state_dict(), msd=self.msd.state_dict(),
            optim_g=self.optim_g.state_dict(), optim_d=self.optim_d.state_dict(),
            sched_g=self.sched_g.state_dict(), sched_d=self.sched_d.state_dict(),
            step=self.step, epoch=self.epoch, batch_in_epoch=self.batch_in_epoch,
            batch_size=self.config.batch_size, world_size=self.dist.world_size,
            rng=rng_state(), data=self.data_spec,
        )

    def restore(self, obj: dict[str, Any], source: Path) -> None:
        """Continue from one of our training checkpoints (weights, optimizers, schedule, data position, RNG)."""
        require_training_state(obj, source)
        load_state_strict(self.generator, obj["generator"], source, "generator")
        load_state_strict(self.mpd, obj["mpd"], source, "mpd")
        load_state_strict(self.msd, obj["msd"], source, "msd")
        for name, target in (("optim_g", self.optim_g), ("optim_d", self.optim_d),
                             ("sched_g", self.sched_g), ("sched_d", self.sched_d)):
            _load_state(target, obj[name], source, name)
        self.step, self.epoch, self.batch_in_epoch = int(obj["step"]), int(obj["epoch"]), int(obj["batch_in_epoch"])
        if obj.get("batch_size") != self.config.batch_size or obj.get("world_size") != self.dist.world_size:
            warnings.warn("batch size or process count changed since the checkpoint: the data order restarts "
                          "at the next epoch", stacklevel=2)
            if self.batch_in_epoch:
                self.batch_in_epoch = self.steps_per_epoch
        if "rng" in obj:
            set_rng_state(obj["rng"])
        self.last_saved_step = self.step

    def init_from(self, path: Path, discriminators: Path | None = None, obj: dict[str, Any] | None = None
                  ) -> list[str]:
        """Start from the weights (and optimizer moments, when present) of an official g_*/do_* pair or ours
        (`obj`: the file at `path`, when the caller has read it already).

        The step count and learning-rate schedule start afresh. Returns what was loaded, for the log.
        """
        obj = read_checkpoint(path) if obj is None else obj
        loaded = []
        if is_own_checkpoint(obj):
            if "generator" not in obj:
                raise CheckpointError(path, "checkpoint holds no generator")
            load_state_strict(self.generator, obj["generator"], path, "generator")
            loaded.append(f"generator from {path}")
            do, do_source = (obj, path) if "mpd" in obj and "msd" in obj else (None, None)
        elif is_official_generator(obj):
            load_state_strict(self.generator, official_to_ours(obj["generator"]), path, "generator")
            loaded.append(f"generator from {path} (official)")
            do, do_source = None, discriminators
            if do_source is None and path.name.startswith("g_"):
                sibling = path.with_name("do_" + path.name[2:])
                do_source = sibling if sibling.is_file() else None
        else:
            raise CheckpointError(path, "not a HiFi-GAN checkpoint (neither ours nor an official g_* file)")
        if discriminators is not None and do is None:
            do_source = discriminators
        if do is None and do_source is not None:
            do = read_checkpoint(do_source)
            if not (is_official_discriminators(do) or is_own_checkpoint(do)):
                raise CheckpointError(do_source, "not a discriminator checkpoint (needs 'mpd' and 'msd')")
        if do is not None:
            loaded += self._load_discriminators(do, do_source)
        self._restart_schedules()
        return loaded

    def _load_discriminators(self, do: dict[str, Any], source: Path) -> list[str]:
        """MPD and MSD weights from an official do_* file or our checkpoint, and both optimizers' moments when
        it holds them. Returns what was loaded."""
        for name, module in (("mpd", self.mpd), ("msd", self.msd)):
            state = do[name] if is_own_checkpoint(do) else official_to_ours(do[name])
            load_state_strict(module, state, source, name)
        loaded = [f"discriminators from {source}"]
        for name, optim in (("optim_g", self.optim_g), ("optim_d", self.optim_d)):
            if isinstance(do.get(name), dict) and do[name].get("state"):
                _load_state(optim, do[name], source, name)
                _check_moment_shapes(optim, source, name)
                loaded.append(f"{name} moments")
        return loaded

    def _restart_schedules(self) -> None:
        """Learning rates back to the config's, decay counting from zero (loaded moments are kept)."""
        lr = self.config.learning_rate
        for optim, sched in ((self.optim_g, self.sched_g), (self.optim_d, self.sched_d)):
            for group in optim.param_groups:
                group["lr"] = group["initial_lr"] = lr
            sched.base_lrs = [lr] * len(optim.param_groups)
            sched.last_epoch = 0
            sched._last_lr = [lr] * len(optim.param_groups)

    def save_checkpoint(self) -> Path | None:
        """Rank 0 writes ckpt_<step>.pt atomically, points latest.pt at it and keeps the newest `keep` files."""
        if not self.dist.is_main or self.step == self.last_saved_step:
            return None
        path = save_step_checkpoint(self.ckpt_dir, self.step, self.state_payload(), self.options.keep)
        self.last_saved_step = self.step
        if self.log:
            self.log.event(self.step, "checkpoint", str(path))
        return path

    # ---------------------------------------------------------------- one step
    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.options.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _update(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> tuple[bool, torch.Tensor]:
        """Backpropagate `loss` and step `optimizer`, unless the loss or the gradient norm is not finite.

        One host sync: the finiteness flag (the gradient norm itself stays on the device for the log).
        """
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = _grad_norm(optimizer)
        ok = self._finite(loss, norm)
        if ok:
            optimizer.step()
        return ok, norm

    def train_step(self, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]) -> StepResult:
        """One discriminator step (from disc_start_step on) then one generator step, as the official loop.

        A non-finite loss or gradient skips the update (the batch still counts, so the data order is kept).
        """
        mel, audio, mel_target, index = batch
        if os.environ.get(DEBUG_DIR_ENV):
            self._seen.append([int(i) for i in index])
        x = mel.to(self.device, non_blocking=True)
        y = audio.to(self.device, non_blocking=True).unsqueeze(1)
        y_mel = mel_target.to(self.device, non_blocking=True)
        adversarial = self.step >= self.config.disc_start_step
        terms: dict[str, torch.Tensor] = {}

        with self._autocast():
            y_g_hat = self._g(x)
        y_g_hat_mel = self.loss_mel(_f32(y_g_hat.squeeze(1)))

        ok = True
        if adversarial:
            with self._autocast():
                mpd_out = self._mpd(y, y_g_hat.detach())
                msd_out = self._msd(y, y_g_hat.detach())
            d = discriminator_objective(_f32(mpd_out[0]), _f32(mpd_out[1]), _f32(msd_out[0]), _f32(msd_out[1]))
            ok, terms["grad_norm/d"] = self._update(self.optim_d, d.total)
            terms.update(d.tensors)

        if ok:
            disc: list[Any] = [None] * 6  # the mel-only warm-up loss
            if adversarial:
                # The discriminators take no gradient here (optim_d would discard it), and are called unwrapped so
                # DDP has nothing to all-reduce; the real branch runs without a graph (see generator_side).
                with _frozen(self.mpd, self.msd), self._autocast():
                    mpd_g, mpd_fr, mpd_fg = self.mpd.generator_side(y, y_g_hat)
                    msd_g, msd_fr, msd_fg = self.msd.generator_side(y, y_g_hat)
                disc = [_f32(t) for t in (mpd_g, msd_g, mpd_fr, mpd_fg, msd_fr, msd_fg)]
            g = generator_objective(*disc, y_mel, y_g_hat_mel, self.config.lambda_fm, self.config.lambda_mel)
            ok, terms["grad_norm/g"] = self._update(self.optim_g, g.total)
            terms.update(g.tensors)

        values = terms_to_floats(terms)
        self.step += 1
        self.batch_in_epoch += 1
        self._count_nonfinite(ok, values)
        return StepResult(ok, values)

    def _finite(self, loss: torch.Tensor, norm: torch.Tensor) -> bool:
        # Gradients are all-reduced, so their norm agrees on every rank; a rank's own loss does not.
        if self.dist.active:
            return bool(torch.isfinite(norm))
        return bool(torch.isfinite(norm) & torch.isfinite(loss.detach()))

    def _count_nonfinite(self, ok: bool, terms: dict[str, float]) -> None:
        if ok:
            self.nonfinite_run = 0
            return
        self.nonfinite_run += 1
        self.nonfinite_total += 1
        bad = ", ".join(f"{k}={v}" for k, v in terms.items() if not math.isfinite(v)) or "gradients"
        message = (f"step {self.step}: non-finite loss ({bad}); update skipped "
                   f"({self.nonfinite_run} in a row, limit {self.options.max_nonfinite})")
        self._say(message)
        if self.log:
            self.log.event(self.step, "nonfinite", message)
        if self.nonfinite_run >= self.options.max_nonfinite:
            raise HifiganError(None, f"training diverged: {self.nonfinite_run} non-finite steps in a row at step "
                                     f"{self.step} (last checkpoint kept; try a lower learning rate, or fp32)")

    def _say(self, message: str) -> None:
        if self.dist.is_main:
            from tqdm import tqdm

            tqdm.write(message, file=sys.stderr)

    # ---------------------------------------------------------------- validation
    @torch.no_grad()
    def validate(self) -> float:
        """Mean mel L1 (loss mel) over the held-out clips, whole utterances as the official code; rank 0 only."""
        if not self.dist.is_main or len(self.valid_set) == 0:
            return math.nan
        errors = []
        for i, mel, audio, y_hat in self.vocode_held_out():
            errors.append(mel_l1(audio, y_hat, self.config))
            if self.log and i < self.options.media_clips:
                self._log_media(i, mel, audio, y_hat)
        value = float(np.mean(errors))
        self.last_validated_step = self.step
        if self.log:
            self.log.scalars(self.step, {"val/mel_l1": value}, epoch=self.epoch)
        return value

    def vocode_held_out(self) -> Iterator[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Each whole held-out utterance through the generator (eval mode, no gradients), as the official
        validation: (index, input mel, reference audio, generated audio as float32 on the CPU)."""
        self.generator.eval()
        try:
            with torch.no_grad():
                for i in range(len(self.valid_set)):
                    mel, audio, _, _ = self.valid_set[i]
                    with self._autocast():
                        y_hat = self.generator(mel.unsqueeze(0).to(self.device))
                    yield i, mel, audio, y_hat.float().reshape(-1).cpu()
        finally:
            self.generator.train()

    def _log_media(self, i: int, mel: torch.Tensor, audio: torch.Tensor, y_hat: torch.Tensor) -> None:
        clip = self.valid_set.clips[i].id
        sr = self.config.sampling_rate
        writer = self.log.writer
        if not self.logged_references:
            writer.add_audio(f"reference/{clip}", audio.unsqueeze(0), self.step, sr)
        writer.add_audio(f"generated/{clip}", y_hat.unsqueeze(0), self.step, sr)
        generated = self.input_mel(y_hat).numpy()
        writer.add_figure(f"mel/{clip}", mel_figure(mel.numpy(), generated, clip), self.step, close=True)
        if i == min(self.options.media_clips, len(self.valid_set)) - 1:
            self.logged_references = True

    # ---------------------------------------------------------------- the loop
    def _wrap_ddp(self) -> None:
        if self.dist.active and self._g is self.generator:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            self._g = DDP(self.generator, device_ids=ids)
            self._mpd = DDP(self.mpd, device_ids=ids)
            self._msd = DDP(self.msd, device_ids=ids)

    def _open_log(self) -> None:
        if self.dist.is_main and self.log is None:
            Path(self.options.out).mkdir(parents=True, exist_ok=True)
            self.ckpt_dir.mkdir(parents=True, exist_ok=True)
            remove_stale_temporaries(self.ckpt_dir)
            self.log = RunLog(Path(self.options.out), self.step)

    def _agree(self, stop: bool) -> bool:
        """All ranks stop at the same step."""
        return agree(stop, self.dist, self.device)

    def _batches(self) -> Iterator[tuple]:
        """This epoch's remaining batches, in the order a run without interruptions would see them."""
        self.train_set.set_epoch(self.epoch)
        self.sampler.set_epoch(self.epoch)
        self.sampler.skip = min(self.batch_in_epoch * self.config.batch_size, self.sampler.num_samples)
        yield from self.loader

    def fit(self, max_steps: int | None = None, epochs: int | None = None, max_minutes: float | None = None) -> str:
        """Train until a limit (total steps, total epochs, minutes of this call) or SIGINT/SIGTERM; then save.

        Returns why it stopped: "max_steps", "epochs", "time" or the signal name.
        """
        self._open_log()
        self._wrap_ddp()
        started = time.monotonic()
        self._rate_mark = (started, self.step)
        reason = ""
        bar = self._progress_bar(max_steps)
        with StopOnSignal() as stopper:
            try:
                while not reason:
                    if max_steps is not None and self.step >= max_steps:
                        reason = "max_steps"
                        break
                    if epochs is not None and self.epoch >= epochs:
                        reason = "epochs"
                        break
                    for batch in self._batches():
                        step_began = time.monotonic()
                        result = self.train_step(batch)
                        self._after_step(result, bar)
                        stop = stopper.signum is not None
                        # Stop when the next step (as long as this one) would overrun the time budget.
                        now = time.monotonic()
                        if max_minutes is not None and 2 * now - step_began - started >= max_minutes * 60:
                            reason = "time"
                        if max_steps is not None and self.step >= max_steps:
                            reason = "max_steps"
                        if self._agree(stop or bool(reason)):
                            reason = reason or (signal.Signals(stopper.signum).name if stop else "signal")
                            break
                    else:
                        with warnings.catch_warnings():  # D's lr decays per epoch during the warm-up too
                            warnings.filterwarnings("ignore", message=".*lr_scheduler.step.*before.*optimizer")
                            self.sched_g.step()
                            self.sched_d.step()
                        self.epoch += 1
                        self.batch_in_epoch = 0
                        timed_out = max_minutes is not None and time.monotonic() - started >= max_minutes * 60
                        if self._agree(timed_out):
                            reason = "time"
                if stopper.signum is not None and not reason.startswith("SIG"):
                    reason = signal.Signals(stopper.signum).name
                if self.last_validated_step != self.step and self.options.validation_interval > 0:
                    self.validate()
                self.save_checkpoint()
            finally:
                if bar is not None:
                    bar.close()
                self._dump_debug()
        return reason

    def _progress_bar(self, max_steps: int | None):
        if not (self.dist.is_main and self.options.progress):
            return None
        from tqdm import tqdm

        return tqdm(total=max_steps, initial=self.step, unit="step", desc="train", file=sys.stderr,
                    dynamic_ncols=True)

    def _after_step(self, result: StepResult, bar) -> None:
        if bar is not None:
            bar.update(1)
            shown = {k: result.terms[k] for k in ("g/total", "g/mel_l1", "d/total") if k in result.terms}
            bar.set_postfix({k: f"{v:.3f}" for k, v in shown.items()}, refresh=False)
        if self.log and result.ok and self.step % max(1, self.options.log_interval) == 0:
            now = time.monotonic()
            mark_time, mark_step = self._rate_mark
            rate = (self.step - mark_step) / max(now - mark_time, 1e-9)
            self._rate_mark = (now, self.step)
            scalars = {**result.terms, "lr/g": self.optim_g.param_groups[0]["lr"],
                       "lr/d": self.optim_d.param_groups[0]["lr"], "speed/steps_per_s": rate}
            self.log.scalars(self.step, scalars, epoch=self.epoch)
        if self.options.validation_interval > 0 and self.step % self.options.validation_interval == 0:
            self.validate()
        if self.options.checkpoint_interval > 0 and self.step % self.options.checkpoint_interval == 0:
            self.save_checkpoint()

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


def _f32(tree: Any) -> Any:
    """Tensors (or lists of lists of them) in at least float32, so the losses run in full precision (bf16 -> float32;
    float64 models, as in the equivalence tests, stay float64)."""
    if isinstance(tree, torch.Tensor):
        return tree.float() if tree.dtype in (torch.bfloat16, torch.float16) else tree
    return [_f32(t) for t in tree]


def _check_moment_shapes(optim: torch.optim.Optimizer, source: Path | None, name: str) -> None:
    """load_state_dict matches optimizer states by position only; make sure each fits its parameter."""
    for group in optim.param_groups:
        for i, p in enumerate(group["params"]):
            state = optim.state.get(p, {})
            for key in ("exp_avg", "exp_avg_sq"):
                if key in state and state[key].shape != p.shape:
                    raise CheckpointError(source, f"{name}: state of parameter {i} has shape "
                                                  f"{tuple(state[key].shape)}, the parameter {tuple(p.shape)}")


def _load_state(target: Any, state: Any, source: Path | None, name: str) -> None:
    """An optimizer's or scheduler's load_state_dict, with a mismatch reported as a CheckpointError."""
    try:
        target.load_state_dict(state)
    except (ValueError, KeyError, TypeError, RuntimeError) as e:
        raise CheckpointError(source, f"{name} does not fit: {e}") from None


def _grad_norm(optimizer: torch.optim.Optimizer) -> torch.Tensor:
    """The total 2-norm of the gradients `optimizer` holds, as a 0-dim tensor on their device."""
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.nn.utils.get_total_norm(grads)


@contextlib.contextmanager
def _frozen(*modules: torch.nn.Module) -> Iterator[None]:
    """The modules' parameters take no gradient inside the block (their requires_grad is restored after)."""
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)



# ---------------------------------------------------------------- command line
DATA_PATHS = ("corpus", "train_list", "valid_list", "wav_root")
DATA_KEYS = (*DATA_PATHS, "valid_count", "valid_fraction", "input_mels", "resample", "mix_to_mono")


def _data_spec(args: argparse.Namespace, resume_obj: dict[str, Any] | None) -> dict[str, Any]:
    """The data options: from the command line, or (resuming without --corpus/--train-list) from the checkpoint."""
    stored = (resume_obj or {}).get("data") or {}
    if args.corpus is None and args.train_list is None and stored:
        return {k: stored.get(k) for k in DATA_KEYS}
    if args.corpus is None and args.train_list is None:
        raise HifiganError(None, "no training data: give --corpus DIR or --train-list FILE")
    spec = {k: getattr(args, k) for k in DATA_KEYS}
    return {k: str(Path(v).resolve()) if k in (*DATA_PATHS, "input_mels") and v is not None else v
            for k, v in spec.items()}


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    pairs = (("batch_size", args.batch_size), ("segment_size", args.segment_size),
             ("disc_start_step", args.disc_start_step), ("num_workers", args.num_workers), ("seed", args.seed))
    return {k: v for k, v in pairs if v is not None}


def resolve_config(base: HifiganConfig, overrides: dict[str, Any]) -> HifiganConfig:
    from hifigan.config import config_from_dict

    for key, value in overrides.items():
        if key != "disc_start_step" and isinstance(value, int) and value < (0 if key == "num_workers" else 1):
            raise HifiganError(None, f"--{key.replace('_', '-')} must be positive, got {value}")
    return config_from_dict({**base.to_dict(), **overrides}, "command line")


def _base_config(args: argparse.Namespace, resume_obj: dict[str, Any] | None, resume_path: Path | None,
                 init_obj: dict[str, Any] | None) -> HifiganConfig:
    """The resumed checkpoint's config; else --config; else the config of an --init-from checkpoint of ours; else v1."""
    from hifigan.config import load_config

    if resume_obj is not None:
        return config_of(resume_obj, resume_path)
    if init_obj is not None and _pretrained_init(args) is not None:
        from hifigan.pretrained import get_model, model_config

        return model_config(get_model(_pretrained_init(args)), args.config)
    if args.config is None and init_obj is not None:
        if not is_own_checkpoint(init_obj):
            raise HifiganError(args.init_from, "an official checkpoint carries no config: pass --config")
        return config_of(init_obj, args.init_from)
    return load_config(args.config or "v1")


def _pretrained_init(args: argparse.Namespace) -> str | None:
    """The registered pretrained model --init-from names, if it names one (a file of that name: ./NAME)."""
    from hifigan.pretrained import MODELS

    return args.init_from if args.init_from in MODELS else None


def _read_init(args: argparse.Namespace) -> dict[str, Any]:
    """The --init-from weights: a pretrained model's verified file, or the checkpoint file's contents."""
    name = _pretrained_init(args)
    if name is not None:
        from hifigan.pretrained import read_pretrained

        return read_pretrained(name)[2]
    return read_checkpoint(args.init_from)


def run_command(args: argparse.Namespace) -> int:
    """`hifigan train`: resolve config and data, build the trainer, train, report."""
    from hifigan.data import Corpus, scan_clips

    dist = init_distributed(args.device)
    try:
        resume_obj = resume_path = None
        if args.resume is not None:
            resume_path, resume_obj = find_resume_checkpoint(args.resume)
        out = args.out
        if out is None and resume_path is not None:  # the run folder that holds checkpoints/
            out = resume_path.parent.parent if resume_path.parent.name == "checkpoints" else resume_path.parent
        if out is None:
            raise HifiganError(None, "--out is required (the run folder)")
        # An --init-from checkpoint is read once: for its config (when --config is absent) and its weights.
        init_obj = _read_init(args) if args.init_from is not None and resume_obj is None else None
        config = resolve_config(_base_config(args, resume_obj, resume_path, init_obj), _overrides(args))
        data = _data_spec(args, resume_obj)
        corpus = Corpus(*(None if data[k] is None else Path(data[k]) for k in DATA_PATHS),
                        data["valid_count"], data["valid_fraction"])
        train_files, valid_files = corpus.resolve(config.seed)
        input_mels = None if data["input_mels"] is None else Path(data["input_mels"])
        with warnings.catch_warnings():
            if not dist.is_main:
                warnings.simplefilter("ignore")
            kw = dict(resample=data["resample"], mix_to_mono=data["mix_to_mono"], input_mels=input_mels)
            train_scan = scan_clips(train_files, config, **kw, what="training set")
            valid_scan = scan_clips(valid_files, config, **kw, what="validation set")
        options = TrainOptions(
            out=out, device=args.device, precision=args.precision, checkpoint_interval=args.checkpoint_interval,
            validation_interval=args.validation_interval, log_interval=args.log_interval, keep=args.keep,
            max_nonfinite=args.max_nonfinite, deterministic=args.deterministic, progress=not args.no_progress,
            resample=data["resample"], mix_to_mono=data["mix_to_mono"],
        )
        trainer = Trainer(config, train_scan.clips, valid_scan.clips, options, dist)
        trainer.data_spec = data
        say = trainer._say
        say(f"{train_scan.summary('training set')}; {valid_scan.summary('validation set')}")
        if resume_obj is not None:
            if args.config is not None:
                say("--config ignored: a resumed run keeps its checkpoint's config")
            trainer.restore(resume_obj, resume_path)
            say(f"resumed from {resume_path} at step {trainer.step} (epoch {trainer.epoch}) on {trainer.device}")
        elif args.init_from is not None:
            for line in trainer.init_from(Path(args.init_from), args.init_discriminators, init_obj):
                say(f"loaded {line}")
            if _pretrained_init(args) is not None and args.init_discriminators is None:
                say(f"the discriminators start fresh (random): {args.init_from} ships no official do_* file")
        try:
            reason = trainer.fit(max_steps=args.max_steps, epochs=args.epochs, max_minutes=args.max_minutes)
        finally:
            trainer.close()
        where = checkpoint_files(trainer.ckpt_dir)
        say(f"stopped ({reason}) at step {trainer.step}, epoch {trainer.epoch}; "
            f"checkpoint: {where[-1] if where else 'none'}")
        return 0
    finally:
        if dist.active and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
