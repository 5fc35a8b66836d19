"""Gaussian heatmaps in the MSRA style (SimpleBaseline / HRNet targets).

Encoding rounds each keypoint to the nearest heatmap pixel and draws a
Gaussian there; decoding takes the argmax and refines it either with the
classic quarter-pixel shift or with DARK (``unbiased=True``).

Notation: N instances, K keypoints, heatmaps H x W; sizes are (w, h).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.peaks import refine_keypoints_dark, refine_keypoints_quarter
from .base import HeatmapCodec

__all__ = ['MSRAHeatmap']


class MSRAHeatmap(HeatmapCodec):
    """Gaussian heatmap codec with quarter-offset or DARK decoding.

    Crop pixels map to heatmap pixels by ``heatmap_size / input_size`` per
    axis, and back by its inverse. The other arguments and the methods are
    those of :class:`~.base.HeatmapCodec`.

    Args:
        unbiased: decode with DARK refinement instead of the quarter-pixel
            shift; ``blur_kernel_size`` is only used then.

    Attributes:
        use_udp: False, the plain ``input_size / heatmap_size`` convention.
    """

    use_udp = False
    arg_names = ('input_size', 'heatmap_size', 'sigma', 'unbiased', 'blur_kernel_size')

    def __init__(self, input_size: Sequence[int] = (192, 256),
                 heatmap_size: Sequence[int] = (48, 64), sigma: float = 2.0,
                 unbiased: bool = False, blur_kernel_size: int = 11) -> None:
        super().__init__(input_size, heatmap_size, sigma, blur_kernel_size)
        self.unbiased = bool(unbiased)
        self.scale_factor = (np.array(self.input_size, np.float32) /
                             np.array(self.heatmap_size, np.float32))

    def heatmap_centres(self, keypoints: np.ndarray) -> np.ndarray:
        """The nearest whole heatmap pixel (the Gaussian peaks at 1.0 there)."""
        scaled = keypoints / self.scale_factor
        finite = np.isfinite(scaled)
        # Whole heatmap pixels by int(x + 0.5), as the reference does.
        centres = (np.where(finite, scaled, 0) + 0.5).astype(np.int64).astype(np.float32)
        return np.where(finite, centres, np.nan)

    def refine(self, locs: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
        """DARK when ``unbiased``, else the quarter-pixel step."""
        if self.unbiased:
            return refine_keypoints_dark(locs, heatmaps, self.blur_kernel_size)
        return refine_keypoints_quarter(locs, heatmaps)
