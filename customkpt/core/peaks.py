"""Peak finding and sub-pixel refinement of heatmaps and 1-D vectors: the
codecs (:mod:`customkpt.codecs`) and the deployed ONNX predictor share this
code.

All functions are numpy only and work on any number of leading dimensions,
so the same code decodes one sample's (K, H, W) heatmaps or a batch's
(B, K, H, W) heatmaps in one vectorised call. Locations are (x, y) in
heatmap pixels: x is the column, y the row.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

__all__ = [
    'get_heatmap_maximum', 'gaussian_blur', 'refine_keypoints_quarter', 'refine_keypoints_dark',
    'decode_peaks', 'get_vector_maximum'
]


def get_heatmap_maximum(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Find the peak of every heatmap.

    Args:
        heatmaps: (..., H, W) heatmaps, e.g. (K, H, W) or (B, K, H, W).

    Returns:
        tuple:
        - locs: float32 (..., 2), the argmax as integer-valued (x, y) in
          heatmap pixels (the first one in row-major order on ties).
        - vals: float32 (...), the value at the argmax.
    """
    heatmaps = np.asarray(heatmaps)
    if heatmaps.ndim < 2:
        raise ValueError(f'heatmaps must be (..., H, W), got shape {heatmaps.shape}')
    *lead, h, w = heatmaps.shape
    flat = heatmaps.reshape(-1, h * w)
    idx = flat.argmax(axis=1)
    vals = np.take_along_axis(flat, idx[:, None], axis=1)[:, 0]
    locs = np.stack([idx % w, idx // w], axis=-1)
    return locs.reshape(*lead, 2).astype(np.float32), vals.reshape(lead).astype(np.float32)


def get_vector_maximum(simcc_x: np.ndarray, simcc_y: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Find the peak of every pair of 1-D x and y vectors (SimCC-style
    decoding: one classification vector per axis and keypoint).

    Args:
        simcc_x: (..., Wx) x-axis vectors, e.g. (B, K, Wx).
        simcc_y: (..., Wy) y-axis vectors with the same leading dims.

    Returns:
        tuple:
        - locs: float32 (..., 2), the argmax bin index of each vector as
          integer-valued (x, y) (the first one on ties).
        - scores: float32 (...), the smaller of the two peak values (a
          keypoint is as certain as its less certain axis).
    """
    simcc_x, simcc_y = np.asarray(simcc_x), np.asarray(simcc_y)
    if simcc_x.ndim < 1 or simcc_x.shape[:-1] != simcc_y.shape[:-1]:
        raise ValueError(f'simcc_x (..., Wx) and simcc_y (..., Wy) must share their leading '
                         f'dims, got shapes {simcc_x.shape} and {simcc_y.shape}')
    if simcc_x.shape[-1] == 0 or simcc_y.shape[-1] == 0:
        raise ValueError(f'empty vectors: shapes {simcc_x.shape} and {simcc_y.shape}')
    x_idx, y_idx = simcc_x.argmax(axis=-1), simcc_y.argmax(axis=-1)
    x_val = np.take_along_axis(simcc_x, x_idx[..., None], axis=-1)[..., 0]
    y_val = np.take_along_axis(simcc_y, y_idx[..., None], axis=-1)[..., 0]
    locs = np.stack([x_idx, y_idx], axis=-1).astype(np.float32)
    return locs, np.minimum(x_val, y_val).astype(np.float32)


def gaussian_blur(heatmaps: np.ndarray, kernel_size: int = 11) -> np.ndarray:
    """Blur each heatmap with a Gaussian, keeping each map's original maximum.

    The kernel is the one OpenCV picks for ``sigma=0``
    (``sigma = 0.3 * ((kernel_size - 1) / 2 - 1) + 0.8``, i.e. 2.0 for size
    11) and pixels outside the map count as 0. Afterwards each map is scaled
    so its maximum equals the maximum it had before blurring (maps whose
    blurred maximum is not positive are left unscaled).

    Args:
        heatmaps: (..., H, W) heatmaps.
        kernel_size: odd kernel width in pixels.

    Returns:
        float32 (..., H, W) blurred heatmaps (a new array).
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f'kernel_size must be a positive odd integer, got {kernel_size}')
    maps = np.asarray(heatmaps, dtype=np.float32)
    *_, h, w = maps.shape
    radius = kernel_size // 2
    sigma = 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8
    taps = np.exp(-np.arange(-radius, radius + 1)**2 / (2 * sigma**2))
    taps = (taps / taps.sum()).astype(np.float32)

    # Separable convolution written as two matrix products with banded
    # (Toeplitz) kernel matrices; taps falling outside the map are dropped,
    # which is the same as zero padding.
    def band(n: int) -> np.ndarray:
        offsets = np.arange(n)[None, :] - np.arange(n)[:, None]
        inside = np.abs(offsets) <= radius
        return np.where(inside, taps[np.clip(offsets + radius, 0, 2 * radius)], 0)

    blurred = band(h) @ maps @ band(w)

    old_max = maps.max(axis=(-2, -1), keepdims=True)
    new_max = blurred.max(axis=(-2, -1), keepdims=True)
    ratio = np.where(new_max > 0, old_max / np.where(new_max > 0, new_max, 1), 1)
    return (blurred * ratio).astype(np.float32)


class _PeakBatch(NamedTuple):
    """Keypoints paired with their heatmaps, flattened (see :func:`_pair_with_maps`)."""

    points: np.ndarray   # float32 (M, 2) copy of the broadcast keypoints
    map_ids: np.ndarray  # (M,) index of each point's map in ``maps``
    maps: np.ndarray     # (L, H, W) the flattened heatmaps
    lead: tuple[int, ...]  # the broadcast leading shape
    x: np.ndarray        # int64 (M,) rounded columns
    y: np.ndarray        # int64 (M,) rounded rows

    def result(self) -> np.ndarray:
        """``points`` as float32 (*lead, 2)."""
        return self.points.reshape(*self.lead, 2).astype(np.float32)


def _pair_with_maps(keypoints: np.ndarray, heatmaps: np.ndarray) -> _PeakBatch:
    """Pair every keypoint with its heatmap.

    Leading dims of ``keypoints`` (..., 2) and ``heatmaps`` (..., H, W)
    broadcast against each other, so (N, K, 2) points can share (K, H, W)
    maps.
    """
    keypoints = np.asarray(keypoints, dtype=np.float32)
    heatmaps = np.asarray(heatmaps)
    if keypoints.shape[-1] != 2 or heatmaps.ndim < 2:
        raise ValueError(f'expected keypoints (..., 2) and heatmaps (..., H, W), got '
                         f'{keypoints.shape} and {heatmaps.shape}')
    lead = np.broadcast_shapes(keypoints.shape[:-1], heatmaps.shape[:-2])
    map_ids = np.arange(int(np.prod(heatmaps.shape[:-2]))).reshape(heatmaps.shape[:-2])
    map_ids = np.broadcast_to(map_ids, lead).reshape(-1)
    points = np.broadcast_to(keypoints, lead + (2, )).reshape(-1, 2).copy()
    maps = heatmaps.reshape(-1, *heatmaps.shape[-2:])
    x = np.rint(points[:, 0]).astype(np.int64)
    y = np.rint(points[:, 1]).astype(np.int64)
    return _PeakBatch(points, map_ids, maps, lead, x, y)


def refine_keypoints_quarter(keypoints: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
    """Move each peak a quarter pixel toward its higher neighbour.

    The classic rule: where ``1 < x < W - 1`` the point moves by
    ``0.25 * sign(hm[y, x + 1] - hm[y, x - 1])`` along x, and where
    ``1 < y < H - 1`` by ``0.25 * sign(hm[y + 1, x] - hm[y - 1, x])`` along y.

    Args:
        keypoints: (..., 2) integer-valued (x, y) peak locations in heatmap
            pixels, e.g. from :func:`get_heatmap_maximum`.
        heatmaps: (..., H, W) heatmaps; leading dims broadcast with those of
            ``keypoints`` ((K, 2) with (K, H, W), (B, K, 2) with
            (B, K, H, W), or (N, K, 2) sharing (K, H, W)).

    Returns:
        float32 (..., 2) refined keypoints (a new array), leading dims
        broadcast.
    """
    batch = _pair_with_maps(keypoints, heatmaps)
    points, map_ids, maps, x, y = batch.points, batch.map_ids, batch.maps, batch.x, batch.y
    _, h, w = maps.shape
    inner_x = (x > 1) & (x < w - 1) & (y >= 0) & (y < h)
    inner_y = (y > 1) & (y < h - 1) & (x >= 0) & (x < w)
    # Clamp indices so the gathers below stay in range; masked out afterwards.
    xc, yc = np.clip(x, 1, w - 2), np.clip(y, 1, h - 2)
    x0, y0 = np.clip(x, 0, w - 1), np.clip(y, 0, h - 1)
    if w >= 3:
        dx = np.sign(maps[map_ids, y0, xc + 1] - maps[map_ids, y0, xc - 1])
        points[:, 0] = points[:, 0] + 0.25 * np.where(inner_x, dx, 0)
    if h >= 3:
        dy = np.sign(maps[map_ids, yc + 1, x0] - maps[map_ids, yc - 1, x0])
        points[:, 1] = points[:, 1] + 0.25 * np.where(inner_y, dy, 0)
    return batch.result()


def refine_keypoints_dark(keypoints: np.ndarray, heatmaps: np.ndarray,
                          blur_kernel_size: int = 11) -> np.ndarray:
    """Refine peaks with DARK (distribution-aware coordinate representation).

    Each heatmap is blurred with :func:`gaussian_blur` (keeping its maximum),
    clipped to ``>= 1e-10`` and log-transformed, which turns a Gaussian blob
    into a quadratic. One Newton step from the integer peak then lands on the
    quadratic's maximum: ``offset = -inv(Hess) @ grad``, with the gradient and
    Hessian taken by central differences over the 3 x 3 neighbourhood. The
    step is taken only at interior pixels (``0 < x < W - 1``,
    ``0 < y < H - 1``) where the Hessian is negative definite (a true
    maximum), and is clipped to one pixel per axis as a guard against
    ill-conditioned maps.

    Args:
        keypoints: (..., 2) integer-valued (x, y) peak locations in heatmap
            pixels, e.g. from :func:`get_heatmap_maximum`.
        heatmaps: (..., H, W) heatmaps; leading dims broadcast with those of
            ``keypoints`` as in :func:`refine_keypoints_quarter`.
        blur_kernel_size: Gaussian blur kernel size; 11 suits a target sigma
            of 2 heatmap pixels (MMPose uses 17 for sigma 3).

    Returns:
        float32 (..., 2) refined keypoints (a new array), leading dims
        broadcast.
    """
    batch = _pair_with_maps(keypoints, heatmaps)
    _, h, w = batch.maps.shape
    x, y = batch.x, batch.y
    interior = (x > 0) & (x < w - 1) & (y > 0) & (y < h - 1)
    if not interior.any():
        return batch.result()

    # Only the maps that some interior point uses need blurring.
    used, inverse = np.unique(batch.map_ids[interior], return_inverse=True)
    logs = np.log(np.maximum(gaussian_blur(batch.maps[used], blur_kernel_size), 1e-10))
    xi, yi = x[interior], y[interior]

    def at(dy: int, dx: int) -> np.ndarray:
        return logs[inverse, yi + dy, xi + dx].astype(np.float64)

    centre = at(0, 0)
    gx = 0.5 * (at(0, 1) - at(0, -1))
    gy = 0.5 * (at(1, 0) - at(-1, 0))
    hxx = at(0, 1) - 2 * centre + at(0, -1)
    hyy = at(1, 0) - 2 * centre + at(-1, 0)
    hxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1))
    det = hxx * hyy - hxy**2
    is_max = (det > 1e-12) & (hxx < 0)
    safe_det = np.where(is_max, det, 1.0)
    # -inv([[hxx, hxy], [hxy, hyy]]) @ [gx, gy]
    off_x = -(hyy * gx - hxy * gy) / safe_det
    off_y = -(hxx * gy - hxy * gx) / safe_det
    offsets = np.stack([off_x, off_y], axis=-1)
    offsets = np.where(is_max[:, None], np.clip(offsets, -1.0, 1.0), 0.0)
    batch.points[interior] += offsets.astype(np.float32)
    return batch.result()


def decode_peaks(heatmaps: np.ndarray, scale_factor: np.ndarray,
                 refine: Callable[[np.ndarray, np.ndarray], np.ndarray]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints and scores of a batch of heatmaps: argmax, ``refine``,
    times ``scale_factor``.

    Args:
        heatmaps: (B, K, H, W) heatmaps.
        scale_factor: (2,) crop pixels per heatmap pixel, (x, y).
        refine: maps (B, K, 2) argmax locations and the heatmaps to refined
            (B, K, 2) locations (e.g. :func:`refine_keypoints_dark`).

    Returns:
        tuple:
        - keypoints: float32 (B, K, 2) (x, y) in input-crop pixels.
        - scores: float32 (B, K), the peak values; 0 where the peak is not
          positive.
    """
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    if heatmaps.ndim != 4:
        raise ValueError(f'heatmaps must be (B, K, H, W), got shape {heatmaps.shape}')
    locs, vals = get_heatmap_maximum(heatmaps)
    keypoints = (refine(locs, heatmaps) * np.asarray(scale_factor, np.float32)).astype(np.float32)
    scores = np.where(vals > 0, vals, 0).astype(np.float32)
    return keypoints, scores
