"""`Trainer`: one run put together (device, seed, state, data, validation, log) and its loop, `fit`: epochs of steps
until a limit (steps, epochs, minutes) or SIGINT/SIGTERM (training.stop_rules: all ranks stop at the same step), with
logging, validation and checkpoints at their intervals, then it validates and saves. The step itself is
training.step's, over the state of training.state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from hifigan.config import HifiganConfig
from hifigan.data.carried import ClipLoadError
from hifigan.data.clip_scan import Clip
from hifigan.errors import HifiganError
from hifigan.files.leftovers import leftovers_line, remove_leftovers
from hifigan.files.output_folders import prepare_output_dir
from hifigan.mel import MelSpectrogram
from hifigan.messages.option_names import switched_off
from hifigan.runtime.float32 import float32_default
from hifigan.training.checkpointing import Checkpointing
from hifigan.training.data_parallel import (
    DistInfo,
    RunData,
    from_main,
    reported_once,
    wrap_ddp,
)
from hifigan.training.failed_log import saving_on_failed_log
from hifigan.training.graphed import graphed_step
from hifigan.training.held_writes import HeldWrites, held, stop_on_failure
from hifigan.training.hook_stop import saved_after_hook
from hifigan.training.options import TrainOptions, settled
from hifigan.training.preflight import check_place, check_settings
from hifigan.training.registry import build_generator_objective
from hifigan.training.reporting import RunLog, StepRate, progress_bar, say, show_step
from hifigan.training.run_checkpoints import RunCheckpoints
from hifigan.training.run_folder import RUN_FILES
from hifigan.training.run_settings import option_settings
from hifigan.training.state import TrainingState, new_state, seed_everything
from hifigan.training.step import (
    Batch,
    NonfiniteGuard,
    StepOptions,
    StepResult,
    deterministic_algorithms,
    train_step,
)
from hifigan.training.stop_rules import StopRules
from hifigan.training.stop_signal import StopOnSignal
from hifigan.training.validation import Validation
from hifigan.training.worker_deaths import WorkerDied

# Called after every step with the trainer, the batch (its fourth entry: the clips' indices in trainer.train_set) and
# the step's result: a hook to watch a run (which clips each rank trained on, the weights after each step, ...).
StepHook = Callable[["Trainer", Batch, StepResult], None]


class Trainer(Checkpointing):
    """A run: `state` (models, optimizers, position), `data`, `validation`, `log`; `fit` continues where it
    stopped. The model attributes (generator, mpd, msd, optim_g, ...) and the position read through to `state`
    (training.read_through); its checkpoints are saved and restored by training.checkpointing's methods.
    `cli`: built for `hifigan train` (TrainJob.cli), whose options its messages name; else the fields (option_names)."""

    @float32_default()  # its models, mels and optimizer states are float32 whatever torch's default dtype
    def __init__(self, config: HifiganConfig, train_clips: list[Clip], valid_clips: list[Clip],
                 options: TrainOptions, dist: DistInfo | None = None, cli: bool = False) -> None:
        if options.out is None:
            raise HifiganError(None, "TrainOptions.out is required (the run folder)")
        self.config, self.options, self.cli = config, settled(options), cli
        options = self.options
        self.dist = dist or DistInfo()
        self.device = check_place(options, self.dist, cli)  # before anything is built or written
        check_settings(config, options, self.device, self.dist, cli)
        objective = build_generator_objective(config)
        seed_everything(config.seed)
        self.state: TrainingState = new_state(config, self.device)
        self.step_options = StepOptions(MelSpectrogram(**config.mel_kwargs(for_loss=True)), objective, self.device,
                                        options.precision, self.dist.active)
        self.data = RunData(config, train_clips, valid_clips, self.dist, self.device, options.resample,
                            options.mix_to_mono, options.mel_convention, cli=cli)
        self.validation = Validation(self.data.valid_set, config, self.device, options.media_clips,
                                     config.num_workers)  # in fp32 whatever the precision: see validation.py
        self.nonfinite = NonfiniteGuard(options.max_nonfinite)
        self.graphed = graphed_step(self.state, self.step_options, options.cuda_graph, cli)
        self.last_validated_step = -1
        self.unlogged: tuple[dict[str, float], int] | None = None  # the newest step's (scalars, epoch), not logged yet
        self.checkpoints = RunCheckpoints(Path(options.out) / "checkpoints", options.keep)  # rank 0's saves, the best
        self.log: RunLog | None = None
        self.stopping: StopOnSignal | None = None  # fit's, while it runs: a console gone asks it to stop (say)
        self.writes = HeldWrites()  # rank 0's writes: under torchrun, fit holds a failed one until the ranks agree
        self.data_spec: dict[str, Any] = {}  # where the data came from, so --resume needs no data options
        self.run_settings: dict[str, Any] = option_settings(self.options)  # carried likewise (run_settings)

    # ---------------------------------------------------------------- one step, validation
    def start_discriminators(self) -> None:
        """The discriminators train from the next step on: the generator-only warm-up ends now, whatever the config
        said (it is not changed); the checkpoints' config records this step."""
        self.state.disc_start_step = min(self.state.disc_start_step, self.step)

    def train_step(self, batch: Batch) -> StepResult:
        """One D step then one G step (training.step.train_step, or its CUDA graph: training.graphed); non-finite
        steps are reported and counted."""
        if self.graphed is not None:
            captures = self.graphed.captures
            result = self.graphed(batch)
            if self.graphed.captures > captures:
                self.say(f"step {self.step}: the training step is captured as a CUDA graph and replayed from now on "
                         f"({switched_off('cuda_graph', self.cli)}: eager)")
        else:
            result = train_step(self.state, batch, self.step_options)
        message = self.nonfinite.check(result.ok, self.step, result.terms)
        if message:
            self.say(message, warning=True)
            if self.log:
                self.writes.run(lambda: self.log.event(self.step, "nonfinite", message))
            diverged = self.nonfinite.diverged(self.step, self.checkpoints.newest())
            if diverged is not None:  # on every rank at once (the gradient norm is all-reduced): rank 0 says it
                raise reported_once(diverged, self.dist)
        return result

    def validate(self) -> float:
        """Mean mel L1 over the held-out clips, whole utterances as the official code, on rank 0 (the others get
        NaN); a held-out clip that no longer loads, a worker that died, or a write rank 0 held, stops every rank."""
        value, failure = float("nan"), None
        if self.dist.is_main:
            try:
                value = self._validate_here()  # None: a write failed (held)
            except (ClipLoadError, WorkerDied) as e:
                failure = e.carried()
        stop_on_failure(failure, self.writes, self.dist, self.device)
        return float("nan") if value is None else value

    @held
    def _validate_here(self) -> float:
        """Rank 0's validation: a new best (strictly lower) is said and logged; this step's checkpoint will be saved
        as best.pt."""
        value = self.validation.run(self.generator, self.step, self.epoch, self.log)
        self.last_validated_step = self.step
        if self.best.offer(value, self.step):
            message = f"step {self.step}: val/mel_l1 {value:.4f}, the best so far (best.pt: this step's checkpoint)"
            self.say(message)
            if self.log:
                self.log.event(self.step, "best", message)
        return value

    def vocode_held_out(self) -> Iterator[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """(index, input mel, reference audio, generated audio on the CPU) per held-out utterance, in order."""
        return self.validation.vocode(self.generator)

    # ---------------------------------------------------------------- the loop
    @float32_default()
    def fit(self, max_steps: int | None = None, epochs: int | None = None, max_minutes: float | None = None,
            on_step: StepHook | None = None) -> str:
        """Train until a limit (total steps, total epochs, minutes of this call) or SIGINT/SIGTERM; then validate
        and save. `on_step(trainer, batch, result)` runs after every step. With options.deterministic, torch's
        deterministic algorithms are on for this call only; torch's default dtype is float32 for it. Returns why it
        stopped: "max_steps", "epochs", "time" or the signal name."""
        state, dist = self.state, self.dist
        rules = StopRules(max_steps, epochs, max_minutes, dist, self.device, self.writes, cli=self.cli)
        rules.warn_if_past(state.step)
        bar, hold = None, dist.active and dist.world_size > 1  # hold: a failed write stops every rank (held_writes)
        validates = dist.is_main and self.options.validation_interval > 0
        with saving_on_failed_log(self), self.writes.holding(hold), \
                deterministic_algorithms(self.options.deterministic), rules, self.validation.workers_kept(validates):
            try:
                self.stopping = rules.signals
                self.open_log()
                wrap_ddp(state, dist, self.device)
                rate = StepRate(state.step)
                bar = (progress_bar(state.step, rules.total(state, self.steps_per_epoch))
                       if dist.is_main and self.options.shows_bars else None)
                for batch in rules.batches(self.data, state):  # until a limit or a signal, on every rank alike
                    result = self.train_step(batch)
                    if bar is not None:
                        show_step(bar, result.terms, rules.total(state, self.steps_per_epoch))
                    self._after_step(result, rate)
                    if on_step is not None:
                        self._call_hook(on_step, batch, result, rate)
                reason = rules.reason
                self._log_step(rate)  # the last step's scalars, wherever the log interval fell
                if from_main(self.last_validated_step != state.step and self.options.validation_interval > 0, dist):
                    self.validate()
                self.save_checkpoint()
                self.writes.share(dist)
            except (ClipLoadError, WorkerDied) as e:  # on every rank at once, between steps: keep the state, stop
                self._log_step(rate)  # as at a normal end
                self.save_checkpoint()
                self.writes.share(dist)  # a failed write first; then the ranks wait for rank 0's save
                saved = from_main(self.last_checkpoint, dist)
                raise reported_once(e.stopped(saved, state.step, Path(self.options.out), self.cli), dist) from None
            finally:
                self.stopping = None
                self.data.end_workers()  # they serve every epoch of this call, and no later one
                if bar is not None:
                    bar.close()
        return reason

    def _call_hook(self, on_step: StepHook, batch: Batch, result: StepResult, rate: StepRate) -> None:
        """The caller's hook; an exception it raises stops the run, the step reached saved first (a save that fails
        is said, not raised: training.hook_stop), then goes on to the caller unchanged (a KeyboardInterrupt, the
        second Ctrl-C's abort, saves nothing)."""
        try:
            on_step(self, batch, result)
        except Exception as e:
            said = saved_after_hook(self, e, lambda: self._log_step(rate))
            if said is not None:
                self.say(said, warning=True)
            raise

    def _after_step(self, result: StepResult, rate: StepRate) -> None:
        """Scalars every log_interval steps (finite steps only), validation and checkpoints at their intervals."""
        options, state = self.options, self.state
        step = state.step
        self.unlogged = None if not result.ok else ({
            **result.terms, "lr/g": state.optim_g.param_groups[0]["lr"], "lr/d": state.optim_d.param_groups[0]["lr"]},
            state.epoch)  # as this step ran: the epoch's end may decay the rates before the last step is logged
        if step % max(1, options.log_interval) == 0:
            self._log_step(rate)
        if options.validation_interval > 0 and step % options.validation_interval == 0:
            with rate.paused():  # speed/steps_per_s is the training steps' speed
                self.validate()
        if state.batch_in_epoch >= self.steps_per_epoch:  # now, so that a stop at this step saves the next epoch's
            state.end_epoch()  # position and rates, as --epochs does (a stop never falls between the two)
        if (options.checkpoint_interval > 0 and step % options.checkpoint_interval == 0) or self.best.step == step:
            with rate.paused():
                self.save_checkpoint()  # a new best is saved at its step, whatever the interval

    @held
    def _log_step(self, rate: StepRate) -> None:
        """The newest step's scalars (a finite step not logged yet), with the step rate."""
        if self.log and self.unlogged is not None:
            scalars, epoch = self.unlogged
            self.log.scalars(self.state.step, {**scalars, "speed/steps_per_s": rate.read(self.state.step)}, epoch=epoch)
        self.unlogged = None

    # ---------------------------------------------------------------- output
    def say(self, message: str, warning: bool = False) -> None:
        """A console line, from rank 0 only; with options.quiet, warnings only."""
        if self.dist.is_main and (warning or not self.options.quiet):
            say(message, self.stopping)

    @held
    def open_log(self) -> None:
        """Rank 0 creates the run folder (those it makes are removed if the command fails:
        hifigan.files.output_folders) and opens its log (TensorBoard + log.jsonl); the temporaries a killed run left
        there go (files.leftovers: the run holds the folder), said in one line per folder."""
        if self.dist.is_main and self.log is None:
            prepare_output_dir(self.ckpt_dir)
            out = Path(self.options.out)
            for folder, names in ((self.ckpt_dir, None), (out, RUN_FILES)):  # one writer: this run (run_lock)
                if removed := remove_leftovers(folder, names, locked=True):
                    self.say(leftovers_line(folder, removed, locked=True), warning=True)
            self.log = RunLog(out, self.step)

    def close(self) -> None:
        """Close the log (the run can be continued with another Trainer from its checkpoint)."""
        if self.log:
            self.log.close()
            self.log = None
