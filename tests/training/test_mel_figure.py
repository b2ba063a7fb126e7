"""The validation's and the demo's mel figure (reporting.mel_figure): both panels' labels drawn whole and apart,
for a clip of a few frames and a long one."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from hifigan.training.reporting import mel_figure


def _drawn_ticks(ax, renderer):
    """The x tick labels `ax` draws (inside its limits), left to right, with their extents in pixels."""
    lo, hi = sorted(ax.get_xlim())
    return [(t.get_text(), t.get_window_extent(renderer)) for t in ax.get_xticklabels()
            if t.get_text() and lo <= t.get_position()[0] <= hi]


@pytest.mark.parametrize("bins, frames", [(80, 3), (80, 1001), (256, 900), (80, 10001)])
def test_the_panels_tick_labels_stay_apart_and_every_label_is_inside_the_figure(bins, frames):
    """The left panel's last frame label and the right panel's first do not run together (3 frames: '2.5' and
    '-0.5'; 1001: '1000' and '0' read '10000' in a layout without room between the panels), and no text is cut."""
    mel = np.random.default_rng(0).normal(-5.0, 2.0, (bins, frames)).astype(np.float32)
    figure = mel_figure(mel, mel - 0.5, "LJ001-0002")
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    left, right, colorbar = figure.axes
    assert [left.get_title(), right.get_title(), left.get_ylabel(), colorbar.get_ylabel()] == [
        "LJ001-0002 ground truth", "LJ001-0002 generated", "mel bin", "log magnitude"]
    (last, last_box), (first, first_box) = _drawn_ticks(left, renderer)[-1], _drawn_ticks(right, renderer)[0]
    assert first_box.x0 - last_box.x1 >= 4, (last, first, first_box.x0 - last_box.x1)
    drawn = figure.get_tightbbox(renderer)  # inches, every drawn artist
    width, height = figure.get_size_inches()
    assert drawn.x0 >= 0 and drawn.y0 >= 0 and drawn.x1 <= width and drawn.y1 <= height, drawn.bounds


@pytest.mark.parametrize(("clip", "shown"), [
    ("a$_$b", "a$_$b"),  # mathtext: a ValueError that ended the run at its first validation
    ("take$\\foo$", "take$\\foo$"),
    ("録音一", "\\u9332\\u97f3\\u4e00"),  # no glyph in the default font: a warning per glyph, empty boxes
    ("tab\tname", "tab\\tname"),
    ("zero\u200bwidth", "zero\\u200bwidth"),  # the font has a glyph for it, but it does not print: invisible
    ("é-ü ß", "é-ü ß"),  # the font has these
])
def test_a_clip_name_is_drawn_as_written_without_mathtext_or_missing_glyphs(clip, shown):
    """A held-out clip's name titles its figure literally: `$...$` is not parsed as math, and characters the font
    cannot draw are written as their escapes, with no warning."""
    mel = np.zeros((16, 5), np.float32)
    canvas = FigureCanvasAgg(mel_figure(mel, mel, clip))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        canvas.draw()
    assert [ax.get_title() for ax in canvas.figure.axes[:2]] == [f"{shown} ground truth", f"{shown} generated"]
