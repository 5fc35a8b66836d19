"""Gaussian heatmaps with unbiased data processing (UDP).

UDP treats pixel centres as samples of a continuous image, so crop pixel 0
maps to heatmap pixel 0 and crop pixel ``input - 1`` to heatmap pixel
``heatmap - 1``: the scale factor is ``(input - 1) / (heatmap - 1)`` per axis.
The Gaussian is centred at the exact sub-pixel location (no rounding), and
decoding refines the argmax with the DARK Newton step.

Notation: N instances, K keypoints, heatmaps H x W; sizes are (w, h).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..core.peaks import refine_keypoints_dark
from .base import HeatmapCodec
from .gaussian import generate_gaussian_heatmaps

__all__ = ['UDPHeatmap']


class UDPHeatmap(HeatmapCodec):
    """Unbiased (UDP) Gaussian heatmap codec with DARK-style decoding.

    Args:
        input_size: network input (w, h) in pixels.
        heatmap_size: heatmap (w, h) in pixels, each at least 2.
        sigma: Gaussian standard deviation in heatmap pixels.
        blur_kernel_size: Gaussian blur kernel size (odd) of the decoding
            refinement; 11 suits sigma 2.

    Attributes:
        use_udp: True, the unbiased (pixel-centre) convention.
    """

    use_udp = True

    def __init__(self, input_size: Sequence[int] = (192, 256),
                 heatmap_size: Sequence[int] = (48, 64), sigma: float = 2.0,
                 blur_kernel_size: int = 11) -> None:
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.heatmap_size = (int(heatmap_size[0]), int(heatmap_size[1]))
        if min(self.heatmap_size) < 2:
            raise ValueError(f'UDP needs heatmap_size >= 2 per axis, got {self.heatmap_size}')
        self.sigma = float(sigma)
        self.blur_kernel_size = int(blur_kernel_size)
        # Crop pixels per heatmap pixel, (x, y).
        self.scale_factor = ((np.array(self.input_size, np.float32) - 1) /
                             (np.array(self.heatmap_size, np.float32) - 1))

    def encode(self, keypoints: np.ndarray, keypoints_visible: np.ndarray | None = None
               ) -> dict[str, np.ndarray]:
        """Make the training target.

        Args:
            keypoints: (N, K, 2) float (x, y) in input-crop pixels.
            keypoints_visible: (N, K) visibility, or None for all visible.

        Returns:
            dict with ``heatmaps`` float32 (K, H, W) (max over instances,
            Gaussians centred at the exact sub-pixel locations) and
            ``keypoint_weights`` float32 (N, K): 0 for invisible points and
            points whose Gaussian lies entirely outside the heatmap, else 1.
        """
        centres = np.asarray(keypoints, dtype=np.float32) / self.scale_factor
        heatmaps, weights = generate_gaussian_heatmaps(centres, keypoints_visible,
                                                       self.heatmap_size, self.sigma)
        return dict(heatmaps=heatmaps, keypoint_weights=weights)

    def refine(self, locs: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
        """DARK's Newton step (UDP targets are unrounded Gaussians)."""
        return refine_keypoints_dark(locs, heatmaps, self.blur_kernel_size)

    def to_dict(self) -> dict[str, Any]:
        """``type`` and the constructor arguments (sizes as [w, h] lists)."""
        return dict(type=type(self).__name__, input_size=list(self.input_size),
                    heatmap_size=list(self.heatmap_size), sigma=self.sigma,
                    blur_kernel_size=self.blur_kernel_size)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(input_size={self.input_size}, '
                f'heatmap_size={self.heatmap_size}, sigma={self.sigma}, '
                f'blur_kernel_size={self.blur_kernel_size})')
