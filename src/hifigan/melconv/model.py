"""A model's own mel convention (its config's front-end): what its inputs look like, and the exact conversion of a
mel of another convention to it (through ln M, then the model's forward map, floor and normalisation)."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hifigan.config import HifiganConfig
from hifigan.config.stft_geometry import OFFICIAL_EPS
from hifigan.errors import MelError
from hifigan.melconv.conventions import (
    MelStats,
    from_nats,
    front_end_floor,
    lacking,
    parse_convention,
    to_nats,
    to_official,
)
from hifigan.melconv.filterbank import slaney_basis
from hifigan.melconv.stats import model_stats


@dataclass(frozen=True)
class ModelMel:
    """The mel a model takes: its convention and floor, its normalisation (per-bin mean/std) and its shape and rate;
    `front_end`, its config's mel_kwargs (None: not known), from which its filterbank's `row_sums` are computed when
    asked."""

    convention: str
    floor: float | None
    stats: MelStats | None
    num_mels: int
    sampling_rate: int
    hop_size: int
    front_end: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, config: HifiganConfig) -> ModelMel:
        """The model of `config` (a bad convention, floor or statistics: one-line ConfigError or MelError)."""
        name = config.mel_convention
        floor, stats = front_end_floor(name, config.mel_floor), model_stats(config.mel_stats, config.num_mels, name)
        return cls(name, floor, stats, config.num_mels, config.sampling_rate, config.hop_size, config.mel_kwargs())

    @functools.cached_property
    def row_sums(self) -> np.ndarray | None:
        """[num_mels] float64 sums of its filterbank's rows (the mel of a flat |X| of 1), from which detection knows
        digital silence under an epsilon on the power (hifigan.melconv.silence); None where the front-end is unknown
        or the mel linear. Computed on first use: librosa.filters' import (~1 s) waits for a detection that needs it."""
        k = self.front_end
        if k is None or self.floor is None:
            return None
        basis = slaney_basis(k["sampling_rate"], k["n_fft"], k["num_mels"], k["fmin"], k["fmax"])
        return basis.sum(axis=1, dtype=np.float64)

    @functools.cached_property
    def unnormalised(self) -> ModelMel:
        """This model without its mel_stats: the log mel its statistics describe (detect judges a normalised mel
        denormalised against it), built once so that its row_sums are too."""
        return dataclasses.replace(self, stats=None)

    @property
    def label(self) -> str:
        """The one description of the model's mel a user reads (configs, check-mel, export facts, /v1/info):
        'official', 'log10 (floor 1e-10) normalised by mel_stats, centred frames, |X| without epsilon'."""
        text = self.convention
        if self.convention != "official" and self.floor is not None:
            text += f" (floor {self.floor:.0e})"
        text += " normalised by mel_stats" if self.stats is not None else ""
        return ", ".join([text, *self.framing_notes])

    @property
    def framing_notes(self) -> list[str]:
        """How its STFT differs from the official one (its front-end's framing and epsilon under |X|), which
        detection cannot see in a mel; none where the front-end is unknown."""
        k = self.front_end or {}
        notes = ["centred frames"] if k.get("framing") == "center" else []
        eps = k.get("magnitude_eps", OFFICIAL_EPS)
        if eps != OFFICIAL_EPS:
            notes.append("|X| without epsilon" if eps == 0 else f"epsilon {eps:g} under |X|")
        return notes

    def describe(self) -> str:
        """The label with what detection cannot see: the rate and hop."""
        return f"{self.label}, {self.sampling_rate} Hz, hop {self.hop_size}"

    def named(self, rate: bool = False) -> str:
        """The model's mel as every sentence names it, the label in brackets so that a long one (commas and all)
        reads as well as 'official': "the model's mel (official)"; with `rate`, describe() in the brackets."""
        return f"the model's mel ({self.describe() if rate else self.label})"

    @property
    def expected(self) -> tuple[str, ...]:
        """The conventions `detect` may name for this model's own mels (an official mel is an ln-floor mel whose
        floor is 1e-5)."""
        if self.stats is not None:
            return ("meanstd",)
        return ("ln-floor", "official") if self.convention == "ln-floor" else (self.convention,)

    def is_own(self, spec: str | None) -> bool:
        """Whether --mel-convention `spec` names this model's mels as they are (None: by default)."""
        return spec is None or (self.stats is None and parse_convention(spec) == (False, self.convention))

    def lacking(self, spec: str, stats: MelStats | None, db_ref: float | None) -> str | None:
        """What converting from `spec` needs and was not given (conventions.lacking): the model's own mean/std serve
        a meanstd source given no statistics."""
        name = parse_convention(spec)[1]
        return lacking(name, self.stats if stats is None and name == "meanstd" else stats, db_ref)

    def convert(self, mel: np.ndarray, spec: str, stats: MelStats | None = None,
                db_ref: float | None = None) -> np.ndarray:
        """[num_mels, T] (or [B, num_mels, T]; [T, num_mels] with 'transposed') mel in convention `spec` -> this
        model's, float64. Exact where the source floor is at or below the model's. A normalised source with no
        statistics given uses the model's own. Raises ValueError as `to_nats`."""
        _, name = parse_convention(spec)
        if self.convention == "official" and self.stats is None:
            return to_official(mel, spec, stats, db_ref)
        if name in ("meanstd", "minmax01", "minmax4") and stats is None:
            stats = self.stats
        x = from_nats(to_nats(mel, spec, stats, db_ref), self.convention, self.floor)
        if self.stats is not None:
            x = (x - self.stats.mean[:, None]) / self.stats.std[:, None]
        return x

    def convert_checked(self, mel: np.ndarray, spec: str, stats: MelStats | None = None, db_ref: float | None = None,
                        source: str | None = None, dtype: type = np.float32) -> np.ndarray:
        """`convert`, then cast to `dtype`: values the model's map or the cast takes beyond the range (a linear
        convention's exp of a mel that is not in `spec`'s convention) are a one-line MelError naming `source`, not
        an overflow warning and an inf mel. Raises ValueError as `convert`."""
        from hifigan.mel_file import checked_mel_values

        with np.errstate(over="ignore"):
            converted = self.convert(mel, spec, stats, db_ref)
        try:
            return checked_mel_values(converted, source, dtype)
        except MelError:
            raise MelError(source, f"the mel converted to the model's convention ({self.convention}) is not finite "
                                   "(values too large?)") from None
