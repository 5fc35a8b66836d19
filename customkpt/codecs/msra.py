"""Gaussian heatmaps (MSRA style), with quarter-offset or DARK decoding.

Shapes: N instances, K keypoints, heatmaps H x W; sizes are (w, h).
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from customkpt.registry import KEYPOINT_CODECS


def get_heatmap_maximum(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Argmax location (..., 2) as (x, y) and value (...) of (..., H, W) maps."""
    *lead, h, w = heatmaps.shape
    flat = heatmaps.reshape(-1, h * w)
    idx = flat.argmax(axis=1)
    vals = flat[np.arange(flat.shape[0]), idx]
    locs = np.stack([idx % w, idx // w], axis=-1).astype(np.float32)
    return locs.reshape(*lead, 2), vals.reshape(lead)


def refine_quarter(locs: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
    """Move each (M, 2) argmax a quarter pixel toward its higher neighbour
    (heatmaps (M, H, W))."""
    m, h, w = heatmaps.shape
    x = locs[:, 0].astype(np.int64)
    y = locs[:, 1].astype(np.int64)
    rows = np.arange(m)
    out = locs.copy()
    inner_x = (x > 0) & (x < w - 1)
    inner_y = (y > 0) & (y < h - 1)
    dx = np.zeros(m, np.float32)
    dy = np.zeros(m, np.float32)
    dx[inner_x] = np.sign(heatmaps[rows[inner_x], y[inner_x], x[inner_x] + 1]
                          - heatmaps[rows[inner_x], y[inner_x], x[inner_x] - 1])
    dy[inner_y] = np.sign(heatmaps[rows[inner_y], y[inner_y] + 1, x[inner_y]]
                          - heatmaps[rows[inner_y], y[inner_y] - 1, x[inner_y]])
    out[:, 0] += 0.25 * dx
    out[:, 1] += 0.25 * dy
    return out


def refine_dark(locs: np.ndarray, heatmaps: np.ndarray, kernel: int = 11) -> np.ndarray:
    """DARK: blur each (M, H, W) map (keeping its peak), take the log and do
    one Newton step from the (M, 2) argmax with the local gradient/Hessian."""
    m, h, w = heatmaps.shape
    blurred = np.empty_like(heatmaps, dtype=np.float32)
    for i in range(m):
        peak = heatmaps[i].max()
        b = cv2.GaussianBlur(heatmaps[i].astype(np.float32), (kernel, kernel), 0)
        blurred[i] = b * (peak / b.max()) if b.max() > 0 else b
    logm = np.log(np.maximum(blurred, 1e-10))
    padded = np.pad(logm, ((0, 0), (1, 1), (1, 1)), mode='edge')
    x = locs[:, 0].astype(np.int64) + 1
    y = locs[:, 1].astype(np.int64) + 1
    r = np.arange(m)

    def at(dy, dx):
        return padded[r, y + dy, x + dx]

    gx = 0.5 * (at(0, 1) - at(0, -1))
    gy = 0.5 * (at(1, 0) - at(-1, 0))
    hxx = at(0, 1) - 2 * at(0, 0) + at(0, -1)
    hyy = at(1, 0) - 2 * at(0, 0) + at(-1, 0)
    hxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1))
    det = hxx * hyy - hxy ** 2
    ok = np.abs(det) > 1e-12
    step = np.zeros((m, 2), np.float32)
    step[ok, 0] = (hyy[ok] * gx[ok] - hxy[ok] * gy[ok]) / det[ok]
    step[ok, 1] = (hxx[ok] * gy[ok] - hxy[ok] * gx[ok]) / det[ok]
    return locs - np.clip(step, -1.0, 1.0)


@KEYPOINT_CODECS.register_module()
class MSRAHeatmap:
    """Gaussian heatmap codec.

    Args:
        input_size: network input (w, h) in pixels.
        heatmap_size: heatmap (w, h).
        sigma: Gaussian std in heatmap pixels.
        unbiased: decode with DARK refinement instead of the quarter offset.
        blur_kernel_size: DARK's blur kernel (11 suits sigma 2).
    """

    def __init__(self, input_size: Sequence[int] = (192, 256),
                 heatmap_size: Sequence[int] = (48, 64), sigma: float = 2.0,
                 unbiased: bool = False, blur_kernel_size: int = 11) -> None:
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.heatmap_size = (int(heatmap_size[0]), int(heatmap_size[1]))
        self.sigma = float(sigma)
        self.unbiased = unbiased
        self.blur_kernel_size = blur_kernel_size
        self.scale = np.array(self.input_size, np.float32) / np.array(self.heatmap_size,
                                                                       np.float32)

    def encode(self, keypoints: np.ndarray, keypoints_visible: np.ndarray | None = None
               ) -> dict[str, np.ndarray]:
        """(N, K, 2) crop-pixel keypoints -> heatmaps (K, H, W) (max over
        instances) and keypoint_weights (N, K): 0 for unlabelled points and
        points whose Gaussian lies wholly outside the heatmap."""
        n, k, _ = keypoints.shape
        w, h = self.heatmap_size
        if keypoints_visible is None:
            keypoints_visible = np.ones((n, k), np.float32)
        heatmaps = np.zeros((k, h, w), np.float32)
        weights = (np.asarray(keypoints_visible) > 0).astype(np.float32)
        radius = 3 * self.sigma
        centres = np.floor(keypoints / self.scale + 0.5)  # rounded, heatmap pixels
        xs = np.arange(w, dtype=np.float32)
        ys = np.arange(h, dtype=np.float32)
        for i in range(n):
            for j in range(k):
                cx, cy = centres[i, j]
                if weights[i, j] == 0 or cx + radius < 0 or cy + radius < 0 \
                        or cx - radius >= w or cy - radius >= h:
                    weights[i, j] = 0
                    continue
                gx = np.exp(-((xs - cx) ** 2) / (2 * self.sigma ** 2))
                gy = np.exp(-((ys - cy) ** 2) / (2 * self.sigma ** 2))
                g = np.outer(gy, gx)
                g[np.abs(ys - cy) > radius, :] = 0
                g[:, np.abs(xs - cx) > radius] = 0
                np.maximum(heatmaps[j], g, out=heatmaps[j])
        return dict(heatmaps=heatmaps, keypoint_weights=weights)

    def batch_decode(self, heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, K, H, W) heatmaps -> keypoints (B, K, 2) in crop pixels and
        scores (B, K) (the peak values)."""
        b, k, h, w = heatmaps.shape
        maps = heatmaps.reshape(b * k, h, w).astype(np.float32)
        locs, vals = get_heatmap_maximum(maps)
        if self.unbiased:
            locs = refine_dark(locs, maps, self.blur_kernel_size)
        else:
            locs = refine_quarter(locs, maps)
        keypoints = (locs * self.scale).reshape(b, k, 2).astype(np.float32)
        scores = np.maximum(vals, 0).reshape(b, k).astype(np.float32)
        return keypoints, scores

    def decode(self, heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(K, H, W) -> keypoints (1, K, 2) in crop pixels, scores (1, K)."""
        return self.batch_decode(heatmaps[None])
