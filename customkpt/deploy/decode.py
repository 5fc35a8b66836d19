"""Numpy heatmap decoding for deployment, without torch.

Importing :mod:`customkpt.codecs` imports the whole ``customkpt`` package
(and torch with it), so the decoders that a deployed model needs are written
here again in plain numpy. They compute what ``MSRAHeatmap.batch_decode`` and
``UDPHeatmap.batch_decode`` compute (the tests check it), from the ``codec``
entry of the sidecar (:mod:`customkpt.deploy.sidecar`).

Shapes: heatmaps (B, K, H, W); keypoints (B, K, 2) (x, y) in crop pixels;
scores (B, K).
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ['DECODABLE_CODECS', 'heatmap_peaks', 'blur_heatmaps', 'refine_quarter',
           'refine_dark', 'decode_heatmaps']

DECODABLE_CODECS = ('MSRAHeatmap', 'UDPHeatmap')


def heatmap_peaks(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Argmax of each (B, K, H, W) map: float32 (B, K, 2) integer (x, y) and
    float32 (B, K) values (first maximum in row-major order on ties)."""
    b, k, h, w = heatmaps.shape
    flat = heatmaps.reshape(b * k, h * w)
    idx = flat.argmax(axis=1)
    vals = flat[np.arange(b * k), idx]
    locs = np.stack([idx % w, idx // w], axis=-1).reshape(b, k, 2)
    return locs.astype(np.float32), vals.reshape(b, k).astype(np.float32)


def blur_heatmaps(maps: np.ndarray, kernel_size: int) -> np.ndarray:
    """Gaussian blur of (M, H, W) maps with OpenCV's sigma for the kernel size
    (``0.3 * ((size - 1) / 2 - 1) + 0.8``), zero outside the map, each map
    then rescaled to its original maximum. Returns float32 (M, H, W)."""
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f'blur_kernel_size must be a positive odd integer, got {kernel_size}')
    maps = np.asarray(maps, dtype=np.float32)
    radius = kernel_size // 2
    sigma = 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8
    taps = np.exp(-np.arange(-radius, radius + 1)**2 / (2 * sigma**2))
    taps = (taps / taps.sum()).astype(np.float32)

    def banded(n: int) -> np.ndarray:
        # (n, n) matrix whose product with a map convolves along one axis.
        offsets = np.arange(n)[None, :] - np.arange(n)[:, None]
        return np.where(np.abs(offsets) <= radius,
                        taps[np.clip(offsets + radius, 0, 2 * radius)], 0)

    blurred = banded(maps.shape[-2]) @ maps @ banded(maps.shape[-1])
    old_max = maps.max(axis=(-2, -1), keepdims=True)
    new_max = blurred.max(axis=(-2, -1), keepdims=True)
    ratio = np.where(new_max > 0, old_max / np.where(new_max > 0, new_max, 1), 1)
    return (blurred * ratio).astype(np.float32)


def refine_quarter(locs: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
    """Move each (B, K, 2) peak a quarter pixel toward its higher neighbour,
    per axis, where the peak is at least two pixels from both ends."""
    b, k, h, w = heatmaps.shape
    maps = heatmaps.reshape(b * k, h, w)
    points = locs.reshape(-1, 2).astype(np.float32).copy()
    ids = np.arange(b * k)
    x = np.rint(points[:, 0]).astype(np.int64)
    y = np.rint(points[:, 1]).astype(np.int64)
    if w >= 3:
        xc = np.clip(x, 1, w - 2)
        dx = np.sign(maps[ids, y, xc + 1] - maps[ids, y, xc - 1])
        points[:, 0] += 0.25 * np.where((x > 1) & (x < w - 1), dx, 0)
    if h >= 3:
        yc = np.clip(y, 1, h - 2)
        dy = np.sign(maps[ids, yc + 1, x] - maps[ids, yc - 1, x])
        points[:, 1] += 0.25 * np.where((y > 1) & (y < h - 1), dy, 0)
    return points.reshape(b, k, 2).astype(np.float32)


def refine_dark(locs: np.ndarray, heatmaps: np.ndarray, kernel_size: int) -> np.ndarray:
    """DARK refinement: blur, take the log, and do one Newton step from each
    interior peak where the Hessian is negative definite; the step is
    clipped to one pixel per axis."""
    b, k, h, w = heatmaps.shape
    maps = heatmaps.reshape(b * k, h, w)
    points = locs.reshape(-1, 2).astype(np.float32).copy()
    x = np.rint(points[:, 0]).astype(np.int64)
    y = np.rint(points[:, 1]).astype(np.int64)
    interior = (x > 0) & (x < w - 1) & (y > 0) & (y < h - 1)
    if interior.any():
        ids = np.flatnonzero(interior)
        logs = np.log(np.maximum(blur_heatmaps(maps[ids], kernel_size), 1e-10))
        rows = np.arange(len(ids))
        xi, yi = x[ids], y[ids]

        def at(dy: int, dx: int) -> np.ndarray:
            return logs[rows, yi + dy, xi + dx].astype(np.float64)

        centre = at(0, 0)
        gx = 0.5 * (at(0, 1) - at(0, -1))
        gy = 0.5 * (at(1, 0) - at(-1, 0))
        hxx = at(0, 1) - 2 * centre + at(0, -1)
        hyy = at(1, 0) - 2 * centre + at(-1, 0)
        hxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1))
        det = hxx * hyy - hxy**2
        is_max = (det > 1e-12) & (hxx < 0)
        safe = np.where(is_max, det, 1.0)
        step = np.stack([-(hyy * gx - hxy * gy) / safe, -(hxx * gy - hxy * gx) / safe], -1)
        step = np.where(is_max[:, None], np.clip(step, -1.0, 1.0), 0.0)
        points[ids] += step.astype(np.float32)
    return points.reshape(b, k, 2).astype(np.float32)


def decode_heatmaps(heatmaps: np.ndarray, codec: dict[str, Any]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Decode (B, K, H, W) heatmaps with a sidecar ``codec`` entry.

    Returns:
        keypoints float32 (B, K, 2) in crop pixels and scores float32 (B, K)
        (the peak value, 0 where it is not positive).

    Raises:
        ValueError: an unknown codec type or a wrong heatmap shape.
    """
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    if heatmaps.ndim != 4:
        raise ValueError(f'heatmaps must be (B, K, H, W), got shape {heatmaps.shape}')
    kind = codec.get('type')
    if kind not in DECODABLE_CODECS:
        raise ValueError(f"codec.type {kind!r} cannot be decoded here; supported: "
                         f"{list(DECODABLE_CODECS)}")
    input_size = np.asarray(codec['input_size'], np.float32)
    heatmap_size = np.asarray(codec['heatmap_size'], np.float32)
    kernel = int(codec.get('blur_kernel_size', 11))
    locs, vals = heatmap_peaks(heatmaps)
    if kind == 'UDPHeatmap':
        scale = (input_size - 1) / (heatmap_size - 1)
        refined = refine_dark(locs, heatmaps, kernel)
    else:
        scale = input_size / heatmap_size
        refined = (refine_dark(locs, heatmaps, kernel) if codec.get('unbiased', False)
                   else refine_quarter(locs, heatmaps))
    keypoints = (refined * scale).astype(np.float32)
    scores = np.where(vals > 0, vals, 0).astype(np.float32)
    return keypoints, scores
