"""RandomFlip: the horizontal-flip training transform.

The mirroring itself (``x -> w - 1 - x`` on pixel centres, left/right slots
swapped by the definition's ``flip_indices``) is :mod:`customkpt.core.flip`.
"""
from __future__ import annotations

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.core.flip import check_flip_indices, flip_boxes, flip_keypoints, mirror_points
from customkpt.registry import TRANSFORMS

__all__ = ['RandomFlip']


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
            results['bbox'] = flip_boxes(results['bbox'], width)
        if results.get('bbox_center') is not None:
            results['bbox_center'] = mirror_points(
                np.asarray(results['bbox_center'], dtype=np.float32), width)
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
