"""Horizontal flip driven by the keypoint definition's flip indices.

Pixel coordinates follow the pixel-centre convention used throughout
customkpt: pixel column ``x`` of an image ``w`` pixels wide becomes column
``w - 1 - x`` when the image is mirrored, so a keypoint drawn on a pixel is
still on that pixel after the flip.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.registry import TRANSFORMS

__all__ = ['RandomFlip', 'flip_keypoints', 'flip_bbox', 'check_flip_indices']


def check_flip_indices(flip_indices: Sequence[int], num_keypoints: int) -> np.ndarray:
    """Validate a flip table and return it as int64 (K,).

    Raises:
        ValueError: when it has not ``num_keypoints`` entries or an entry is
            out of range.
    """
    idx = np.asarray(flip_indices, dtype=np.int64).reshape(-1)
    if idx.shape != (num_keypoints,):
        raise ValueError(f'flip_indices has {idx.size} entries for K={num_keypoints} '
                         'keypoints (it needs one partner index per point, itself when unpaired)')
    if idx.size and (idx.min() < 0 or idx.max() >= num_keypoints):
        raise ValueError(f'flip_indices {idx.tolist()} has entries outside [0, {num_keypoints})')
    return idx


def flip_keypoints(keypoints: np.ndarray, visible: np.ndarray | None, image_width: float,
                   flip_indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray | None]:
    """Mirror keypoints horizontally and swap left/right partners.

    Each x becomes ``image_width - 1 - x`` and slot ``k`` receives the point
    that was in slot ``flip_indices[k]``, so after the flip the point stored
    as "left hand" is again the subject's left hand.

    Args:
        keypoints: (..., K, 2) (x, y) in pixels, usually (N, K, 2).
        visible: (..., K) visibility, or None.
        image_width: width of the image the points live in, in pixels.
        flip_indices: K partner indices (itself for unpaired points).

    Returns:
        New arrays: keypoints (..., K, 2) and visibility (..., K) (None when
        ``visible`` is None). The inputs are not modified.
    """
    keypoints = np.asarray(keypoints)
    idx = check_flip_indices(flip_indices, keypoints.shape[-2])
    out = keypoints[..., idx, :]  # fancy indexing: a copy
    out[..., 0] = (image_width - 1) - out[..., 0]
    if visible is None:
        return out, None
    return out, np.asarray(visible)[..., idx]


def flip_bbox(bbox: np.ndarray, image_width: float) -> np.ndarray:
    """Mirror (..., 4) xyxy boxes horizontally (``x -> w - 1 - x``), keeping
    ``x1 <= x2``. Returns a new float32 array."""
    box = np.array(bbox, dtype=np.float32)
    box[..., [0, 2]] = (image_width - 1) - box[..., [2, 0]]
    return box


def _flip_image(img: np.ndarray) -> np.ndarray:
    out = cv2.flip(img, 1)
    return out.reshape(img.shape)  # cv2 drops a trailing singleton channel


@TRANSFORMS.register_module()
class RandomFlip(BaseTransform):
    """Mirror the image, box and keypoints horizontally with probability ``prob``.

    The partner table comes from ``results['flip_indices']`` (the datasets
    copy the definition's flip indices into every sample); a definition
    without left/right pairs has the identity table and its points are only
    mirrored. Place it before ``TopdownAffine``: it works in image pixels.

    Required keys:
        img, flip_indices (K ints).
    Modified keys (when present):
        img (same shape); bbox (1, 4), bbox_center (1, 2),
        bbox_rotation (1,) (negated, so the same crop is mirrored),
        keypoints (1, K, 2), keypoints_visible (1, K), keypoint_weights (1, K).
    Added keys:
        flip (bool), flip_direction ('horizontal' or None when not flipped).

    Args:
        prob: probability of flipping.
        direction: only ``'horizontal'`` is supported (a vertical flip has no
            meaningful left/right partner table).
    """

    def __init__(self, prob: float = 0.5, direction: str = 'horizontal') -> None:
        if direction != 'horizontal':
            raise ValueError(f"RandomFlip supports direction='horizontal' only, got {direction!r}")
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = float(prob)
        self.direction = direction

    def transform(self, results: dict) -> dict:
        """Flip (or not); see the class docstring for the keys."""
        if np.random.rand() >= self.prob:
            results['flip'], results['flip_direction'] = False, None
            return results
        if results.get('flip_indices') is None:
            raise KeyError("RandomFlip needs results['flip_indices'] (one partner index per "
                           'keypoint, copied from the keypoint meta by the dataset)')
        img = results['img']
        width = img.shape[1]
        idx = results['flip_indices']
        results['img'] = _flip_image(img)
        if results.get('bbox') is not None:
            results['bbox'] = flip_bbox(results['bbox'], width)
        if results.get('bbox_center') is not None:
            center = np.array(results['bbox_center'], dtype=np.float32)
            center[..., 0] = (width - 1) - center[..., 0]
            results['bbox_center'] = center
        if results.get('bbox_rotation') is not None:
            results['bbox_rotation'] = -np.asarray(results['bbox_rotation'], dtype=np.float32)
        if results.get('keypoints') is not None:
            kpts, vis = flip_keypoints(results['keypoints'], results.get('keypoints_visible'),
                                       width, idx)
            results['keypoints'] = kpts
            if vis is not None:
                results['keypoints_visible'] = vis
        if results.get('keypoint_weights') is not None:
            weights = np.asarray(results['keypoint_weights'])
            results['keypoint_weights'] = weights[..., check_flip_indices(idx, weights.shape[-1])]
        results['flip'], results['flip_direction'] = True, self.direction
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob}, direction={self.direction!r})'
