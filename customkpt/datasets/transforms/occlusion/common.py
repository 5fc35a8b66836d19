"""Shared parts of the occlusion transforms: argument checks, sample access,
pixel filling and the record of occluded keypoints."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from ..settings import SettingsRepr

__all__ = ['FILL_MODES', 'Rng', 'check_range', 'check_size_range', 'draw_size', 'check_count',
           'check_probability', 'check_fill', 'crop_image', 'keypoint_pixels',
           'record_occluded', 'fill_pixels', 'box_mask', 'OcclusionTransform', 'MaskedFill']

#: How dropped pixels are filled: a constant ``value``, the image's per-channel
#: mean, or uniform random values in [0, 255].
FILL_MODES = ('constant', 'mean', 'noise')
# ``np.random`` (the global RNG) and ``np.random.RandomState`` share this API:
# rand, randint, uniform, normal.
Rng = Any


# ------------------------------------------------------------------ checks
def check_range(value: Sequence[float], name: str, owner: str, lowest: float = 0.0,
           integer: bool = False) -> tuple:
    """A (low, high) pair with ``lowest <= low <= high``."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f'{owner}: {name} must be a (min, max) pair, got {value!r}') from None
    if not lowest <= low <= high:
        raise ValueError(f'{owner}: {name} must satisfy {lowest} <= min <= max, got {value!r}')
    return (int(low), int(high)) if integer else (low, high)


def check_size_range(value: Sequence[float], name: str, owner: str) -> tuple:
    """A size range in pixels (two ints >= 1) or in fractions of the crop
    (two floats in (0, 1]); returns ints or floats accordingly."""
    pair = tuple(value) if isinstance(value, (list, tuple)) else None
    if pair is None or len(pair) != 2:
        raise ValueError(f'{owner}: {name} must be a (min, max) pair, got {value!r}')
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        return check_range(pair, name, owner, lowest=1, integer=True)
    low, high = check_range(pair, name, owner)
    if not 0 < low <= high <= 1:
        raise ValueError(f'{owner}: {name} as floats are fractions of the crop and must lie '
                         f'in (0, 1]; give ints for pixels. Got {value!r}')
    return low, high


def draw_size(rng: Rng, size_range: tuple, extent: int) -> int:
    """One size in pixels from a pixel (ints) or fraction (floats) range."""
    low, high = size_range
    if isinstance(low, int):
        return int(rng.randint(low, high + 1))
    return max(1, int(round(rng.uniform(low, high) * extent)))


def check_count(value: int, name: str, owner: str) -> int:
    """A whole number >= 1 (a count of holes, patches, tries)."""
    if int(value) < 1:
        raise ValueError(f'{owner}: {name} must be >= 1, got {value}')
    return int(value)


def check_probability(prob: float, owner: str) -> float:
    prob = float(prob)
    if not 0 <= prob <= 1:
        raise ValueError(f'{owner}: prob must be in [0, 1], got {prob}')
    return prob


def check_fill(fill: str, value: float | Sequence[float], owner: str) -> tuple[str, Any]:
    if fill not in FILL_MODES:
        raise ValueError(f'{owner}: fill must be one of {FILL_MODES}, got {fill!r}')
    if isinstance(value, (list, tuple)):
        return fill, tuple(float(v) for v in value)
    return fill, float(value)


# ------------------------------------------------------------------ sample access
def crop_image(results: dict, owner: str) -> np.ndarray:
    img = results.get('img')
    if img is None:
        raise KeyError(f'{owner}: the sample has no "img" (img_path={results.get("img_path")})')
    img = np.asarray(img)
    if img.ndim not in (2, 3):
        raise ValueError(f'{owner}: "img" must be (h, w) or (h, w, C), got shape {img.shape} '
                         f'(img_path={results.get("img_path")})')
    return img


def keypoint_pixels(results: dict, shape: tuple[int, int], owner: str
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


def record_occluded(results: dict, mask: np.ndarray, pixels: np.ndarray, labelled: np.ndarray,
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


def fill_pixels(img: np.ndarray, mask: np.ndarray, fill: str, value: Any, rng: Rng) -> np.ndarray:
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


def box_mask(shape: tuple[int, int], boxes: np.ndarray) -> np.ndarray:
    """(h, w) bool, True inside the int (M, 4) xyxy boxes (x1, y1 exclusive)."""
    mask = np.zeros(shape, bool)
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1, x0:x1] = True
    return mask


class OcclusionTransform(SettingsRepr, BaseTransform):
    """Base of the occlusion transforms: the sample they read and a ``repr``
    of their settings."""

    #: The attributes ``repr`` shows, in order.
    repr_fields: tuple[str, ...] = ()

    def crop_pixels(self, results: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The crop ``img``, keypoint pixels int64 (N, K, 2) and labelled bool
        (N, K) of a sample (see :func:`keypoint_pixels`)."""
        name = type(self).__name__
        img = crop_image(results, name)
        _, pixels, labelled = keypoint_pixels(results, img.shape[:2], name)
        return img, pixels, labelled


class MaskedFill(OcclusionTransform):
    """Shared parts of the transforms that fill a random pixel mask.

    Args:
        prob: probability of filling.
        fill: one of :data:`FILL_MODES`.
        value: the constant fill, a number or one per channel.
        record_mask: also write ``occlusion_mask``.
    """

    #: The shared settings, last in ``repr``.
    repr_fields = ('fill', 'value', 'prob', 'record_mask')

    def __init__(self, prob: float, fill: str, value: float | Sequence[float],
                 record_mask: bool) -> None:
        name = type(self).__name__
        self.prob = check_probability(prob, name)
        self.fill, self.value = check_fill(fill, value, name)
        self.record_mask = bool(record_mask)

    def _mask(self, results: dict, shape: tuple[int, int], pixels: np.ndarray,
              labelled: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        """Maybe fill a random region; see the class docstring for the keys."""
        img, pixels, labelled = self.crop_pixels(results)
        if np.random.rand() >= self.prob:
            return results
        mask = self._mask(results, img.shape[:2], pixels, labelled)
        if mask is None or not mask.any():
            return results
        results['img'] = fill_pixels(img, mask, self.fill, self.value, np.random)
        record_occluded(results, mask, pixels, labelled, self.record_mask, type(self).__name__)
        return results
