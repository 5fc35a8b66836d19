"""Gaussian heatmap targets, shared by the MSRA and UDP codecs."""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ['generate_gaussian_heatmaps']


def generate_gaussian_heatmaps(centres: np.ndarray, keypoints_visible: np.ndarray | None,
                               heatmap_size: Sequence[int], sigma: float
                               ) -> tuple[np.ndarray, np.ndarray]:
    """Draw one Gaussian per keypoint and combine instances by max.

    A point's Gaussian ``exp(-d^2 / (2 sigma^2))`` is centred exactly at
    ``centres`` and drawn inside the square window of pixels within
    ``3 * sigma`` (per axis) of the rounded centre ``floor(c + 0.5)``. A point
    gets weight 0 and draws nothing when it is not visible (visibility
    < 0.5), not finite, or when its window holds no heatmap pixel, i.e. its
    Gaussian lies entirely outside the heatmap.

    Args:
        centres: (N, K, 2) float (x, y) centres in heatmap pixels. Pass
            integer-valued centres for MSRA targets, exact ones for UDP.
        keypoints_visible: (N, K) visibility (COCO's 0/1/2 or 0/1), or None
            for all visible.
        heatmap_size: heatmap (w, h).
        sigma: Gaussian standard deviation in heatmap pixels.

    Returns:
        tuple:
        - heatmaps: float32 (K, H, W), the max over the N instances.
        - keypoint_weights: float32 (N, K), 1 where a Gaussian was drawn.
    """
    centres = np.asarray(centres, dtype=np.float64)
    if centres.ndim != 3 or centres.shape[-1] != 2:
        raise ValueError(f'keypoints must be (N, K, 2), got shape {centres.shape}')
    n, k, _ = centres.shape
    w, h = int(heatmap_size[0]), int(heatmap_size[1])
    if keypoints_visible is None:
        keypoints_visible = np.ones((n, k), np.float32)
    keypoints_visible = np.asarray(keypoints_visible, dtype=np.float32)
    if keypoints_visible.shape != (n, k):
        raise ValueError(f'keypoints_visible must be (N, K) = {(n, k)}, '
                         f'got shape {keypoints_visible.shape}')

    finite = np.isfinite(centres).all(axis=-1)
    centres = np.where(finite[..., None], centres, 0.0)
    radius = 3.0 * sigma
    window = np.floor(centres + 0.5).astype(np.int64)
    wx, wy = window[..., 0], window[..., 1]
    inside = ((wx + radius >= 0) & (wx - radius <= w - 1)
              & (wy + radius >= 0) & (wy - radius <= h - 1))
    weights = ((keypoints_visible >= 0.5) & finite & inside).astype(np.float32)

    # Separable Gaussian: (N, K, W) along x times (N, K, H) along y.
    xs = np.arange(w, dtype=np.float64)
    ys = np.arange(h, dtype=np.float64)
    gx = np.exp(-(xs - centres[..., 0:1])**2 / (2 * sigma**2))
    gy = np.exp(-(ys - centres[..., 1:2])**2 / (2 * sigma**2))
    gx *= np.abs(xs - wx[..., None]) <= radius
    gy *= np.abs(ys - wy[..., None]) <= radius
    per_instance = gy[..., :, None] * gx[..., None, :] * weights[..., None, None]
    if n == 0:
        heatmaps = np.zeros((k, h, w), np.float32)
    else:
        heatmaps = per_instance.max(axis=0).astype(np.float32)
    return heatmaps, weights
