"""Gaussian heatmaps in the MSRA style (SimpleBaseline / HRNet targets).

Encoding rounds each keypoint to the nearest heatmap pixel and draws a
Gaussian there; decoding takes the argmax and refines it either with the
classic quarter-pixel shift or with DARK (``unbiased=True``).

Notation: N instances, K keypoints, heatmaps H x W; sizes are (w, h).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..core.peaks import refine_keypoints_dark, refine_keypoints_quarter
from .base import HeatmapCodec
from .gaussian import generate_gaussian_heatmaps

__all__ = ['MSRAHeatmap']


class MSRAHeatmap(HeatmapCodec):
    """Gaussian heatmap codec with quarter-offset or DARK decoding.

    Crop pixels map to heatmap pixels by ``heatmap_size / input_size`` per
    axis, and back by its inverse.

    Args:
        input_size: network input (w, h) in pixels.
        heatmap_size: heatmap (w, h) in pixels.
        sigma: Gaussian standard deviation in heatmap pixels.
        unbiased: decode with DARK refinement instead of the quarter-pixel
            shift.
        blur_kernel_size: DARK's Gaussian blur kernel size (odd); 11 suits
            sigma 2. Only used when ``unbiased``.

    Attributes:
        use_udp: False, the plain ``input_size / heatmap_size`` convention.
    """

    use_udp = False

    def __init__(self, input_size: Sequence[int] = (192, 256),
                 heatmap_size: Sequence[int] = (48, 64), sigma: float = 2.0,
                 unbiased: bool = False, blur_kernel_size: int = 11) -> None:
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.heatmap_size = (int(heatmap_size[0]), int(heatmap_size[1]))
        self.sigma = float(sigma)
        self.unbiased = bool(unbiased)
        self.blur_kernel_size = int(blur_kernel_size)
        # Crop pixels per heatmap pixel, (x, y).
        self.scale_factor = (np.array(self.input_size, np.float32) /
                             np.array(self.heatmap_size, np.float32))

    def encode(self, keypoints: np.ndarray, keypoints_visible: np.ndarray | None = None
               ) -> dict[str, np.ndarray]:
        """Make the training target.

        Args:
            keypoints: (N, K, 2) float (x, y) in input-crop pixels.
            keypoints_visible: (N, K) visibility, or None for all visible.

        Returns:
            dict with ``heatmaps`` float32 (K, H, W) (max over instances,
            peak 1.0 at each rounded centre) and ``keypoint_weights`` float32
            (N, K): 0 for invisible points and points whose Gaussian lies
            entirely outside the heatmap, else 1.
        """
        scaled = np.asarray(keypoints, dtype=np.float32) / self.scale_factor
        finite = np.isfinite(scaled)
        # Whole heatmap pixels by int(x + 0.5), as the reference does.
        centres = (np.where(finite, scaled, 0) + 0.5).astype(np.int64).astype(np.float32)
        centres = np.where(finite, centres, np.nan)
        heatmaps, weights = generate_gaussian_heatmaps(centres, keypoints_visible,
                                                       self.heatmap_size, self.sigma)
        return dict(heatmaps=heatmaps, keypoint_weights=weights)

    def refine(self, locs: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
        """DARK when ``unbiased``, else the quarter-pixel step."""
        if self.unbiased:
            return refine_keypoints_dark(locs, heatmaps, self.blur_kernel_size)
        return refine_keypoints_quarter(locs, heatmaps)

    def to_dict(self) -> dict[str, Any]:
        """``type`` and the constructor arguments (sizes as [w, h] lists)."""
        return dict(type=type(self).__name__, input_size=list(self.input_size),
                    heatmap_size=list(self.heatmap_size), sigma=self.sigma,
                    unbiased=self.unbiased, blur_kernel_size=self.blur_kernel_size)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(input_size={self.input_size}, '
                f'heatmap_size={self.heatmap_size}, sigma={self.sigma}, '
                f'unbiased={self.unbiased}, blur_kernel_size={self.blur_kernel_size})')
