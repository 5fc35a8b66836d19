"""Gaussian heatmaps with unbiased data processing (UDP).

UDP treats pixel centres as samples of a continuous image, so crop pixel 0
maps to heatmap pixel 0 and crop pixel ``input - 1`` to heatmap pixel
``heatmap - 1``: the scale factor is ``(input - 1) / (heatmap - 1)`` per axis.
The Gaussian is centred at the exact sub-pixel location (no rounding), and
decoding refines the argmax with the DARK Newton step.

Notation: N instances, K keypoints, heatmaps H x W; sizes are (w, h).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.peaks import refine_keypoints_dark
from .base import HeatmapCodec

__all__ = ['UDPHeatmap']


class UDPHeatmap(HeatmapCodec):
    """Unbiased (UDP) Gaussian heatmap codec with DARK-style decoding.

    The arguments and methods are those of :class:`~.base.HeatmapCodec`;
    ``heatmap_size`` must be at least 2 per axis.

    Attributes:
        use_udp: True, the unbiased (pixel-centre) convention.
    """

    use_udp = True

    def __init__(self, input_size: Sequence[int] = (192, 256),
                 heatmap_size: Sequence[int] = (48, 64), sigma: float = 2.0,
                 blur_kernel_size: int = 11) -> None:
        super().__init__(input_size, heatmap_size, sigma, blur_kernel_size)
        if min(self.heatmap_size) < 2:
            raise ValueError(f'UDP needs heatmap_size >= 2 per axis, got {self.heatmap_size}')
        self.scale_factor = ((np.array(self.input_size, np.float32) - 1) /
                             (np.array(self.heatmap_size, np.float32) - 1))

    def heatmap_centres(self, keypoints: np.ndarray) -> np.ndarray:
        """The exact sub-pixel location (no rounding)."""
        return keypoints / self.scale_factor

    def refine(self, locs: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
        """DARK's Newton step (UDP targets are unrounded Gaussians)."""
        return refine_keypoints_dark(locs, heatmaps, self.blur_kernel_size)
