"""What a training run is asked to do, as typed values without torch (so `hifigan train --help` takes its defaults
and choices from here): `TrainOptions` (how a run is carried out) and `TrainJob` (a whole `hifigan train` job, its
data a hifigan.data.corpus.Corpus: `hifigan.training.job.train` runs it). The model and data hyperparameters live
in HifiganConfig."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hifigan.config import HifiganConfig
from hifigan.messages.option_names import flag, setting
from hifigan.messages.progress_bars import shows_bars

if TYPE_CHECKING:
    from hifigan.data.corpus import Corpus

PRECISIONS = ("fp32", "bf16")  # training autocasts to bf16 only (fp16 would need loss scaling)


@dataclass
class TrainOptions:
    """How to run training (the model and data hyperparameters live in HifiganConfig). `out`: the run folder
    (checkpoints/, logs/, log.jsonl); a job that resumes without one continues in the resumed run's folder."""

    out: Path | None = None
    device: str = "cpu"
    precision: str = "fp32"
    # The run's settings (None: the resumed run's, else RUN_DEFAULTS; training.run_settings carries them over).
    checkpoint_interval: int | None = None
    validation_interval: int | None = None
    log_interval: int | None = None
    keep: int | None = None
    max_nonfinite: int | None = None
    deterministic: bool = False
    cuda_graph: bool | None = None  # the step replayed from one CUDA graph (training.graphed); None: where it can
    progress: bool | None = None  # progress bars (the scan's, training's); None: on a terminal: `shows_bars`
    quiet: bool = False  # the console says warnings only (Trainer.say): no status lines, no progress bars
    resample: bool = False
    mix_to_mono: bool = False
    mel_convention: str | None = None  # the convention of the job's --input-mels mels (None: the model's own)
    media_clips: int = 3  # validation clips whose audio and mel images go to TensorBoard

    @property
    def shows_bars(self) -> bool:
        """Whether the run shows progress bars: `progress` (None: on a terminal) and not `quiet` (as `--quiet`
        turns them off too)."""
        return shows_bars(self.progress) and not self.quiet


# Each run setting's value where neither the command line nor the resumed run's checkpoint gives one.
RUN_DEFAULTS = {"checkpoint_interval": 5000, "validation_interval": 1000, "log_interval": 10, "keep": 3,
                "max_nonfinite": 10}


def settled(options: TrainOptions) -> TrainOptions:
    """`options` with each run setting not given at its default (RUN_DEFAULTS)."""
    from dataclasses import replace

    return replace(options, **{k: v for k, v in RUN_DEFAULTS.items() if getattr(options, k) is None})


# The least value of each count, the run's and the config overrides' (0 turns an interval off: checkpoints then
# only at the end, no validation; --max-steps 0: the initial weights as ckpt_00000000.pt).
LEAST = {"checkpoint_interval": 0, "validation_interval": 0, "log_interval": 1, "keep": 1, "max_nonfinite": 1,
         "max_steps": 0, "epochs": 1, "batch_size": 1, "segment_size": 1, "num_workers": 0, "seed": 0,
         "disc_start_step": 0}


def check_counts(values: dict[str, int | float | None], cli: bool) -> None:
    """Each count given at or above its least value (LEAST), and --max-minutes positive; else one line naming it
    (its option, or with `cli` False its field: option_names.flag)."""
    from hifigan.config.values import integer_problem, number_problem
    from hifigan.errors import HifiganError

    for key, value in values.items():
        if value is None:
            continue
        if key == "max_minutes":
            problem = number_problem(value, 0, low_open=True, inf=True)
        else:
            problem = integer_problem(value, LEAST[key]) if key in LEAST else None
        if problem is not None:
            raise HifiganError(None, f"{flag(key, cli)} {problem}")


def validation_off(options: TrainOptions, valid_count: int | None, resuming: bool,
                   cli: bool) -> tuple[TrainOptions, str | None]:
    """A run that holds nothing out (--valid-count 0) has validation off: a new one must say so with
    --validation-interval 0; a resumed one turns validation off, with a line saying why (None: nothing to say).
    `cli` False: the settings named as a Python caller gives them (option_names.setting)."""
    from dataclasses import replace

    from hifigan.errors import HifiganError

    if valid_count != 0 or options.validation_interval == 0:
        return options, None
    if not resuming:
        raise HifiganError(None, f"{setting('valid_count', 0, cli)} holds nothing out, so there is nothing to "
                                 f"validate: add {setting('validation_interval', 0, cli)} (validation off), or hold "
                                 "out 1 or more files")
    return replace(options, validation_interval=0), (f"validation off: the run holds nothing out "
                                                     f"({setting('valid_count', 0, cli)}); start a new run to validate")


def default(name: str) -> Any:
    """The default of one TrainOptions field (the CLI's defaults are these, not copies); of a run setting, the
    value it takes when not given (RUN_DEFAULTS), not the field's None."""
    if name in RUN_DEFAULTS:
        return RUN_DEFAULTS[name]
    return next(f.default for f in fields(TrainOptions) if f.name == name)


@dataclass
class TrainJob:
    """One training job, as `hifigan train` runs it (the command fills this from its options).

    `data`: where the audio comes from (a folder, or official file lists; the validation split); `input_mels`: a
    folder of teacher-forced mels (<stem>.npy per audio file) to fine-tune on (their convention: the options'
    `mel_convention`); checkpoints store both, and how the audio is read, so a job that resumes needs none. `config`: a
    preset name, a config file or a HifiganConfig (default: the resumed
    checkpoint's, else the --init-from checkpoint's of ours, else v1); `batch_size` ... `seed` override it.
    `resume`: a run folder or checkpoint to continue exactly; `init_from`: weights to start from (an official g_*
    file, our checkpoint, or a pretrained model's name) with `init_discriminators` (an official do_* file). Training
    stops at `max_steps` (total), `epochs` (total) or `max_minutes` (of this job), whichever comes first; `on_step`
    watches it.
    """

    options: TrainOptions = field(default_factory=TrainOptions)
    data: Corpus | None = None
    input_mels: Path | None = None
    config: str | os.PathLike | HifiganConfig | None = None
    batch_size: int | None = None
    segment_size: int | None = None
    disc_start_step: int | None = None
    num_workers: int | None = None
    seed: int | None = None
    resume: Path | None = None
    init_from: str | os.PathLike | None = None
    init_discriminators: Path | None = None
    max_steps: int | None = None
    epochs: int | None = None
    max_minutes: float | None = None
    on_step: Callable[..., None] | None = None  # on_step(trainer, batch, result) after every step (Trainer.fit)
    cli: bool = False  # built by `hifigan train`: the run folder's refusals name its options (--resume), not fields

    def check(self) -> None:
        """The counts in range, and the options that go together given together (one line naming the problem)."""
        from hifigan.data.teacher_mels import check_mel_convention
        from hifigan.errors import HifiganError

        named = {k: flag(k, self.cli) for k in ("resume", "init_from", "init_discriminators", "mel_convention",
                                                "input_mels")}
        check_counts({**{k: getattr(self.options, k) for k in LEAST if hasattr(self.options, k)},
                      "max_steps": self.max_steps, "epochs": self.epochs, "max_minutes": self.max_minutes}, self.cli)
        if self.resume is not None and self.init_from is not None:
            raise HifiganError(None, f"{named['resume']} and {named['init_from']} exclude each other (a resumed run "
                                     "has its weights)")
        if self.init_discriminators is not None and self.init_from is None:
            raise HifiganError(self.init_discriminators, f"{named['init_discriminators']} needs {named['init_from']} "
                               "(the generator that goes with these discriminators)")
        if self.init_discriminators is not None and not Path(self.init_discriminators).is_file():
            raise HifiganError(self.init_discriminators, f"no such file ({named['init_discriminators']})")
        if self.options.mel_convention is not None and self.input_mels is None and self.resume is None:
            raise HifiganError(None, f"{named['mel_convention']} names the convention of the {named['input_mels']} "
                                     "mels: give both")
        check_mel_convention(self.options.mel_convention, self.cli)

    def overrides(self) -> dict[str, int]:
        """The config keys this job sets (those given)."""
        pairs = (("batch_size", self.batch_size), ("segment_size", self.segment_size),
                 ("disc_start_step", self.disc_start_step), ("num_workers", self.num_workers), ("seed", self.seed))
        return {k: v for k, v in pairs if v is not None}
