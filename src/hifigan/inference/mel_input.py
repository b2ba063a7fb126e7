"""What a `Vocoder` takes as a mel: a tensor made from it without a copy where torch can, its shape as the caller gives
it, its values (hifigan.mel_file.checked_mel_values) and its convention, converted to the model's (MelIntake)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch

from hifigan.arrays.mel_shape import mel_shapes, unbatched
from hifigan.arrays.shared import shared_tensor
from hifigan.errors import MelError
from hifigan.mel_file import check_holds_values, checked_mel_values

if TYPE_CHECKING:
    from hifigan.config import HifiganConfig
    from hifigan.melconv.conventions import MelStats
    from hifigan.melconv.verdict import MelVerdict


def mel_tensor(mel: torch.Tensor | np.ndarray, source: str | None) -> torch.Tensor:
    """`mel` as a tensor, sharing its memory where torch can: a flipped numpy view (negative strides, which torch
    refuses) is copied, and so are big-endian and long double arrays (to native order, to float64), which torch
    takes in no dtype; a numpy array that is not numeric is the dtype MelError, not torch's TypeError; what torch
    cannot make a tensor of (None, a path, a ragged list) is a MelError naming `source`, not torch's error; so is a
    tensor without dense values (meta, sparse, nested: the last has not even a shape to check). A read-only array
    (a memory-mapped .npy) is shared too, without torch's warning that it is not writable."""
    if isinstance(mel, torch.Tensor):
        check_holds_values(mel, source)
        return mel
    if isinstance(mel, np.ndarray):
        if not (np.issubdtype(mel.dtype, np.number) or mel.dtype == np.bool_):
            checked_mel_values(mel, source)  # raises: not floating point
        if mel.dtype.type in (np.longdouble, np.clongdouble):  # no torch dtype: as float64 (complex: refused)
            mel = checked_mel_values(mel, source, np.float64)
        if not mel.dtype.isnative:  # big-endian data (np.frombuffer(data, ">f4")), which torch takes in no dtype
            mel = mel.astype(mel.dtype.newbyteorder("="))
        if any(stride < 0 for stride in mel.strides):
            mel = np.ascontiguousarray(mel)
        return shared_tensor(mel)  # a read-only one too (np.load(mmap_mode="r")), without torch's warning
    try:
        return torch.as_tensor(mel)  # nested lists of numbers
    except (TypeError, ValueError, RuntimeError):
        what = f"{type(mel).__name__}{' torch cannot convert' if isinstance(mel, list | tuple) else ''}"
        raise MelError(source, f"expected a mel (a tensor or numpy array), got {what}") from None


def refuse_one_mel(given: object, takes: str, instead: str) -> None:
    """A call that takes several mels (`takes`: what, as the error says it) given one whole [num_mels, T] mel, whose
    rows it would take for mels: a MelError saying so at the call, with the calls that take it (`instead`)."""
    if isinstance(given, torch.Tensor | np.ndarray) and given.ndim < 3:
        raise MelError(None, f"{takes}, got one mel of shape {tuple(given.shape)}: {instead}")


def check_mel_shape(mel: torch.Tensor | np.ndarray, dims: tuple[int, ...], bins: int, transposed: bool,
                    source: str | None, min_frames: int = 1, batch_of_one: bool = False,
                    flipped: Callable[[torch.Tensor | np.ndarray], str] | None = None) -> None:
    """`mel`'s shape as the caller gives it: [bins, T] ([T, bins] when `transposed`), with a batch axis in front
    (of size 1 if `batch_of_one`) where `dims` allows 3, T >= min_frames; else a MelError naming `source`, with
    `flipped(mel)` (what reads it in the other layout) as advice where the shape fits that one."""
    if _fits(mel, dims, bins, transposed, min_frames, batch_of_one):
        return
    shapes = mel_shapes(bins, dims, transposed, "1" if batch_of_one else "B")
    least = f" with T >= {min_frames}" if min_frames else ""
    advice = ""
    if flipped is not None and _fits(mel, dims, bins, not transposed, min_frames, batch_of_one):
        other = mel_shapes(bins, (2,), not transposed)
        advice = f" (a {other} mel? {flipped(mel)})"
    raise MelError(source, f"expected a mel of shape {shapes}{least}, got {tuple(mel.shape)}{advice}")


def _fits(mel: torch.Tensor | np.ndarray, dims: tuple[int, ...], bins: int, transposed: bool, min_frames: int,
          batch_of_one: bool) -> bool:
    axes = (-1, -2) if transposed else (-2, -1)  # of the mel bins and the frames
    return (mel.ndim in dims and mel.shape[axes[0]] == bins and mel.shape[axes[1]] >= min_frames
            and (mel.ndim == 2 or not batch_of_one or mel.shape[0] == 1))


def stream_chunk(chunk: torch.Tensor, bins: int, transposed: bool, source: str | None,
                 flipped: Callable[[torch.Tensor | np.ndarray], str] | None = None) -> torch.Tensor:
    """A stream chunk, [bins, n] or [1, bins, n] (n >= 0; [n, bins] when `transposed`), as [bins, n]; another shape
    is a whole mel's MelError naming `source` (with `flipped` as check_mel_shape gives it)."""
    check_mel_shape(chunk, (2, 3), bins, transposed, source, min_frames=0, batch_of_one=True, flipped=flipped)
    return unbatched(chunk)


class MelIntake:
    """A vocoder's mels in: shape as given, values checked, converted from the convention set (set_convention) to the
    model's own, in `io_dtype`; every error a MelError naming its source."""

    def __init__(self, config: HifiganConfig, io_dtype: torch.dtype) -> None:
        self.config, self.io_dtype = config, io_dtype
        self.transposed = False  # inputs come [frames, num_mels]
        self.convert: functools.partial | None = None  # to the model's convention; None: inputs are in it
        self.declared: tuple[str | None, bool] = (None, False)  # the convention set, and whether it had arguments

    def set_convention(self, spec: str | None, stats: str | os.PathLike | MelStats | None = None,
                       db_ref: float | None = None) -> None:
        """See Vocoder.set_mel_convention: what is missing or of the wrong kind fails here."""
        from hifigan.config.values import number
        from hifigan.melconv.conventions import parse_convention
        from hifigan.melconv.model import ModelMel
        from hifigan.melconv.stats import stats_argument

        # unknown names, no exact map: named as the call that gave them
        transposed = False if spec is None else parse_convention(spec, f"set_mel_convention({spec!r})")[0]
        model = ModelMel.of(self.config)
        stats = stats_argument(stats, model.num_mels)
        if db_ref is not None:
            number("db_ref", db_ref, 0, low_open=True)
        missing = None if spec is None else model.lacking(spec, stats, db_ref)
        if missing == "stats":
            raise ValueError(f"set_mel_convention({spec!r}) needs stats: the statistics of the inputs' "
                             "normalisation (a statistics file or a MelStats)")
        if missing == "db_ref":
            raise ValueError(f"set_mel_convention({spec!r}) needs db_ref: the reference amplitude of the dB values")
        dtype = np.float64 if self.io_dtype == torch.float64 else np.float32
        self.transposed = transposed
        self.declared = (spec, stats is not None or db_ref is not None)
        self.convert = None if model.is_own(spec) else functools.partial(  # picklable, unlike a lambda
            model.convert_checked, spec=spec, stats=stats, db_ref=db_ref, dtype=dtype)

    def flipped(self, mel: torch.Tensor | np.ndarray) -> str:
        """Advice for `mel`, whose shape fits only the other layout. With a convention set: the set_mel_convention
        call that reads it in that layout (`...` for the statistics or reference it was given again). With none:
        check-mel's verdict of the mel read [frames, num_mels] and its call (detect.judged_transposed), the rule
        vocode and check-mel follow for a file (hifigan.melconv.vocode_input.transposed_verdict)."""
        from hifigan.melconv.conventions import parse_convention

        spec, arguments = self.declared
        if spec is None:
            return judged_advice(mel, self.config)
        transposed, name = parse_convention(spec)
        return layout_advice(transposed, name, given_again=bool(arguments))

    def values(self, mel: torch.Tensor | np.ndarray, source: str | None = None) -> torch.Tensor:
        """`mel` checked (floating point, finite), then in the model's convention and `io_dtype`."""
        mel = mel_tensor(mel, source)  # no copy; the dtype as given (int, bool, complex are refused, not cast)
        if self.convert is None:
            return checked_mel_values(mel, source, self.io_dtype)
        # Detached: a TTS model's output may require grad. Values the map takes beyond its range: a MelError.
        checked = torch.as_tensor(checked_mel_values(mel, source)).detach().double().cpu().numpy()
        return checked_mel_values(torch.as_tensor(self.convert(checked, source=source)), source, self.io_dtype)

    def whole(self, mel: torch.Tensor | np.ndarray, dims: tuple[int, ...] = (2, 3), source: str | None = None,
              batch_of_one: bool = False) -> torch.Tensor:
        """A whole mel (or batch, of one if `batch_of_one`): its shape as the caller gives it ([T, num_mels] under a
        'transposed' convention), checked before any conversion (a convention's per-bin statistics would broadcast
        a [T] mel to every bin)."""
        mel = mel_tensor(mel, source)
        check_mel_shape(mel, dims, self.config.num_mels, self.transposed, source, batch_of_one=batch_of_one,
                        flipped=self.flipped)
        return self.values(mel, source)

    def chunk(self, chunk: torch.Tensor | np.ndarray, source: str) -> torch.Tensor:
        """A stream chunk: its shape, before a conversion (which gets it as [num_mels, t]), its values."""
        chunk = stream_chunk(mel_tensor(chunk, source), self.config.num_mels, self.transposed, source, self.flipped)
        return self.values(chunk, source)


def judged_advice(mel: torch.Tensor | np.ndarray, config: HifiganConfig) -> str:
    """What a mel in the model's [T, num_mels] reads as (its first, of a batch) and the call that converts it; a mel
    whose values cannot be judged (NaN, infinite) gets the layout's call alone."""
    from hifigan.melconv.detect import judged_transposed
    from hifigan.melconv.model import ModelMel

    model = ModelMel.of(config)
    frames = torch.as_tensor(mel).detach().cpu().double().numpy()
    frames = frames.reshape(-1, *frames.shape[-2:])[0]  # [T, num_mels]
    if not np.isfinite(frames).all():
        return layout_advice(False, "meanstd" if model.stats is not None else model.convention)
    verdict = judged_transposed(frames.T, model.num_mels, model)
    return f"read so: {verdict.reading}; convert: {vocoder_option(verdict)}"


def vocoder_option(verdict: MelVerdict) -> str:
    """The set_mel_convention call that converts a mel of `verdict` (MelVerdict.option, in the Vocoder's spelling),
    or what to do instead; a mel of the model's own convention, transposed, may also have its axes swapped."""
    if (instead := verdict.instead(lambda spec: f"set_mel_convention({spec!r})")) is not None:
        return instead
    extra = f", {verdict.needs}=..." if verdict.needs else ""
    call = verdict.converts(f"set_mel_convention({verdict.name!r}{extra})")
    return f"{call}, or swap its last two axes" if verdict.convention in verdict.expected else call


def layout_advice(transposed: bool, name: str, given_again: bool = False) -> str:
    """The call that reads convention `name` (transposed or not, as declared) in the other layout, `...` for the
    statistics or reference given again."""
    other = name if transposed else "transposed" if name == "official" else f"transposed+{name}"
    more = ", ..." if given_again else ""
    return f"swap its last two axes, or declare its layout: set_mel_convention({other!r}{more})"
