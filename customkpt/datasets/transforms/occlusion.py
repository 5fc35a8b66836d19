"""Occlusion augmentations on the cropped sample, and a seeded occlusion for evaluation.

Every transform here runs after ``TopdownAffine`` on the crop ``img`` (h, w, C).
Keypoint coordinates and visibility are never changed: the model has to learn
to place the points it cannot see. Each transform records which labelled
keypoints ended up under occluded pixels in ``keypoints_occluded`` (N, K) bool
(N = 1 in top-down samples), OR-ed with what an earlier transform recorded.
:class:`OcclusionWeight`, placed after ``GenerateTarget``, can then scale the
weights of those points.

Conventions:

- A keypoint (x, y) in crop pixels lies on pixel ``(round(x), round(y))``:
  pixel centres sit at integer coordinates, as ``cv2.warpAffine`` samples them.
- A keypoint is *labelled* when ``keypoints_visible >= 0.5`` (the threshold the
  heatmap codecs use) and its pixel is inside the crop.
- With ``record_mask=True`` a transform also ORs the pixels it occluded into
  ``occlusion_mask`` (h, w) bool, for drawing and tests.

The training transforms draw from numpy's global RNG (like the other
transforms), so mmengine's ``randomness=dict(seed=...)`` makes them
repeatable. :class:`FixedOcclusion` uses a private RNG seeded per sample, so a
validation sample always gets the same occluders.
"""
from __future__ import annotations

import hashlib
import math
from typing import Any, Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.registry import TRANSFORMS

__all__ = [
    'KeypointInfoDrop', 'CoarseDropout', 'GridDropout', 'RandomErasing', 'RandomOccluder',
    'OcclusionWeight', 'FixedOcclusion', 'FILL_MODES', 'OCCLUDER_SOURCES'
]

#: How dropped pixels are filled: a constant ``value``, the image's per-channel
#: mean, or uniform random values in [0, 255].
FILL_MODES = ('constant', 'mean', 'noise')
#: Where :class:`RandomOccluder` takes its textures from.
OCCLUDER_SOURCES = ('samples', 'procedural', 'both')

# ``np.random`` (the global RNG) and ``np.random.RandomState`` share this API:
# rand, randint, uniform, normal.
Rng = Any


# ------------------------------------------------------------------ checks
def _range(value: Sequence[float], name: str, owner: str, lowest: float = 0.0,
           integer: bool = False) -> tuple:
    """A (low, high) pair with ``lowest <= low <= high``."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f'{owner}: {name} must be a (min, max) pair, got {value!r}') from None
    if not lowest <= low <= high:
        raise ValueError(f'{owner}: {name} must satisfy {lowest} <= min <= max, got {value!r}')
    return (int(low), int(high)) if integer else (low, high)


def _size_range(value: Sequence[float], name: str, owner: str) -> tuple:
    """A size range in pixels (two ints >= 1) or in fractions of the crop
    (two floats in (0, 1]); returns ints or floats accordingly."""
    pair = tuple(value) if isinstance(value, (list, tuple)) else None
    if pair is None or len(pair) != 2:
        raise ValueError(f'{owner}: {name} must be a (min, max) pair, got {value!r}')
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        return _range(pair, name, owner, lowest=1, integer=True)
    low, high = _range(pair, name, owner)
    if not 0 < low <= high <= 1:
        raise ValueError(f'{owner}: {name} as floats are fractions of the crop and must lie '
                         f'in (0, 1]; give ints for pixels. Got {value!r}')
    return low, high


def _draw_size(rng: Rng, size_range: tuple, extent: int) -> int:
    """One size in pixels from a pixel (ints) or fraction (floats) range."""
    low, high = size_range
    if isinstance(low, int):
        return int(rng.randint(low, high + 1))
    return max(1, int(round(rng.uniform(low, high) * extent)))


def _probability(prob: float, owner: str) -> float:
    prob = float(prob)
    if not 0 <= prob <= 1:
        raise ValueError(f'{owner}: prob must be in [0, 1], got {prob}')
    return prob


def _check_fill(fill: str, value: float | Sequence[float], owner: str) -> tuple[str, Any]:
    if fill not in FILL_MODES:
        raise ValueError(f'{owner}: fill must be one of {FILL_MODES}, got {fill!r}')
    if isinstance(value, (list, tuple)):
        return fill, tuple(float(v) for v in value)
    return fill, float(value)


# ------------------------------------------------------------------ sample access
def _crop_image(results: dict, owner: str) -> np.ndarray:
    img = results.get('img')
    if img is None:
        raise KeyError(f'{owner}: the sample has no "img" (img_path={results.get("img_path")})')
    img = np.asarray(img)
    if img.ndim not in (2, 3):
        raise ValueError(f'{owner}: "img" must be (h, w) or (h, w, C), got shape {img.shape} '
                         f'(img_path={results.get("img_path")})')
    return img


def _keypoint_pixels(results: dict, shape: tuple[int, int], owner: str
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crop keypoints, their pixels and which are labelled.

    Returns:
        keypoints float32 (N, K, 2) crop pixels, pixels int64 (N, K, 2) (x, y)
        (clipped into the crop), labelled bool (N, K).
    """
    if results.get('transformed_keypoints') is None:
        raise KeyError(f'{owner}: the sample has no "transformed_keypoints" (img_path='
                       f'{results.get("img_path")}); put this transform after TopdownAffine')
    kpts = np.asarray(results['transformed_keypoints'], dtype=np.float32)
    if kpts.ndim < 2 or kpts.shape[-1] != 2:
        raise ValueError(f'{owner}: "transformed_keypoints" must be (N, K, 2), got shape '
                         f'{kpts.shape} (img_path={results.get("img_path")})')
    kpts = kpts.reshape(-1, kpts.shape[-2], 2)
    visible = results.get('keypoints_visible')
    if visible is None:
        visible = np.ones(kpts.shape[:2], np.float32)
    visible = np.asarray(visible, dtype=np.float32)
    if visible.size != kpts.shape[0] * kpts.shape[1]:
        raise ValueError(f'{owner}: "keypoints_visible" has shape {visible.shape}, expected '
                         f'{kpts.shape[:2]} (img_path={results.get("img_path")})')
    visible = visible.reshape(kpts.shape[:2])
    h, w = shape
    with np.errstate(invalid='ignore'):
        pixels = np.floor(np.nan_to_num(kpts, nan=-1.0) + 0.5).astype(np.int64)
    inside = (pixels[..., 0] >= 0) & (pixels[..., 0] < w) & (pixels[..., 1] >= 0) & \
        (pixels[..., 1] < h)
    labelled = (visible >= 0.5) & inside
    pixels[..., 0] = np.clip(pixels[..., 0], 0, w - 1)
    pixels[..., 1] = np.clip(pixels[..., 1], 0, h - 1)
    return kpts, pixels, labelled


def _record(results: dict, mask: np.ndarray, pixels: np.ndarray, labelled: np.ndarray,
            record_mask: bool, owner: str) -> None:
    """OR the labelled keypoints on ``mask`` into ``keypoints_occluded`` and,
    with ``record_mask``, ``mask`` into ``occlusion_mask``."""
    occluded = labelled & mask[pixels[..., 1], pixels[..., 0]]
    previous = results.get('keypoints_occluded')
    if previous is not None:
        previous = np.asarray(previous, dtype=bool)
        if previous.size != occluded.size:
            raise ValueError(f'{owner}: "keypoints_occluded" has shape {previous.shape}, '
                             f'expected {occluded.shape} (img_path={results.get("img_path")})')
        occluded = occluded | previous.reshape(occluded.shape)
    results['keypoints_occluded'] = occluded
    if record_mask:
        previous_mask = results.get('occlusion_mask')
        if previous_mask is not None and np.shape(previous_mask) == mask.shape:
            mask = mask | np.asarray(previous_mask, dtype=bool)
        results['occlusion_mask'] = mask


def _fill(img: np.ndarray, mask: np.ndarray, fill: str, value: Any, rng: Rng) -> np.ndarray:
    """A copy of ``img`` with the ``mask`` pixels filled."""
    out = img.copy()
    count = int(mask.sum())
    if count == 0:
        return out
    channels = 1 if img.ndim == 2 else img.shape[2]
    if fill == 'constant':
        values = np.asarray(value, dtype=np.float64).reshape(-1)
        if values.size not in (1, channels):
            raise ValueError(f'fill value {value} has {values.size} entries for an image with '
                             f'{channels} channel(s)')
        values = np.broadcast_to(values, (channels,))
        pixels = np.broadcast_to(values, (count, channels))
    elif fill == 'mean':
        pixels = np.broadcast_to(img.reshape(-1, channels).mean(axis=0), (count, channels))
    else:
        pixels = rng.randint(0, 256, (count, channels))
    if np.issubdtype(img.dtype, np.integer):
        info = np.iinfo(img.dtype)
        pixels = np.clip(np.rint(pixels), info.min, info.max)
    out[mask] = pixels.astype(img.dtype).reshape(out[mask].shape)
    return out


def _box_mask(shape: tuple[int, int], boxes: np.ndarray) -> np.ndarray:
    """(h, w) bool, True inside the int (M, 4) xyxy boxes (x1, y1 exclusive)."""
    mask = np.zeros(shape, bool)
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1, x0:x1] = True
    return mask


class _MaskedFill(BaseTransform):
    """Shared parts of the transforms that fill a random pixel mask."""

    def __init__(self, prob: float, fill: str, value: float | Sequence[float],
                 record_mask: bool) -> None:
        name = type(self).__name__
        self.prob = _probability(prob, name)
        self.fill, self.value = _check_fill(fill, value, name)
        self.record_mask = bool(record_mask)

    def _mask(self, results: dict, shape: tuple[int, int], pixels: np.ndarray,
              labelled: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        """Maybe fill a random region; see the class docstring for the keys."""
        name = type(self).__name__
        img = _crop_image(results, name)
        _, pixels, labelled = _keypoint_pixels(results, img.shape[:2], name)
        if np.random.rand() >= self.prob:
            return results
        mask = self._mask(results, img.shape[:2], pixels, labelled)
        if mask is None or not mask.any():
            return results
        results['img'] = _fill(img, mask, self.fill, self.value, np.random)
        _record(results, mask, pixels, labelled, self.record_mask, name)
        return results

    def _fill_repr(self) -> str:
        return (f'fill={self.fill!r}, value={self.value}, prob={self.prob}, '
                f'record_mask={self.record_mask}')


# ------------------------------------------------------------------ dropping
@TRANSFORMS.register_module()
class KeypointInfoDrop(_MaskedFill):
    """Information dropping around keypoints (PP-TinyPose's AID).

    With probability ``prob``, ``num_patch`` times: pick a labelled keypoint
    at random, move it by a Gaussian offset with standard deviation
    ``offset_factor`` x crop width, and fill the disc of radius
    uniform(``radius_range``) x crop width around the moved point. Samples
    without a labelled keypoint in the crop are left alone.

    Required keys:
        img (h, w, C) crop, transformed_keypoints (1, K, 2) crop pixels.
    Optional keys:
        keypoints_visible (1, K) (all labelled when absent), keypoints_occluded.
    Modified keys:
        img.
    Added keys:
        keypoints_occluded bool (1, K); occlusion_mask bool (h, w) with
        ``record_mask``.

    Args:
        prob: probability of dropping.
        num_patch: discs per sample.
        offset_factor: standard deviation of the centre offset, x crop width.
        radius_range: (min, max) disc radius, x crop width.
        fill: one of :data:`FILL_MODES`.
        value: the constant fill, a number or one per channel.
        record_mask: also write ``occlusion_mask``.
    """

    def __init__(self, prob: float = 0.5, num_patch: int = 1, offset_factor: float = 0.05,
                 radius_range: Sequence[float] = (0.1, 0.2), fill: str = 'constant',
                 value: float | Sequence[float] = 0, record_mask: bool = False) -> None:
        super().__init__(prob, fill, value, record_mask)
        if int(num_patch) < 1:
            raise ValueError(f'KeypointInfoDrop: num_patch must be >= 1, got {num_patch}')
        if float(offset_factor) < 0:
            raise ValueError(f'KeypointInfoDrop: offset_factor must be >= 0, got {offset_factor}')
        self.num_patch = int(num_patch)
        self.offset_factor = float(offset_factor)
        self.radius_range = _range(radius_range, 'radius_range', 'KeypointInfoDrop')

    def _mask(self, results, shape, pixels, labelled):
        candidates = np.flatnonzero(labelled.reshape(-1))
        if candidates.size == 0:
            return None
        kpts = np.asarray(results['transformed_keypoints'], np.float32).reshape(-1, 2)
        h, w = shape
        ys, xs = np.mgrid[0:h, 0:w]
        mask = np.zeros(shape, bool)
        for _ in range(self.num_patch):
            chosen = candidates[np.random.randint(candidates.size)]
            cx, cy = kpts[chosen] + np.random.normal(0.0, self.offset_factor * w, 2)
            radius = np.random.uniform(*self.radius_range) * w
            mask |= (xs - cx) ** 2 + (ys - cy) ** 2 <= radius ** 2
        return mask

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_patch={self.num_patch}, '
                f'offset_factor={self.offset_factor}, radius_range={self.radius_range}, '
                f'{self._fill_repr()})')


@TRANSFORMS.register_module()
class CoarseDropout(_MaskedFill):
    """Fill a random number of random rectangles.

    With probability ``prob``: draw a hole count from ``num_holes``, then for
    each hole a width and a height from ``hole_size`` (independently) and a
    position that keeps it inside the crop. Sizes are pixels when given as
    ints, fractions of the crop width / height when given as floats.

    The draws, in order: one uniform for ``prob``, then :meth:`sample_holes`.

    Required keys:
        img (h, w, C) crop, transformed_keypoints (1, K, 2) crop pixels.
    Optional keys:
        keypoints_visible (1, K), keypoints_occluded.
    Modified keys:
        img.
    Added keys:
        keypoints_occluded bool (1, K); occlusion_mask bool (h, w) with
        ``record_mask``.

    Args:
        num_holes: (min, max) number of holes.
        hole_size: (min, max) hole side, ints in pixels or floats in (0, 1].
        fill: one of :data:`FILL_MODES`.
        value: the constant fill, a number or one per channel.
        prob: probability of dropping.
        record_mask: also write ``occlusion_mask``.
    """

    def __init__(self, num_holes: Sequence[int] = (1, 8), hole_size: Sequence[float] = (10, 40),
                 fill: str = 'constant', value: float | Sequence[float] = 0, prob: float = 0.5,
                 record_mask: bool = False) -> None:
        super().__init__(prob, fill, value, record_mask)
        self.num_holes = _range(num_holes, 'num_holes', 'CoarseDropout', lowest=1, integer=True)
        self.hole_size = _size_range(hole_size, 'hole_size', 'CoarseDropout')

    def sample_holes(self, h: int, w: int) -> np.ndarray:
        """Draw the holes for an (h, w) crop from the global RNG.

        Returns:
            int64 (M, 4) boxes x0, y0, x1, y1 (x1, y1 exclusive), inside the crop.
        """
        count = int(np.random.randint(self.num_holes[0], self.num_holes[1] + 1))
        boxes = np.zeros((count, 4), np.int64)
        for i in range(count):
            hole_w = min(_draw_size(np.random, self.hole_size, w), w)
            hole_h = min(_draw_size(np.random, self.hole_size, h), h)
            x0 = int(np.random.randint(0, w - hole_w + 1))
            y0 = int(np.random.randint(0, h - hole_h + 1))
            boxes[i] = x0, y0, x0 + hole_w, y0 + hole_h
        return boxes

    def _mask(self, results, shape, pixels, labelled):
        return _box_mask(shape, self.sample_holes(*shape))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_holes={self.num_holes}, '
                f'hole_size={self.hole_size}, {self._fill_repr()})')


@TRANSFORMS.register_module()
class GridDropout(_MaskedFill):
    """Fill square holes on a regular grid.

    With probability ``prob``: draw a grid unit ``d`` from ``unit_size``
    (pixels as ints, fractions of the crop's shorter side as floats); each
    ``d x d`` cell gets a square hole of side ``round(d * ratio)`` (at least
    1), at the same place in every cell. With ``random_offset`` the grid is
    shifted by a random amount in [0, d - hole] along each axis, otherwise
    holes start at the top-left corner. About ``ratio ** 2`` of the crop is
    filled.

    Required keys:
        img (h, w, C) crop, transformed_keypoints (1, K, 2) crop pixels.
    Optional keys:
        keypoints_visible (1, K), keypoints_occluded.
    Modified keys:
        img.
    Added keys:
        keypoints_occluded bool (1, K); occlusion_mask bool (h, w) with
        ``record_mask``.

    Args:
        unit_size: (min, max) grid unit, ints in pixels or floats in (0, 1].
        ratio: hole side / unit side, in (0, 1].
        random_offset: shift the grid randomly.
        fill: one of :data:`FILL_MODES`.
        value: the constant fill, a number or one per channel.
        prob: probability of dropping.
        record_mask: also write ``occlusion_mask``.
    """

    def __init__(self, unit_size: Sequence[float] = (10, 40), ratio: float = 0.5,
                 random_offset: bool = True, fill: str = 'constant',
                 value: float | Sequence[float] = 0, prob: float = 0.5,
                 record_mask: bool = False) -> None:
        super().__init__(prob, fill, value, record_mask)
        self.unit_size = _size_range(unit_size, 'unit_size', 'GridDropout')
        if not 0 < float(ratio) <= 1:
            raise ValueError(f'GridDropout: ratio must be in (0, 1], got {ratio}')
        self.ratio = float(ratio)
        self.random_offset = bool(random_offset)

    def _mask(self, results, shape, pixels, labelled):
        h, w = shape
        unit = max(2, _draw_size(np.random, self.unit_size, min(h, w)))
        hole = min(max(1, int(round(unit * self.ratio))), unit)
        if self.random_offset:
            off_x, off_y = (int(v) for v in np.random.randint(0, unit - hole + 1, 2))
        else:
            off_x = off_y = 0
        rows = (np.arange(h) >= off_y) & ((np.arange(h) - off_y) % unit < hole)
        cols = (np.arange(w) >= off_x) & ((np.arange(w) - off_x) % unit < hole)
        return rows[:, None] & cols[None, :]

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(unit_size={self.unit_size}, ratio={self.ratio}, '
                f'random_offset={self.random_offset}, {self._fill_repr()})')


@TRANSFORMS.register_module()
class RandomErasing(_MaskedFill):
    """Fill one random rectangle of random area and aspect ratio.

    With probability ``prob``: up to ``max_attempts`` times, draw an area
    fraction from ``area_range`` (of the crop area) and an aspect ratio
    (height / width) log-uniformly from ``aspect_range``; the first rectangle
    that fits inside the crop is placed uniformly at random and filled. When
    none fits, the sample is left alone.

    Required keys:
        img (h, w, C) crop, transformed_keypoints (1, K, 2) crop pixels.
    Optional keys:
        keypoints_visible (1, K), keypoints_occluded.
    Modified keys:
        img.
    Added keys:
        keypoints_occluded bool (1, K); occlusion_mask bool (h, w) with
        ``record_mask``.

    Args:
        area_range: (min, max) fraction of the crop area, in (0, 1].
        aspect_range: (min, max) height / width, > 0.
        fill: one of :data:`FILL_MODES` (random noise by default, as in the
            original method).
        value: the constant fill, a number or one per channel.
        prob: probability of erasing.
        max_attempts: draws before giving up.
        record_mask: also write ``occlusion_mask``.
    """

    def __init__(self, area_range: Sequence[float] = (0.02, 0.33),
                 aspect_range: Sequence[float] = (0.3, 3.3), fill: str = 'noise',
                 value: float | Sequence[float] = 0, prob: float = 0.5, max_attempts: int = 10,
                 record_mask: bool = False) -> None:
        super().__init__(prob, fill, value, record_mask)
        self.area_range = _range(area_range, 'area_range', 'RandomErasing')
        if not (0 < self.area_range[0] and self.area_range[1] <= 1):
            raise ValueError(f'RandomErasing: area_range must lie in (0, 1], got {area_range}')
        self.aspect_range = _range(aspect_range, 'aspect_range', 'RandomErasing')
        if self.aspect_range[0] <= 0:
            raise ValueError(f'RandomErasing: aspect_range must be > 0, got {aspect_range}')
        if int(max_attempts) < 1:
            raise ValueError(f'RandomErasing: max_attempts must be >= 1, got {max_attempts}')
        self.max_attempts = int(max_attempts)

    def _mask(self, results, shape, pixels, labelled):
        h, w = shape
        log_low, log_high = math.log(self.aspect_range[0]), math.log(self.aspect_range[1])
        for _ in range(self.max_attempts):
            area = np.random.uniform(*self.area_range) * h * w
            aspect = math.exp(np.random.uniform(log_low, log_high))
            box_h = int(round(math.sqrt(area * aspect)))
            box_w = int(round(math.sqrt(area / aspect)))
            if 0 < box_w <= w and 0 < box_h <= h:
                x0 = int(np.random.randint(0, w - box_w + 1))
                y0 = int(np.random.randint(0, h - box_h + 1))
                return _box_mask(shape, np.array([[x0, y0, x0 + box_w, y0 + box_h]]))
        return None

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(area_range={self.area_range}, '
                f'aspect_range={self.aspect_range}, max_attempts={self.max_attempts}, '
                f'{self._fill_repr()})')


# ------------------------------------------------------------------ occluder pasting
def _blur_radius(w: int, h: int, edge_blur: float) -> tuple[float, int]:
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
    sigma, pad = _blur_radius(w, h, edge_blur)
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


def _shape_ranges(scale_range: Sequence[float], aspect_range: Sequence[float], owner: str
                  ) -> tuple[tuple, tuple]:
    """Checked occluder size ranges: scale (fraction of the crop) in (0, 1],
    aspect ratio (w / h) > 0."""
    scale = _range(scale_range, 'scale_range', owner)
    if not (0 < scale[0] and scale[1] <= 1):
        raise ValueError(f'{owner}: scale_range must lie in (0, 1], got {scale_range}')
    aspect = _range(aspect_range, 'aspect_range', owner)
    if aspect[0] <= 0:
        raise ValueError(f'{owner}: aspect_range must be > 0, got {aspect_range}')
    return scale, aspect


def _occluder_size(rng: Rng, crop_w: int, crop_h: int, scale_range: tuple,
                   aspect_range: tuple) -> tuple[int, int]:
    scale = rng.uniform(*scale_range)
    aspect = math.exp(rng.uniform(math.log(aspect_range[0]), math.log(aspect_range[1])))
    ow = int(round(scale * crop_w / math.sqrt(aspect)))
    oh = int(round(scale * crop_h * math.sqrt(aspect)))
    return min(max(ow, 4), crop_w), min(max(oh, 4), crop_h)


def _paste(img: np.ndarray, texture: np.ndarray, alpha: np.ndarray, x0: int, y0: int,
           coverage: np.ndarray) -> None:
    """Blend ``texture`` into ``img`` (float32 (h, w, C)) with ``alpha`` at
    (x0, y0), clipped to the crop; max-combine ``alpha`` into ``coverage``."""
    h, w = img.shape[:2]
    oh, ow = alpha.shape
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + ow, w), min(y0 + oh, h)
    if xa >= xb or ya >= yb:
        return
    a = alpha[ya - y0:yb - y0, xa - x0:xb - x0, None]
    t = texture[ya - y0:yb - y0, xa - x0:xb - x0].astype(np.float32)
    region = img[ya:yb, xa:xb]
    img[ya:yb, xa:xb] = region * (1.0 - a) + t * a
    np.maximum(coverage[ya:yb, xa:xb], a[..., 0], out=coverage[ya:yb, xa:xb])


def _blend_result(img: np.ndarray, work: np.ndarray, coverage: np.ndarray) -> np.ndarray:
    """Round the blended float image back to ``img``'s dtype and shape; pixels
    with no coverage stay bit-identical."""
    out = img.copy()
    touched = coverage > 0
    values = work.reshape(*img.shape[:2], -1)[touched]
    if np.issubdtype(img.dtype, np.integer):
        info = np.iinfo(img.dtype)
        values = np.clip(np.rint(values), info.min, info.max)
    out[touched] = values.astype(img.dtype).reshape(out[touched].shape)
    return out


def _centre_near(rng: Rng, pixels: np.ndarray, labelled: np.ndarray, ow: int, oh: int,
                 crop_w: int, crop_h: int, jitter: float) -> tuple[float, float]:
    """An occluder centre: a random labelled keypoint moved by up to
    ``jitter`` x the occluder size, or anywhere in the crop without one."""
    candidates = np.flatnonzero(labelled.reshape(-1))
    if candidates.size == 0:
        return rng.uniform(0, crop_w), rng.uniform(0, crop_h)
    x, y = pixels.reshape(-1, 2)[candidates[int(rng.randint(candidates.size))]]
    return (x + rng.uniform(-jitter, jitter) * ow, y + rng.uniform(-jitter, jitter) * oh)


@TRANSFORMS.register_module()
class RandomOccluder(BaseTransform):
    """Paste soft-edged occluders over the subject.

    With probability ``prob``, ``num_occluders`` (drawn from the range) times:
    draw a size (``scale_range`` x the crop's width and height, with an
    aspect jitter from ``aspect_range``), a shape (ellipse or random polygon,
    edge blurred by ``edge_blur`` x its shorter side) and a texture, and
    alpha-blend it centred near a random labelled keypoint (within
    ``jitter`` x its size; anywhere when the crop has no labelled point).

    Textures (``source``):

    - ``'samples'``: a patch cut from an earlier sample's crop. On every call
      the transform cuts one patch of the incoming crop that holds none of its
      labelled keypoints (up to 5 tries) and keeps it in a ring buffer of
      ``pool_size`` patches, so occluders come from *other* training images.
      Each dataloader worker has its own pool. While the pool is empty,
      procedural textures stand in.
    - ``'procedural'``: colour noise, stripes or a grainy flat colour.
    - ``'both'``: either, even odds per occluder.

    A keypoint counts as occluded where the combined alpha is >= 0.5;
    ``occlusion_mask`` holds the same pixels. The soft edge changes some
    pixels just outside it (alpha < 0.5).

    Required keys:
        img (h, w, C) crop, transformed_keypoints (1, K, 2) crop pixels.
    Optional keys:
        keypoints_visible (1, K), keypoints_occluded.
    Modified keys:
        img.
    Added keys:
        keypoints_occluded bool (1, K); occlusion_mask bool (h, w) with
        ``record_mask``.

    Args:
        prob: probability of pasting.
        source: one of :data:`OCCLUDER_SOURCES`.
        num_occluders: (min, max) occluders per sample.
        scale_range: (min, max) occluder size, fraction of the crop size.
        aspect_range: (min, max) height / width change, log-uniform.
        jitter: how far from the keypoint the centre may be, x occluder size.
        edge_blur: edge softness, Gaussian sigma x the occluder's shorter side.
        pool_size: patches kept from earlier samples.
        record_mask: also write ``occlusion_mask``.
    """

    def __init__(self, prob: float = 0.5, source: str = 'both',
                 num_occluders: Sequence[int] = (1, 2), scale_range: Sequence[float] = (0.2, 0.5),
                 aspect_range: Sequence[float] = (0.5, 2.0), jitter: float = 0.5,
                 edge_blur: float = 0.05, pool_size: int = 64, record_mask: bool = False) -> None:
        name = type(self).__name__
        self.prob = _probability(prob, name)
        if source not in OCCLUDER_SOURCES:
            raise ValueError(f'{name}: source must be one of {OCCLUDER_SOURCES}, got {source!r}')
        self.source = source
        self.num_occluders = _range(num_occluders, 'num_occluders', name, lowest=1, integer=True)
        self.scale_range, self.aspect_range = _shape_ranges(scale_range, aspect_range, name)
        self.jitter = float(jitter)
        self.edge_blur = float(edge_blur)
        if int(pool_size) < 1:
            raise ValueError(f'{name}: pool_size must be >= 1, got {pool_size}')
        self.pool_size = int(pool_size)
        self.record_mask = bool(record_mask)
        self.pool: list[np.ndarray] = []
        self._next_slot = 0

    def _collect(self, img: np.ndarray, pixels: np.ndarray, labelled: np.ndarray) -> None:
        """Keep one keypoint-free patch of ``img`` in the ring buffer."""
        h, w = img.shape[:2]
        pw, ph = _occluder_size(np.random, w, h, self.scale_range, (1.0, 1.0))
        points = pixels.reshape(-1, 2)[labelled.reshape(-1)]
        margin = max(2, int(0.03 * max(w, h)))
        for _ in range(5):
            x0 = int(np.random.randint(0, w - pw + 1))
            y0 = int(np.random.randint(0, h - ph + 1))
            hit = ((points[:, 0] >= x0 - margin) & (points[:, 0] < x0 + pw + margin) &
                   (points[:, 1] >= y0 - margin) & (points[:, 1] < y0 + ph + margin))
            if not hit.any():
                patch = img[y0:y0 + ph, x0:x0 + pw].copy()
                if len(self.pool) < self.pool_size:
                    self.pool.append(patch)
                else:
                    self.pool[self._next_slot] = patch
                self._next_slot = (self._next_slot + 1) % self.pool_size
                return

    def _texture(self, ow: int, oh: int, channels: int) -> np.ndarray:
        use_pool = self.source == 'samples' or (self.source == 'both' and np.random.rand() < 0.5)
        pool = [p for p in self.pool if (1 if p.ndim == 2 else p.shape[2]) == channels]
        if use_pool and pool:
            patch = pool[int(np.random.randint(len(pool)))]
            tex = cv2.resize(patch, (ow, oh), interpolation=cv2.INTER_LINEAR)
            tex = tex.reshape(oh, ow, channels)
            return tex[:, ::-1] if np.random.rand() < 0.5 else tex
        return procedural_texture(np.random, ow, oh, channels)

    def transform(self, results: dict) -> dict:
        """Maybe paste occluders; see the class docstring for the keys."""
        name = type(self).__name__
        img = _crop_image(results, name)
        h, w = img.shape[:2]
        _, pixels, labelled = _keypoint_pixels(results, (h, w), name)
        apply = np.random.rand() < self.prob
        if apply:
            channels = 1 if img.ndim == 2 else img.shape[2]
            work = img.astype(np.float32).reshape(h, w, channels)
            coverage = np.zeros((h, w), np.float32)
            count = int(np.random.randint(self.num_occluders[0], self.num_occluders[1] + 1))
            for _ in range(count):
                ow, oh = _occluder_size(np.random, w, h, self.scale_range, self.aspect_range)
                alpha = random_shape_alpha(np.random, ow, oh, self.edge_blur)
                texture = self._texture(ow, oh, channels)
                cx, cy = _centre_near(np.random, pixels, labelled, ow, oh, w, h, self.jitter)
                _paste(work, texture, alpha, int(round(cx - ow / 2)), int(round(cy - oh / 2)),
                       coverage)
        if self.source != 'procedural':
            self._collect(img, pixels, labelled)  # the clean crop, before pasting
        if apply:
            results['img'] = _blend_result(img, work, coverage)
            _record(results, coverage >= 0.5, pixels, labelled, self.record_mask, name)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, source={self.source!r}, '
                f'num_occluders={self.num_occluders}, scale_range={self.scale_range}, '
                f'aspect_range={self.aspect_range}, jitter={self.jitter}, '
                f'edge_blur={self.edge_blur}, pool_size={self.pool_size}, '
                f'record_mask={self.record_mask})')


# ------------------------------------------------------------------ evaluation
def sample_key(results: dict) -> str:
    """The identity :class:`FixedOcclusion` seeds from: ``img_id`` and the
    annotation ``id`` when the sample has both, else ``img_path`` (and ``id``
    when present)."""
    if results.get('img_id') is not None and results.get('id') is not None:
        return f'img_id={results["img_id"]}/id={results["id"]}'
    if results.get('img_path') is None:
        raise KeyError('FixedOcclusion: the sample has neither img_id + id nor img_path to '
                       'seed from')
    return f'img_path={results["img_path"]}/id={results.get("id")}'


@TRANSFORMS.register_module()
class FixedOcclusion(BaseTransform):
    """Seeded procedural occluders for evaluating robustness to occlusion.

    The occluders of a sample depend only on ``seed`` and the sample's
    identity (:func:`sample_key`), never on the global RNG or on the order of
    samples, so a validation sample always gets the same occluders. Put it in
    the val/test pipeline after ``TopdownAffine``.

    Each labelled keypoint is picked as a target with probability
    ``keypoint_prob``. Each target gets an occluder with a procedural shape
    and texture, of ``scale_range`` x the crop size (aspect jitter from
    ``aspect_range``), centred within ``jitter`` x its size of the point. A
    draw that does not cover its target, or covers a keypoint that is not a
    target, is redrawn 20% smaller, up to ``max_tries`` times, then given up.
    So the occluded share of the labelled keypoints stays a little under
    ``keypoint_prob`` whatever the pose density (docs/occlusion.md lists
    measured rates).

    Required keys:
        img (h, w, C) crop, transformed_keypoints (1, K, 2) crop pixels, and
        img_id + id or img_path.
    Optional keys:
        keypoints_visible (1, K), keypoints_occluded.
    Modified keys:
        img.
    Added keys:
        keypoints_occluded bool (1, K); occlusion_mask bool (h, w) with
        ``record_mask``.

    Args:
        seed: the benchmark's seed.
        keypoint_prob: chance that a labelled keypoint is targeted.
        scale_range: (min, max) occluder size, fraction of the crop size.
        aspect_range: (min, max) height / width change, log-uniform.
        jitter: how far from the target the centre may be, x occluder size.
        edge_blur: edge softness, Gaussian sigma x the occluder's shorter side.
        max_tries: draws per target before it is left visible.
        record_mask: also write ``occlusion_mask``.
    """

    def __init__(self, seed: int = 0, keypoint_prob: float = 0.25,
                 scale_range: Sequence[float] = (0.15, 0.3),
                 aspect_range: Sequence[float] = (0.5, 2.0), jitter: float = 0.25,
                 edge_blur: float = 0.05, max_tries: int = 10, record_mask: bool = False) -> None:
        name = type(self).__name__
        self.seed = int(seed)
        self.keypoint_prob = _probability(keypoint_prob, name)
        self.scale_range, self.aspect_range = _shape_ranges(scale_range, aspect_range, name)
        self.jitter = float(jitter)
        self.edge_blur = float(edge_blur)
        if int(max_tries) < 1:
            raise ValueError(f'{name}: max_tries must be >= 1, got {max_tries}')
        self.max_tries = int(max_tries)
        self.record_mask = bool(record_mask)

    def rng_for(self, results: dict) -> np.random.RandomState:
        """The private RNG of one sample."""
        digest = hashlib.sha256(f'{self.seed}|{sample_key(results)}'.encode()).digest()
        return np.random.RandomState(int.from_bytes(digest[:4], 'little'))

    def _draw(self, rng: np.random.RandomState, target: int, points: np.ndarray,
              labelled: np.ndarray, targets: np.ndarray, w: int, h: int
              ) -> tuple[np.ndarray, int, int] | None:
        """An occluder (alpha, x0, y0) over ``points[target]`` that hides no
        labelled point outside ``targets``; None when every try failed."""
        shrink = 1.0
        for _ in range(self.max_tries):
            scale = (self.scale_range[0] * shrink, self.scale_range[1] * shrink)
            ow, oh = _occluder_size(rng, w, h, scale, self.aspect_range)
            alpha = random_shape_alpha(rng, ow, oh, self.edge_blur)
            cx = points[target, 0] + rng.uniform(-self.jitter, self.jitter) * ow
            cy = points[target, 1] + rng.uniform(-self.jitter, self.jitter) * oh
            x0, y0 = int(round(cx - ow / 2)), int(round(cy - oh / 2))
            dx, dy = points[:, 0] - x0, points[:, 1] - y0
            inside = labelled & (dx >= 0) & (dx < ow) & (dy >= 0) & (dy < oh)
            covered = np.zeros(len(points), bool)
            covered[inside] = alpha[dy[inside], dx[inside]] >= 0.5
            if covered[target] and not np.any(covered & ~targets):
                return alpha, x0, y0
            shrink *= 0.8
        return None

    def transform(self, results: dict) -> dict:
        """Paste this sample's occluders; see the class docstring for the keys."""
        name = type(self).__name__
        img = _crop_image(results, name)
        h, w = img.shape[:2]
        _, pixels, labelled = _keypoint_pixels(results, (h, w), name)
        rng = self.rng_for(results)
        points, flat_labelled = pixels.reshape(-1, 2), labelled.reshape(-1)
        targets = flat_labelled & (rng.rand(flat_labelled.size) < self.keypoint_prob)
        channels = 1 if img.ndim == 2 else img.shape[2]
        work = img.astype(np.float32).reshape(h, w, channels)
        coverage = np.zeros((h, w), np.float32)
        for target in np.flatnonzero(targets):
            drawn = self._draw(rng, target, points, flat_labelled, targets, w, h)
            if drawn is None:
                continue
            alpha, x0, y0 = drawn
            texture = procedural_texture(rng, alpha.shape[1], alpha.shape[0], channels)
            _paste(work, texture, alpha, x0, y0, coverage)
        results['img'] = _blend_result(img, work, coverage)
        _record(results, coverage >= 0.5, pixels, labelled, self.record_mask, name)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(seed={self.seed}, keypoint_prob={self.keypoint_prob}, '
                f'scale_range={self.scale_range}, aspect_range={self.aspect_range}, '
                f'jitter={self.jitter}, edge_blur={self.edge_blur}, '
                f'max_tries={self.max_tries}, record_mask={self.record_mask})')


# ------------------------------------------------------------------ loss weights
@TRANSFORMS.register_module()
class OcclusionWeight(BaseTransform):
    """Scale the target weights of keypoints an occlusion transform covered.

    Put it after ``GenerateTarget``. Samples without ``keypoints_occluded``
    (no occlusion was applied) pass unchanged.

    Required keys:
        keypoint_weights (1, K).
    Optional keys:
        keypoints_occluded bool (1, K).
    Modified keys:
        keypoint_weights (float32, x ``weight`` where occluded).

    Args:
        weight: the factor for occluded points, >= 0.
    """

    def __init__(self, weight: float = 0.5) -> None:
        if float(weight) < 0:
            raise ValueError(f'OcclusionWeight: weight must be >= 0, got {weight}')
        self.weight = float(weight)

    def transform(self, results: dict) -> dict:
        """Scale the weights; see the class docstring for the keys."""
        occluded = results.get('keypoints_occluded')
        if occluded is None:
            return results
        if results.get('keypoint_weights') is None:
            raise KeyError('OcclusionWeight: the sample has no "keypoint_weights" (img_path='
                           f'{results.get("img_path")}); put it after GenerateTarget')
        weights = np.asarray(results['keypoint_weights'], dtype=np.float32)
        occluded = np.asarray(occluded, dtype=bool)
        if occluded.size != weights.size:
            raise ValueError(f'OcclusionWeight: "keypoints_occluded" has shape {occluded.shape} '
                             f'but "keypoint_weights" {weights.shape} '
                             f'(img_path={results.get("img_path")})')
        scale = np.where(occluded.reshape(weights.shape), self.weight, 1.0).astype(np.float32)
        results['keypoint_weights'] = weights * scale
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(weight={self.weight})'
