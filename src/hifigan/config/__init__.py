"""Typed HiFi-GAN configuration: the official `config_v*.json` keys, plus what they hard-code (the generator, the
loss weights and the discriminators by name, each part's arguments, the mel convention), and the preset files. A
leaf: each part checks its own name and arguments when it is built."""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hifigan.arrays.upsampling import transposed_padding
from hifigan.config.checks import check_ranges, check_types
from hifigan.config.files import preset_names, preset_path, read_config_file
from hifigan.config.stft_geometry import OFFICIAL_EPS
from hifigan.config.values import number
from hifigan.errors import ConfigError


@dataclass
class DistConfig:
    """The official `dist_config` block (kept so official files load; torchrun supplies the real values)."""

    dist_backend: str = "nccl"
    dist_url: str = "tcp://localhost:54321"
    world_size: int = 1


DEFAULT_LOSS_WEIGHTS = {"mel": 45.0, "fm": 2.0, "adv": 1.0}  # lambda_mel, lambda_fm, and the adversarial term's 1
DEFAULT_DISCRIMINATORS = ("mpd", "msd")
HIFIGAN_GENERATOR = "hifigan"  # the paper's generator, built from the official keys (resblock, upsample_*, ...)
LEGACY_WEIGHT_KEYS = {"lambda_mel": "mel", "lambda_fm": "fm"}  # what our configs before loss_weights called them
# What loss_args["mel"] may set: the STFT and filterbank, and the convention (hifigan.mel; not the sampling rate)
LOSS_MEL_KEYS = ("n_fft", "num_mels", "hop_size", "win_size", "fmin", "fmax", "convention", "floor", "framing",
                 "magnitude_eps")


@dataclass
class HifiganConfig:
    """Every hyperparameter of one HiFi-GAN model and its training; defaults are the official V1.

    Checks here are the ones a config can make alone (shapes, the HiFi-GAN generator's upsampling geometry,
    numbers); each part (another generator, a discriminator, a loss term, the mel front-end) checks its own
    arguments when it is built. Every generator turns `frames` mel frames into frames x hop_size samples.
    """

    resblock: str = "1"
    num_gpus: int = 0
    batch_size: int = 16
    learning_rate: float = 0.0002
    adam_b1: float = 0.8
    adam_b2: float = 0.99
    lr_decay: float = 0.999
    seed: int = 1234

    upsample_rates: list[int] = field(default_factory=lambda: [8, 8, 2, 2])
    upsample_kernel_sizes: list[int] = field(default_factory=lambda: [16, 16, 4, 4])
    upsample_initial_channel: int = 512
    resblock_kernel_sizes: list[int] = field(default_factory=lambda: [3, 7, 11])
    resblock_dilation_sizes: list[list[int]] = field(default_factory=lambda: [[1, 3, 5], [1, 3, 5], [1, 3, 5]])

    segment_size: int = 8192
    num_mels: int = 80
    num_freq: int = 1025
    n_fft: int = 1024
    hop_size: int = 256
    win_size: int = 1024
    sampling_rate: int = 22050
    fmin: float = 0
    fmax: float | None = 8000
    fmax_for_loss: float | None = None

    num_workers: int = 4
    dist_config: DistConfig = field(default_factory=DistConfig)

    # Not in the official json: the generator by name (hifigan.models.generators; "hifigan" reads the keys above, any
    # other reads generator_args, its factory's keyword arguments), the paper's loss weights (Eq. 6) by term name,
    # the discriminators by name, and an optional generator-only warm-up. A weight left out keeps its default; a
    # term without a default is off (0).
    generator: str = HIFIGAN_GENERATOR
    generator_args: dict[str, Any] = field(default_factory=dict)
    loss_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LOSS_WEIGHTS))
    discriminators: list[str] = field(default_factory=lambda: list(DEFAULT_DISCRIMINATORS))
    disc_start_step: int = 0
    # The peak every training clip is scaled to (the official recipe: librosa's normalize x 0.95); None: the clips
    # as recorded (Parallel WaveGAN, SpeechBrain), so that the mels the model learns from sit at the level of the
    # mels an acoustic model of that recipe gives.
    audio_peak: float | None = 0.95
    # Each part's arguments by part name (a discriminator's, a loss term's); what is left out keeps the part's
    # default (the official recipe's). The part checks them when it is built.
    discriminator_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    loss_args: dict[str, dict[str, Any]] = field(default_factory=dict)

    # The input mel's convention (hifigan.mel): by default the official one (natural log floored at 1e-5, frames
    # reflect-padded by (n_fft - hop) / 2, |X| = sqrt(re^2 + im^2 + 1e-9)); or another log (log10, dB, of the power,
    # another floor), librosa's centred frames, another epsilon, and per-bin mean/std normalisation from statistics
    # (a file, or the values themselves, as a checkpoint stores them).
    mel_convention: str = "official"
    mel_floor: float | None = None
    mel_framing: str = "official"
    mel_magnitude_eps: float = OFFICIAL_EPS
    mel_stats: str | dict[str, Any] | None = None

    # Where a preset's values come from (project, file, commit): documentation, never read by the model.
    recipe: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.dist_config, dict):
            self.dist_config = _build(DistConfig, self.dist_config, None)
        self.resblock = str(self.resblock)
        if isinstance(self.loss_weights, dict):
            self.loss_weights = {**DEFAULT_LOSS_WEIGHTS, **self.loss_weights}
        self.validate()

    def validate(self, source: str | os.PathLike | None = None) -> None:
        """Reject configs whose parts cannot fit together, naming the offending keys."""

        def bad(problem: str) -> ConfigError:
            return ConfigError(source, problem)

        try:
            check_types(self)
            check_ranges(self)
        except ValueError as e:
            raise bad(str(e)) from None
        if not self.generator:
            raise bad("generator must be a name, got ''")
        if self.generator == HIFIGAN_GENERATOR:
            self._validate_hifigan(bad)
        if self.segment_size % self.hop_size:
            raise bad(f"segment_size ({self.segment_size}) must be a multiple of hop_size ({self.hop_size})")
        if self.mel_framing == "official" and (self.n_fft - self.hop_size) % 2:
            raise bad(f"n_fft - hop_size ({self.n_fft} - {self.hop_size}) is odd: the official framing pads "
                      f"(n_fft - hop_size) // 2 samples per side, so a segment would lose a frame; use n_fft "
                      f"{self.n_fft + 1}")
        self._validate_parts(bad)

    def _validate_hifigan(self, bad: Callable[[str], ConfigError]) -> None:
        """The HiFi-GAN generator's keys: its blocks, and upsampling that gives exactly frames x hop_size samples."""
        if self.resblock not in ("1", "2"):
            raise bad(f"resblock must be '1' or '2', got {self.resblock!r}")
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes):
            raise bad("upsample_rates and upsample_kernel_sizes differ in length")
        if len(self.resblock_kernel_sizes) != len(self.resblock_dilation_sizes):
            raise bad("resblock_kernel_sizes and resblock_dilation_sizes differ in length")
        self._validate_geometry(bad)
        if self.upsample_factor != self.hop_size:
            raise bad(f"product of upsample_rates ({self.upsample_factor}) != hop_size ({self.hop_size})")
        if self.upsample_initial_channel % (2 ** len(self.upsample_rates)):
            raise bad("upsample_initial_channel must be divisible by 2 ** len(upsample_rates)")

    def _validate_geometry(self, bad: Callable[[str], ConfigError]) -> None:
        """Every layer must give exactly its share of frames x hop samples (hifigan.arrays.upsampling)."""
        for i, (rate, kernel) in enumerate(zip(self.upsample_rates, self.upsample_kernel_sizes)):
            try:
                transposed_padding(rate, kernel)
            except ValueError as e:
                raise bad(f"upsample_kernel_sizes[{i}] = {kernel} with upsample_rates[{i}] = {rate}: {e}") from None
        for i, (kernel, dilations) in enumerate(zip(self.resblock_kernel_sizes, self.resblock_dilation_sizes)):
            # resblock 1 follows each dilated convolution with an undilated one (the official convs2)
            for d in [*dilations, 1] if self.resblock == "1" else dilations:
                if (kernel - 1) * d % 2:
                    where = "" if d in dilations else " (resblock 1's undilated second convolutions)"
                    raise bad(f"resblock_kernel_sizes[{i}] = {kernel} with dilation {d}{where} cannot keep the length "
                              f"(a 'same' convolution needs (kernel - 1) x dilation even); use {kernel + 1}")

    def _validate_parts(self, bad: Callable[[str], ConfigError]) -> None:
        """The part lists and weights hold sensible values (the parts check their names and arguments when built)."""
        if not self.discriminators:
            raise bad("discriminators must be a non-empty list of names")
        if len(set(self.discriminators)) != len(self.discriminators):
            raise bad(f"discriminators lists a name twice: {self.discriminators}")
        try:
            self.loss_weights = {k: number(f"loss_weights[{k!r}]", v, 0) for k, v in self.loss_weights.items()}
            if self.audio_peak is not None:  # None: the clips as recorded
                number("audio_peak", self.audio_peak, 0, 1, low_open=True)
        except ValueError as e:
            raise bad(str(e)) from None
        for name in self.discriminator_args:
            if name not in self.discriminators:
                raise bad(f"discriminator_args names {name!r}, which is not in discriminators {self.discriminators}")

    @property
    def upsample_factor(self) -> int:
        """The product of the HiFi-GAN generator's upsample rates (hop_size, for that generator). Audio samples per
        mel frame, for every generator: hop_size."""
        return math.prod(self.upsample_rates)

    def frames_ms(self, frames: float) -> float:
        """How long `frames` mel frames of audio last, in milliseconds: hop_size samples each at sampling_rate."""
        return 1000 * frames * self.hop_size / self.sampling_rate

    def frames_seconds(self, frames: float) -> float:
        """How long `frames` mel frames of audio last, in seconds (frames_ms / 1000)."""
        return self.frames_ms(frames) / 1000

    def seconds_frames(self, seconds: float) -> float:
        """How many mel frames `seconds` of audio make, unrounded: frames_seconds' inverse."""
        return seconds * self.sampling_rate / self.hop_size

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def mel_kwargs(self, for_loss: bool = False) -> dict[str, Any]:
        """Arguments of `MelSpectrogram` / `mel_spectrogram`. The model input: the mel_* convention (fmax, stats).
        The mel loss: fmax_for_loss and the official convention (its weight is in nats), then loss_args["mel"],
        which may set any of LOSS_MEL_KEYS; the input's normalisation never applies to the loss."""
        kwargs = dict(
            n_fft=self.n_fft, num_mels=self.num_mels, sampling_rate=self.sampling_rate,
            hop_size=self.hop_size, win_size=self.win_size, fmin=self.fmin,
            fmax=self.fmax_for_loss if for_loss else self.fmax,
        )
        if not for_loss:
            return {**kwargs, "convention": self.mel_convention, "floor": self.mel_floor,
                    "framing": self.mel_framing, "magnitude_eps": self.mel_magnitude_eps, "stats": self.mel_stats}
        given = self.loss_args.get("mel", {})
        for key in given:
            if key not in LOSS_MEL_KEYS:
                known = ", ".join(LOSS_MEL_KEYS)
                raise ConfigError(None, f"loss_args['mel']: unknown argument {key!r} (known: {known})")
        return {**kwargs, **given}


def _build(cls: type, values: dict[str, Any], source: str | os.PathLike | None) -> Any:
    """`cls` of `values` (a dict: both callers make sure), an unknown key a ConfigError naming it."""
    known = {f.name for f in dataclasses.fields(cls)}
    for key in values:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)  # a typo's likely meaning
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(source, f"unknown config key {key!r}{guess}")
    try:
        return cls(**values)
    except ConfigError as e:
        raise ConfigError(source, e.problem) from None
    except TypeError as e:
        raise ConfigError(source, str(e)) from None


def config_from_dict(values: dict[str, Any], source: str | os.PathLike | None = None) -> HifiganConfig:
    """Build a config from a mapping (official json keys); an unknown key is an error that names it.

    Our older configs and checkpoints carry `lambda_mel` / `lambda_fm`: they become loss_weights' mel / fm.
    """
    values = dict(values)
    legacy = {LEGACY_WEIGHT_KEYS[k]: values.pop(k) for k in list(values) if k in LEGACY_WEIGHT_KEYS}
    if legacy:
        given = values.get("loss_weights") or {}
        if not isinstance(given, dict):
            raise ConfigError(source, "loss_weights must be a mapping of term name to weight")
        for name, weight in legacy.items():
            if name in given and given[name] != weight:
                raise ConfigError(source, f"lambda_{name} ({weight}) contradicts loss_weights[{name!r}] "
                                          f"({given[name]}); keep loss_weights only")
        values["loss_weights"] = {**legacy, **given}
    return _build(HifiganConfig, values, source)


def load_config(name_or_path: str | os.PathLike | HifiganConfig) -> HifiganConfig:
    """A preset name (`v1`, `v3`, `pwg-24k`, ...: `hifigan configs` lists them), an official `config_v*.json`, or a
    JSON or YAML file of ours. A relative `mel_stats` path is read from the config file's folder."""
    if isinstance(name_or_path, HifiganConfig):
        return name_or_path
    path, values, _ = read_config_file(name_or_path)
    return config_from_dict(values, path)


def load_preset(name: str) -> HifiganConfig:
    """The preset `name` from the package's own files (`hifigan configs` lists them), whatever the current folder
    holds: code that walks the presets by name must not read a user's file that happens to share one."""
    path = preset_path(name)
    if path is None:
        raise ConfigError(None, f"no preset {name!r} (presets: {', '.join(preset_names())})")
    return load_config(path)
