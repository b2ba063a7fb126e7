"""How `Vocoder.batch` vocodes mels of different lengths in few forward passes, each answer exact.

Padding short mels to the longest would both compute the padding and change each short mel's last frames (the
generator's layers pad with zero activations, which a zero mel does not give). Instead:
- mels of one length (two or more, or any no longer than an edge window) are stacked as rows of one pass;
- the others are laid end to end as one sequence: a frame `left` or more frames after its mel's start and `right`
  or more before its end sees only its own mel there (`ReceptiveField`), so its audio is exact. The frames next to
  an inner boundary come from edge windows of `left + right` frames cut from their mel alone, stacked in one pass.
So a batch computes its mels' frames once, plus two edge windows per inner boundary of the sequence (one each side),
in one pass per distinct stacked length, one for the sequence and one for the edge windows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from hifigan.models.layers import ReceptiveField


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
    """`runs[r][row]`: the windows laid end to end as that row's mel (every row of a run equally long);
    `pieces[i]`: where mel i's wanted frames come from, in frame order (empty when none are wanted)."""

    runs: list[list[list[Window]]]
    pieces: list[list[Piece]]

    def computed_frames(self) -> int:
        """Mel frames the passes compute: what the plan costs."""
        return sum(w.frames for run in self.runs for row in run for w in row)


def pack(lengths: Sequence[int], field: ReceptiveField, keep: Sequence[tuple[int, int]] | None = None) -> Plan:
    """The plan for mels of `lengths` frames of which frames `keep[i]` = [a, b) are wanted (all, by default)."""
    keep = [(0, n) for n in lengths] if keep is None else list(keep)
    if len(keep) != len(lengths):
        raise ValueError(f"keep has {len(keep)} ranges for {len(lengths)} mels")
    for i, ((a, b), n) in enumerate(zip(keep, lengths)):
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

    offset, laid_set = 0, set(laid)
    for k, i in enumerate(laid):
        (a, b), n = keep[i], lengths[i]
        lo = 0 if k == 0 else left
        hi = n if k == len(laid) - 1 else n - right
        if a < lo:
            from_window(i, a, lo, "edges", 0, edge)
        found[i].append((max(a, lo), min(b, hi), "laid", 0, offset + max(a, lo)))
        if b > hi:
            from_window(i, hi, b, "edges", n - edge, n)
        offset += n
    for i in wanted:
        (a, b), n = keep[i], lengths[i]
        if i in stacked:
            from_window(i, a, b, ("rows", n), 0, n)
        elif i not in laid_set:  # wanted frames within one edge
            from_window(i, a, b, "edges", *((0, edge) if b <= left else (n - edge, n)))
    runs = {key: r for r, key in enumerate(rows)}
    return Plan(list(rows.values()), [sorted(Piece(a, b, runs[key], row, at) for a, b, key, row, at in item)
                                      for item in found])
