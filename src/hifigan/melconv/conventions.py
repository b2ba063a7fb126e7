"""The mel conventions front-ends use: the forward map from the Slaney mel magnitude M to each, and the exact maps
from each back to natural-log nats of M (and so to the official log-mel, or to any model's convention).

Official: natural log of M, floored at 1e-5 (ln 1e-5 = -11.5129). Every log or linear convention below is an
elementwise function of M (or of M with another floor), so converting it is exact once the target floor is
re-applied: max(ln M, ln 1e-5) = ln max(M, 1e-5) whenever the source floor is <= the target's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hifigan.errors import ConfigError

OFFICIAL_MAGNITUDE_FLOOR = 1e-5  # the official front-end's clamp on the mel magnitude M
OFFICIAL_FLOOR_TEXT = f"{OFFICIAL_MAGNITUDE_FLOOR:g}".replace("e-0", "e-")  # as the messages write it: "1e-5"
OFFICIAL_FLOOR = math.log(OFFICIAL_MAGNITUDE_FLOOR)  # -11.512925..., the lowest official mel value
LN10 = math.log(10.0)
DEFAULT_FLOOR = 1e-10  # a log convention's floor unless mel_floor or the convention says (PWG, ESPnet, librosa)


@dataclass(frozen=True)
class Convention:
    """One convention: its name (the --mel-convention value) and its map from M.

    The value is gain * log(max(M^power, floor)) for a log convention (`log` "ln" or "log10"), M^power for a linear
    one; `front_end` marks the ones a model's front-end computes (`mel_convention`), `floor` the floor its
    front-end applies where mel_floor is null.
    """

    name: str
    log: str | None = None
    power: int = 1
    gain: float = 1.0
    linear: bool = False
    front_end: bool = False
    convertible: bool = True
    needs_stats: bool = False
    floor: float = DEFAULT_FLOOR

    @property
    def scale(self) -> float | None:
        """Nats of M per unit of value (ln M = scale * value) for a log convention; None otherwise."""
        if self.log is None:
            return None
        return (LN10 if self.log == "log10" else 1.0) / (self.gain * self.power)


CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    # What each value is, how check-mel recognises it and how it converts: the table in docs/sample-rates.md.
    Convention("official", "ln", front_end=True, floor=OFFICIAL_MAGNITUDE_FLOOR),
    Convention("ln-floor", "ln", front_end=True),  # another floor: exact below 1e-5, lossy above
    Convention("log10", "log10", front_end=True),
    Convention("ln-power", "ln", power=2, front_end=True),
    Convention("log10-power", "log10", power=2, front_end=True),
    Convention("db", "log10", gain=20.0, front_end=True,
               floor=1e-5),  # -100 dB: librosa's amplitude_to_db (amin 1e-5), and power_to_db's 1e-10 on M^2
    Convention("db-ref", "log10", gain=20.0),  # 20 log10(M / ref): needs the reference amplitude (--mel-db-ref)
    Convention("linear-magnitude", linear=True, front_end=True),
    Convention("linear-power", power=2, linear=True, front_end=True),
    Convention("meanstd", needs_stats=True),
    Convention("minmax01", needs_stats=True),
    Convention("minmax4", needs_stats=True),  # 8 * (x - min) / (max - min) - 4
    Convention("transposed"),  # [frames, num_mels]
    Convention("mel-of-power", convertible=False),  # the filterbank on |X|^2 (librosa power=2.0)
    Convention("other-fmax", convertible=False),
    Convention("htk-mel", convertible=False),
    Convention("other-hop", convertible=False),
)}
FRONT_END = tuple(name for name, c in CONVENTIONS.items() if c.front_end)  # the values of mel_convention

NO_EXACT_MAP = ("no exact map to the official mel exists (the filterbank or framing differs): compute the mel "
                "from the audio with `hifigan mel`, or fine-tune on your own mels (`hifigan train --input-mels`)")
LINEAR_FLOOR = 1e-30  # amplitude a linear mel's zeros stand for in nats: below any floor a log convention uses


@dataclass(frozen=True)
class MelStats:
    """Statistics of a normalised mel, per bin ([num_mels]) or scalar, in the domain of `base` (a log convention)."""

    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    base: str = "official"


LOOSE_KEYS = ("mel_convention (or loss_args['mel']['convention'])", "mel_floor (or loss_args['mel']['floor'])")


def front_end_floor(name: str, floor: float | None, keys: tuple[str, str] = LOOSE_KEYS) -> float | None:
    """The floor front-end convention `name` applies: `floor`, or by default the convention's (1e-5 for official and
    db, 1e-10 for the other log conventions); None for a linear one. An unknown name or a floor the convention cannot
    take is a one-line ConfigError naming the key (`keys`: the config's names of the convention and the floor; the
    config checks them at load by these names)."""
    convention_key, floor_key = keys
    if name not in FRONT_END:
        raise ConfigError(None, f"{convention_key} {name!r} is unknown; choose from {', '.join(FRONT_END)}")
    if floor is not None and (isinstance(floor, bool) or not isinstance(floor, int | float)
                              or not math.isfinite(floor) or floor <= 0):
        raise ConfigError(None, f"{floor_key} must be a number > 0 or null, got {floor!r}")
    if CONVENTIONS[name].linear:
        if floor is not None:
            raise ConfigError(None, f"{floor_key} {floor} with {convention_key} {name}: a linear mel has no floor "
                                    "(null)")
        return None
    if name == "official":
        if floor is not None and floor != OFFICIAL_MAGNITUDE_FLOOR:
            raise ConfigError(None, f"{floor_key} {floor} with {convention_key} official: the official floor is "
                                    f"{OFFICIAL_FLOOR_TEXT}; use {convention_key} ln-floor for another")
    return CONVENTIONS[name].floor if floor is None else float(floor)


def forward(m: Any, name: str, floor: float | None) -> Any:
    """Mel magnitude M (a numpy array or torch tensor) -> front-end convention `name` (floor: front_end_floor's).

    The official one is torch.log(torch.clamp(M, min=1e-5)) operation for operation, so its values are the
    official code's bit for bit."""
    conv = CONVENTIONS[name]
    numpy = isinstance(m, np.ndarray)
    y = m if conv.power == 1 else m * m
    if conv.linear:
        return y
    y = np.maximum(y, floor) if numpy else y.clamp(min=floor)
    if conv.log == "ln":
        y = np.log(y) if numpy else y.log()
    else:
        y = np.log10(y) if numpy else y.log10()
    return y if conv.gain == 1.0 else y * conv.gain


def from_nats(nats: np.ndarray, name: str, floor: float | None) -> np.ndarray:
    """ln M (float64) -> front-end convention `name`: `forward` of exp(nats), without leaving the log domain."""
    conv = CONVENTIONS[name]
    if conv.linear:
        return np.exp(conv.power * nats)
    return np.maximum(conv.power * nats, math.log(floor)) / (conv.scale * conv.power)


def parse_convention(spec: str, named: str | None = None) -> tuple[bool, str]:
    """'log10', 'transposed+db', ... -> (transposed, convention name); raises ValueError naming the problem and
    the setting as the caller gave it (`named`, e.g. "set_mel_convention('foo')"; default the option,
    "--mel-convention foo")."""
    label = named or f"--mel-convention {spec}"
    parts = [p.strip() for p in spec.split("+") if p.strip()]
    transposed = "transposed" in parts
    rest = [p for p in parts if p != "transposed"]
    if len(rest) > 1:
        raise ValueError(f"{label}: name one convention (plus 'transposed'), got {', '.join(rest)}")
    name = rest[0] if rest else "official"
    if name not in CONVENTIONS or name == "transposed":
        usable = [c.name for c in CONVENTIONS.values() if c.convertible and c.name != "transposed"]
        raise ValueError(f"{label}: unknown convention {name!r} (choose from {', '.join(usable)}; "
                         "'transposed+NAME' for a [frames, num_mels] mel)")
    if not CONVENTIONS[name].convertible:
        raise ValueError(f"{named or f'--mel-convention {name}'}: {NO_EXACT_MAP}")
    return transposed, name


def log_to_nats(x: np.ndarray, name: str, db_ref: float = 1.0) -> np.ndarray:
    """A log- or linear-convention mel -> ln M (float64), with the source's own floor (none re-applied)."""
    x = np.asarray(x, dtype=np.float64)
    conv = CONVENTIONS[name]
    if conv.linear:
        return np.log(np.maximum(x, LINEAR_FLOOR**conv.power)) / conv.power
    if conv.scale is None:
        raise ValueError(f"{name} is not a log or linear convention")
    return conv.scale * x + (math.log(db_ref) if name == "db-ref" else 0.0)


def stats_lacking(name: str, stats: MelStats) -> str | None:
    """The per-bin statistics normalised convention `name` needs and `stats` lacks ("'mean' and 'std'", "'min' and
    'max'"), or None. Each caller names where they come from (denormalise: stats=; vocode: --mel-stats FILE)."""
    if name == "meanstd":
        return None if stats.mean is not None and stats.std is not None else "'mean' and 'std'"
    return None if stats.low is not None and stats.high is not None else "'min' and 'max'"


def denormalise(x: np.ndarray, name: str, stats: MelStats) -> np.ndarray:
    """Undo a mean/std or min-max normalisation ([num_mels, T] float64): back to the domain of `stats.base`."""
    x = np.asarray(x, dtype=np.float64)

    def col(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        return v.reshape(-1, 1) if v.ndim == 1 else v

    if (keys := stats_lacking(name, stats)) is not None:  # a Python caller's argument, as to_nats names spec=
        raise ValueError(f"{name} needs per-bin {keys} in stats=")
    if name == "meanstd":
        return x * col(stats.std) + col(stats.mean)
    unit = x if name == "minmax01" else (x + 4.0) / 8.0
    return unit * (col(stats.high) - col(stats.low)) + col(stats.low)


NEEDED = {"stats": "the statistics of the mels' normalisation",
          "db_ref": "the reference amplitude of the dB values (a per-utterance ref=np.max is lost unless it was saved)"}


def lacking(name: str, stats: object, db_ref: float | None) -> str | None:
    """What convention `name`'s map needs and was not given: "stats" (a normalised one's statistics), "db_ref" (db-ref's
    reference amplitude), or None. Each caller words it in its own names (to_nats, set_mel_convention, vocode's)."""
    if CONVENTIONS[name].needs_stats and stats is None:
        return "stats"
    return "db_ref" if name == "db-ref" and db_ref is None else None


def to_nats(
    mel: np.ndarray, spec: str, stats: MelStats | None = None, db_ref: float | None = None
) -> np.ndarray:
    """[num_mels, T] (or [T, num_mels] with 'transposed') mel in convention `spec` -> ln M [num_mels, T] float64,
    floored where the source was (nothing re-applied).

    Raises ValueError where no exact map exists or what the map needs (statistics, a dB reference) is missing.
    """
    transposed, name = parse_convention(spec, f"spec={spec!r}")  # a Python caller's argument
    if (missing := lacking(name, stats, db_ref)) is not None:  # a Python caller's arguments, as the option's
        raise ValueError(f"spec={spec!r} needs {missing}=: {NEEDED[missing]}")
    x = np.asarray(mel, dtype=np.float64)
    if transposed:
        x = np.swapaxes(x, -1, -2)
    if CONVENTIONS[name].needs_stats:
        x, name = denormalise(x, name, stats), stats.base
    return log_to_nats(x, name, 1.0 if db_ref is None else db_ref)


def to_official(
    mel: np.ndarray, spec: str, stats: MelStats | None = None, db_ref: float | None = None
) -> np.ndarray:
    """[num_mels, T] (or [T, num_mels] with 'transposed') mel in convention `spec` -> official [num_mels, T] float64.

    Raises ValueError where no exact map exists or what the map needs (statistics, a dB reference) is missing.
    """
    transposed, name = parse_convention(spec, f"spec={spec!r}")  # a Python caller's argument
    if name == "official":
        x = np.asarray(mel, dtype=np.float64)
        return np.swapaxes(x, -1, -2) if transposed else x
    return np.maximum(to_nats(mel, spec, stats, db_ref), OFFICIAL_FLOOR)
