"""Occluder shapes and textures, and pasting them onto a crop."""
from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np

from .common import OcclusionTransform, Rng, check_range, record_occluded

__all__ = ['random_shape_alpha', 'procedural_texture', 'shape_ranges', 'occluder_size', 'Canvas',
           'ShapedOccluder',
           'centre_near']


def blur_radius(w: int, h: int, edge_blur: float) -> tuple[float, int]:
    """Gaussian sigma and kernel half-width for an occluder of (w, h) pixels."""
    sigma = edge_blur * min(w, h)
    if sigma < 0.3:
        return 0.0, 0
    return sigma, int(math.ceil(2 * sigma))


def random_shape_alpha(rng: Rng, w: int, h: int, edge_blur: float = 0.05) -> np.ndarray:
    """A random ellipse or star-shaped polygon with a soft edge.

    The shape is drawn inset by the blur's kernel half-width, so the alpha
    is 0 on the border of the (h, w) box; the hard edge maps to alpha 0.5.

    Args:
        rng: ``np.random`` or a ``np.random.RandomState``.
        w, h: box size in pixels (>= 1).
        edge_blur: Gaussian sigma of the edge, x the box's shorter side.

    Returns:
        float32 (h, w) alpha in [0, 1].
    """
    sigma, pad = blur_radius(w, h, edge_blur)
    pad = min(pad, (min(w, h) - 1) // 3)
    canvas = np.zeros((h, w), np.uint8)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    ax, ay = max(0.5, w / 2.0 - pad), max(0.5, h / 2.0 - pad)
    if rng.rand() < 0.5:
        # Sub-pixel precision: cv2 takes fixed-point coordinates with 4 fractional bits.
        shift = 4
        cv2.ellipse(canvas, (int(round(cx * 16)), int(round(cy * 16))),
                    (int(round(ax * 16)), int(round(ay * 16))), 0.0, 0.0, 360.0, 255, -1,
                    cv2.LINE_8, shift)
    else:
        count = int(rng.randint(3, 10))
        # Evenly spread angles with jitter keep the polygon from collapsing to a sliver.
        step = 2 * np.pi / count
        angles = rng.uniform(0.0, step) + step * (np.arange(count) + rng.uniform(-0.3, 0.3, count))
        radii = rng.uniform(0.55, 1.0, count)
        points = np.stack([cx + ax * radii * np.cos(angles), cy + ay * radii * np.sin(angles)], 1)
        cv2.fillPoly(canvas, [np.round(points).astype(np.int32)], 255)
    alpha = canvas.astype(np.float32) / 255.0
    if sigma > 0:
        size = 2 * int(math.ceil(2 * sigma)) + 1
        alpha = cv2.GaussianBlur(alpha, (size, size), sigma, borderType=cv2.BORDER_CONSTANT)
    return alpha


def procedural_texture(rng: Rng, w: int, h: int, channels: int = 3) -> np.ndarray:
    """A random texture: blotchy colour noise, stripes, or a flat colour with grain.

    Returns:
        uint8 (h, w, channels).
    """
    kind = int(rng.randint(0, 3))
    if kind == 0:
        cells = rng.uniform(0, 255, (max(1, h // 4), max(1, w // 4), channels))
        tex = cv2.resize(cells.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        tex = tex.reshape(h, w, channels) + rng.normal(0.0, 12.0, (h, w, channels))
    elif kind == 1:
        colour_a = rng.uniform(0, 255, channels)
        colour_b = rng.uniform(0, 255, channels)
        angle = rng.uniform(0.0, np.pi)
        period = rng.uniform(3.0, max(4.0, min(w, h) / 2.0))
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        phase = (xs * np.cos(angle) + ys * np.sin(angle)) * (2 * np.pi / period)
        level = (0.5 + 0.5 * np.sin(phase))[..., None]
        tex = colour_a * level + colour_b * (1.0 - level)
    else:
        tex = rng.uniform(0, 255, channels) + rng.normal(0.0, 20.0, (h, w, channels))
    return np.clip(np.rint(tex), 0, 255).astype(np.uint8)


def shape_ranges(scale_range: Sequence[float], aspect_range: Sequence[float], owner: str
                  ) -> tuple[tuple, tuple]:
    """Checked occluder size ranges: scale (fraction of the crop) in (0, 1],
    aspect ratio (w / h) > 0."""
    scale = check_range(scale_range, 'scale_range', owner)
    if not (0 < scale[0] and scale[1] <= 1):
        raise ValueError(f'{owner}: scale_range must lie in (0, 1], got {scale_range}')
    aspect = check_range(aspect_range, 'aspect_range', owner)
    if aspect[0] <= 0:
        raise ValueError(f'{owner}: aspect_range must be > 0, got {aspect_range}')
    return scale, aspect


class ShapedOccluder(OcclusionTransform):
    """Shared settings of the transforms that paste shaped occluders.

    Args:
        scale_range: (min, max) occluder size, fraction of the crop size.
        aspect_range: (min, max) height / width change, log-uniform.
        jitter: how far from the keypoint the centre may be, x occluder size.
        edge_blur: edge softness, Gaussian sigma x the occluder's shorter side.
        record_mask: also write ``occlusion_mask``.
    """

    #: The shape settings, in ``repr`` order.
    shape_fields = ('scale_range', 'aspect_range', 'jitter', 'edge_blur')

    def __init__(self, scale_range: Sequence[float], aspect_range: Sequence[float],
                 jitter: float, edge_blur: float, record_mask: bool) -> None:
        name = type(self).__name__
        self.scale_range, self.aspect_range = shape_ranges(scale_range, aspect_range, name)
        self.jitter = float(jitter)
        self.edge_blur = float(edge_blur)
        self.record_mask = bool(record_mask)


def occluder_size(rng: Rng, crop_w: int, crop_h: int, scale_range: tuple,
                   aspect_range: tuple) -> tuple[int, int]:
    scale = rng.uniform(*scale_range)
    aspect = math.exp(rng.uniform(math.log(aspect_range[0]), math.log(aspect_range[1])))
    ow = int(round(scale * crop_w / math.sqrt(aspect)))
    oh = int(round(scale * crop_h * math.sqrt(aspect)))
    return min(max(ow, 4), crop_w), min(max(oh, 4), crop_h)


class Canvas:
    """A float32 (h, w, C) working copy of a crop that occluders are pasted
    into, with ``coverage`` (h, w), the max-combined alpha pasted so far."""

    def __init__(self, img: np.ndarray) -> None:
        h, w = img.shape[:2]
        self.img = img
        self.channels = 1 if img.ndim == 2 else img.shape[2]
        self.work = img.astype(np.float32).reshape(h, w, self.channels)
        self.coverage = np.zeros((h, w), np.float32)

    def paste(self, texture: np.ndarray, alpha: np.ndarray, x0: int, y0: int) -> None:
        """Blend ``texture`` in with ``alpha`` at (x0, y0), clipped to the crop."""
        h, w = self.work.shape[:2]
        oh, ow = alpha.shape
        xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + ow, w), min(y0 + oh, h)
        if xa >= xb or ya >= yb:
            return
        a = alpha[ya - y0:yb - y0, xa - x0:xb - x0, None]
        t = texture[ya - y0:yb - y0, xa - x0:xb - x0].astype(np.float32)
        region = self.work[ya:yb, xa:xb]
        self.work[ya:yb, xa:xb] = region * (1.0 - a) + t * a
        np.maximum(self.coverage[ya:yb, xa:xb], a[..., 0], out=self.coverage[ya:yb, xa:xb])

    def blended(self) -> np.ndarray:
        """The crop in its own dtype and shape; pixels with no coverage stay
        bit-identical."""
        img = self.img
        out = img.copy()
        touched = self.coverage > 0
        values = self.work[touched]
        if np.issubdtype(img.dtype, np.integer):
            info = np.iinfo(img.dtype)
            values = np.clip(np.rint(values), info.min, info.max)
        out[touched] = values.astype(img.dtype).reshape(out[touched].shape)
        return out

    def commit(self, results: dict, pixels: np.ndarray, labelled: np.ndarray,
               record_mask: bool, owner: str) -> None:
        """Write the blended crop to ``results['img']``; a keypoint counts as
        occluded where the combined alpha is >= 0.5."""
        results['img'] = self.blended()
        record_occluded(results, self.coverage >= 0.5, pixels, labelled, record_mask, owner)


def centre_near(rng: Rng, pixels: np.ndarray, labelled: np.ndarray, ow: int, oh: int,
                 crop_w: int, crop_h: int, jitter: float) -> tuple[float, float]:
    """An occluder centre: a random labelled keypoint moved by up to
    ``jitter`` x the occluder size, or anywhere in the crop without one."""
    candidates = np.flatnonzero(labelled.reshape(-1))
    if candidates.size == 0:
        return rng.uniform(0, crop_w), rng.uniform(0, crop_h)
    x, y = pixels.reshape(-1, 2)[candidates[int(rng.randint(candidates.size))]]
    return (x + rng.uniform(-jitter, jitter) * ow, y + rng.uniform(-jitter, jitter) * oh)
