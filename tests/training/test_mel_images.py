"""The validation's mel images (training.mel_images): a later validation's image, of which only the generated panel is
redrawn, is the whole figure drawn anew (but for the anti-aliasing of the panel's frame line); its colours are the
colour map's on the real mel's scale, low mel bins at the bottom."""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from hifigan.training.mel_images import MelImages, reference_scale
from hifigan.training.reporting import mel_figure


def whole_draw(reference: np.ndarray, generated: np.ndarray, title: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """The figure of `generated` drawn from scratch, as RGB pixels, and its generated panel's (first row, last row,
    first column, last column)."""
    canvas = FigureCanvasAgg(mel_figure(reference, generated, title, scale=reference_scale(reference)))
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3]
    x0, y0, x1, y1 = canvas.figure.axes[1].bbox.extents  # from the bottom left
    return pixels, (round(pixels.shape[0] - y1), round(pixels.shape[0] - y0), round(x0), round(x1))


def assert_drawn_as_a_whole(image: np.ndarray, reference: np.ndarray, generated: np.ndarray, title: str) -> None:
    """`image` is the whole draw of `generated`, pixel for pixel, but within 2 pixels of the panel's edges."""
    expected, (top, bottom, left, right) = whole_draw(reference, generated, title)
    differs = np.any(image != expected, axis=-1)
    near_edges = np.zeros_like(differs)
    near_edges[top - 2: bottom + 3, left - 2: right + 3] = True
    near_edges[top + 3: bottom - 2, left + 3: right - 2] = False
    assert not np.any(differs & ~near_edges), np.argwhere(differs & ~near_edges)[:5]


def test_each_validations_image_is_the_whole_figure_drawn_with_its_generated_mel():
    rng = np.random.default_rng(0)
    reference = rng.normal(-5.0, 2.0, (16, 40)).astype(np.float32)
    images = MelImages()
    first = images.image("clip", reference, reference + rng.normal(0, 1, reference.shape))
    for _ in range(2):  # the second and third validations: nothing left over from the one before
        later = reference + rng.normal(0, 1, reference.shape)
        image = images.image("clip", reference, later)
        assert image.shape == (320, 1000, 3) and image.dtype == np.uint8
        assert_drawn_as_a_whole(image, reference, later, "clip")
    assert np.array_equal(images.image("clip", reference, later), image)  # the same mel, the same image again
    # the real mel's panel as it was drawn first; the generated panel changed
    assert np.array_equal(image[:, :460], first[:, :460]) and not np.array_equal(image[:, 460:], first[:, 460:])
    longer = np.concatenate([later, later[:, -1:]], axis=1)  # a frame more (a teacher-forced mel's off-by-one)
    assert_drawn_as_a_whole(images.image("clip", reference, longer), reference, longer, "clip")


def test_the_generated_panels_colours_are_the_colour_map_on_the_real_mels_scale_low_bins_at_the_bottom():
    """The real mel spans -11.5..1.5; a generated mel loud in its 4 lowest bins (above the scale: the top colour) and
    silent in the rest (below it: the bottom colour) reads bright at the panel's bottom and dark at its top."""
    reference = np.linspace(-11.5, 1.5, 16 * 30, dtype=np.float32).reshape(16, 30)
    generated = np.full_like(reference, -20.0)
    generated[:4] = 5.0
    images = MelImages()
    images.image("c", reference, reference)
    image = images.image("c", reference, generated).astype(float) / 255
    _, (top, bottom, left, right) = whole_draw(reference, generated, "c")
    column = (left + right) // 2
    colours = matplotlib.colormaps["viridis"]
    assert np.abs(image[bottom - 5, column] - colours(1.0)[:3]).max() < 0.01, image[bottom - 5, column]
    assert np.abs(image[top + 5, column] - colours(0.0)[:3]).max() < 0.01, image[top + 5, column]
