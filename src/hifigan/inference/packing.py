"""How `Vocoder.batch` vocodes mels of different lengths in few forward passes, each answer exact.

Padding short mels to the longest would both compute the padding and change each short mel's last frames (the
generator's layers pad with zero activations, which a zero mel does not give). Instead:
- mels of one length (two or more, or any no longer than an edge window) are stacked as rows of one pass;
- the others are laid end to end as one sequence: a frame `left` or more frames after its mel's start and `right`
  or more before its end sees only its own mel there (`ReceptiveField`), so its audio is exact. The frames next to
  an inner boundary come from edge windows of `left + right` frames cut from their mel alone, stacked in one pass.
So a batch computes its mels' frames once, plus two edge windows per inner boundary of the sequence (one each side),
in one pass per distinct stacked length, one for the sequence and one for the edge windows.

With `Buckets`, each pass's shape is rounded up to one of a few sizes, so that a long-running caller (a server, a
directory of files) meets few distinct shapes: a convolution library sets up each new shape once (oneDNN creates its
primitives, cuDNN its plans), which can cost more than the pass itself. The sequence and each stacked row longer than
an edge window get zero frames at their end (so that mel gets an edge window at its end too), the stacked passes and
the edge windows' pass zero rows. Padding never reaches a wanted frame's receptive field.
"""

from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from hifigan.inference.choices import SHAPE_BUCKETS
from hifigan.messages import plural
from hifigan.messages.plural import a_type
from hifigan.models.layers import ReceptiveField


def round_up(n: int, steps: int) -> int:
    """The smallest m * 2**e >= n with steps <= m < 2 * steps (`steps`: sizes per octave, a power of two); every n up
    to 2 * steps is a size of its own. Rounding adds less than n / steps."""
    if steps < 1 or steps & (steps - 1):
        raise ValueError(f"steps must be a power of two, got {steps}")
    e = max(0, (n - 1).bit_length() - steps.bit_length())
    return -(-n >> e) << e


@dataclass(frozen=True)
class Buckets:
    """Pass shapes rounded up: frames to one of `frames_per_octave` sizes per octave (padding < 1/8 by default),
    rows to one of `rows_per_octave`; a plan runs as it is once each of its shapes was asked for `exact_after` times
    (None: never, so that a long-running caller's distinct shapes stay bounded by the buckets').

    `exact_after`: an exact shape costs its set-up once and then saves the edge windows' pass and the padding on each
    call. On an H100 (V1, 2026-12-06) a new shape's first pass took 72-137 ms and a small pass 1-4 ms, so the set-up
    pays back after tens of calls; a shape run exact on its second ask (the rule before) paid it for every length
    that came back once: a server's whole mels, each length twice, ran 7x slower with buckets than without.
    On the CPU a server keeps them all bucketed (`hifigan.serve.limits.serve_buckets`): every exact shape holds
    primitives in oneDNN's cache, and over weeks every common length would become one (docs/serving.md, Memory)."""

    frames_per_octave: int = 8
    rows_per_octave: int = 2
    exact_after: int | None = 32

    def frames(self, n: int) -> int:
        return round_up(n, self.frames_per_octave)

    def rows(self, n: int) -> int:
        return round_up(n, self.rows_per_octave)


def chosen_buckets(given: object, cuda: bool) -> Buckets | None:
    """The buckets of `Vocoder(shape_buckets=given)`: a Buckets as it is, True the default ones, False none, None
    the default ones on CUDA only (where each new shape's convolution set-up costs many passes; on the CPU it costs
    less than the padding and edge windows do: docs/inference.md). Anything else is a TypeError, not a truth value."""
    if given is None:
        given = cuda
    if isinstance(given, Buckets):
        return given
    if isinstance(given, bool):
        return Buckets() if given else None
    word = ""
    if isinstance(given, str) and given in SHAPE_BUCKETS:  # the command's word for it
        word = f" (--shape-buckets {given} is shape_buckets={SHAPE_BUCKETS[given]})"
    raise TypeError(f"shape_buckets must be True, False, None (auto: on CUDA only) or a "
                    f"hifigan.inference.packing.Buckets, not {a_type(given)}{word}")


@dataclass(frozen=True)
class Window:
    """Frames [start, stop) of mel `item`."""

    item: int
    start: int
    stop: int

    @property
    def frames(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True, order=True)
class Piece:
    """The audio of frames [start, stop) of one mel: frames [offset, offset + stop - start) of row `row` of
    pass `run`."""

    start: int
    stop: int
    run: int
    row: int
    offset: int


@dataclass
class Plan:
    """`runs[r][row]`: the windows laid end to end as that row's mel (every row of a run equally long, unless
    buckets pad them); `shapes[r]`: (rows, frames) of pass r, at least the windows' (the rest is zero padding);
    `pieces[i]`: where mel i's wanted frames come from, in frame order (empty when none are wanted)."""

    runs: list[list[list[Window]]]
    shapes: list[tuple[int, int]]
    pieces: list[list[Piece]]


def pack(lengths: Sequence[int], field: ReceptiveField, keep: Sequence[tuple[int, int]] | None = None,
         buckets: Buckets | None = None) -> Plan:
    """The plan for mels of `lengths` frames of which frames `keep[i]` = [a, b) are wanted (all, by default); with
    `buckets`, its passes' shapes rounded up to them."""
    keep = [(0, n) for n in lengths] if keep is None else list(keep)
    if len(keep) != len(lengths):
        raise ValueError(f"keep has {plural.count(len(keep), 'range')} for {plural.count(len(lengths), 'mel')}")
    for i, (pair, n) in enumerate(zip(keep, lengths)):
        try:
            a, b = pair
        except (TypeError, ValueError):  # Python's "cannot unpack non-iterable NoneType object"
            raise ValueError(f"keep[{i}] must be a (start, stop) pair of frame indices, got {pair!r}") from None
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in (a, b)):
            raise ValueError(f"mel {i}: frames [{a!r}, {b!r}) are not whole frame indices (ints)")
        if not 0 <= a <= b <= n:
            raise ValueError(f"mel {i}: frames [{a}, {b}) are not within its {n} frames")
    left, right = field.left, field.right
    edge = left + right  # an edge window: exact for frames [0, left) at a start, [n - right, n) at an end
    wanted = [i for i, (a, b) in enumerate(keep) if b > a]
    count = Counter(lengths[i] for i in wanted)
    stacked = {i for i in wanted if lengths[i] <= edge or count[lengths[i]] > 1}
    # Laid end to end: the other mels with wanted frames away from both their ends.
    laid = [i for i in wanted if i not in stacked and keep[i][0] < lengths[i] - right and keep[i][1] > left]
    # The sequence's own ends are true ends: a mel wanted from its start goes first, one wanted to its end last.
    head = next((i for i in laid if keep[i][0] < left), None)
    tail = next((i for i in reversed(laid) if keep[i][1] > lengths[i] - right and i != head), None)
    laid = [*([head] if head is not None else []), *(i for i in laid if i not in (head, tail)),
            *([tail] if tail is not None else [])]
    rows: dict[object, list[list[Window]]] = {"laid": [[Window(i, 0, lengths[i]) for i in laid]]} if laid else {}
    found: list[list[tuple[int, int, object, int, int]]] = [[] for _ in lengths]  # pieces, the run by its key

    def from_window(i: int, a: int, b: int, key: object, start: int, stop: int) -> None:
        """Frames [a, b) of mel i from a pass over its frames [start, stop) alone, in a row of its own."""
        run = rows.setdefault(key, [])
        found[i].append((a, b, key, len(run), a - start))
        run.append([Window(i, start, stop)])

    total = sum(lengths[i] for i in laid)
    sequence = total if buckets is None else buckets.frames(total)  # its pass's frames
    padded = sequence > total  # the sequence's end is then no true end
    offset, laid_set = 0, set(laid)
    for k, i in enumerate(laid):
        (a, b), n = keep[i], lengths[i]
        lo = 0 if k == 0 else left
        hi = n if k == len(laid) - 1 and not padded else n - right
        if a < lo:
            from_window(i, a, lo, "edges", 0, edge)
        found[i].append((max(a, lo), min(b, hi), "laid", 0, offset + max(a, lo)))
        if b > hi:
            from_window(i, hi, b, "edges", n - edge, n)
        offset += n
    for i in wanted:
        (a, b), n = keep[i], lengths[i]
        if i in stacked:  # a row of its own, of `width` frames (rows of one width: one pass)
            width = n if buckets is None or n <= edge else buckets.frames(n)
            hi = n if width == n else n - right  # padded: the row's end is no true end
            if a < hi:
                from_window(i, a, min(b, hi), ("rows", width), 0, n)
            if b > hi:
                from_window(i, max(a, hi), b, "edges", n - edge, n)
        elif i not in laid_set:  # wanted frames within one edge
            from_window(i, a, b, "edges", *((0, edge) if b <= left else (n - edge, n)))
    runs = {key: r for r, key in enumerate(rows)}
    # (rows, frames) per pass; with buckets the sequence (one row) gets more frames, the other passes more rows
    widths = {"laid": sequence, "edges": edge}
    shapes = [(len(run) if buckets is None or key == "laid" else buckets.rows(len(run)),
               widths[key] if key in widths else key[1]) for key, run in rows.items()]
    return Plan(list(rows.values()), shapes, [sorted(Piece(a, b, runs[key], row, at) for a, b, key, row, at in item)
                                              for item in found])
