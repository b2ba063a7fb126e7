"""The validation's mel images for TensorBoard: each media clip's real and generated log-mel side by side, in
reporting.mel_figure's layout (titles, frame and mel-bin axes, a colour bar).

A clip's figure is laid out and drawn whole once, at its first validation; a later validation redraws only the
generated panel's image onto the saved rest (matplotlib's blitting). The text, ticks, colour bar and the real mel,
which never change, were most of a validation's CPU when drawn every time. So the colour scale is fixed per clip: the
real mel's range (generated values beyond it take the bar's end colours, as its arrows say)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hifigan.training.reporting import mel_figure

if TYPE_CHECKING:
    from matplotlib.image import AxesImage


def reference_scale(reference: np.ndarray) -> tuple[float, float]:
    """The colour scale of a clip's images: its real mel's (min, max), one wide where the mel is constant."""
    lo, hi = float(reference.min()), float(reference.max())
    return lo, max(hi, lo + 1.0)


class MelPanels:
    """One clip's figure on an Agg canvas, drawn whole with its first generated mel; `image` draws the next."""

    def __init__(self, reference: np.ndarray, generated: np.ndarray, title: str) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        figure = mel_figure(reference, generated, title, scale=reference_scale(reference))
        self.canvas = FigureCanvasAgg(figure)
        self.axes = figure.axes[1]
        self.generated: AxesImage = self.axes.images[0]
        # Left out of the whole draw, so the saved rest is the panel without them: the image, and its frame, which
        # is drawn over it.
        self.over = [self.generated, *self.axes.spines.values()]
        for artist in self.over:
            artist.set_animated(True)
        self.canvas.draw()
        self.rest = self.canvas.copy_from_bbox(self.axes.bbox.padded(3))  # the frame's outer half too: drawn once
        self.shape = generated.shape

    def image(self, generated: np.ndarray) -> np.ndarray:
        """The figure with `generated` (this clip's shape) in the right panel: (height, width, 3) uint8 RGB. It is
        the whole figure drawn anew but for the anti-aliasing of the panel's frame line (the tick marks that touch
        it are under the image here, over it in a whole draw)."""
        self.canvas.restore_region(self.rest)
        self.generated.set_data(generated)
        for artist in self.over:
            self.axes.draw_artist(artist)
        return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()


class MelImages:
    """The mel images of a run's media clips, one MelPanels per clip (rebuilt should its mel's shape change)."""

    def __init__(self) -> None:
        self._panels: dict[str, MelPanels] = {}

    def image(self, clip: str, reference: np.ndarray, generated: np.ndarray) -> np.ndarray:
        """Clip `clip`'s real and generated mel side by side, titled with its id: (height, width, 3) uint8 RGB."""
        panels = self._panels.get(clip)
        if panels is None or panels.shape != generated.shape:
            panels = self._panels[clip] = MelPanels(reference, generated, clip)
        return panels.image(generated)
