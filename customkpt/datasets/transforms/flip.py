"""Horizontal flip with the keypoint definition's flip indices."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.registry import TRANSFORMS


def flip_keypoints(keypoints: np.ndarray, visible: np.ndarray | None, image_width: int,
                   flip_indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray | None]:
    """Mirror (N, K, 2) keypoints in an image ``image_width`` pixels wide.

    Pixel x maps to ``image_width - 1 - x`` (the pixel grid is mirrored), and
    each point takes its partner's slot (``flip_indices[k]``), so a left
    hand stays labelled as the subject's left hand.

    Returns:
        The flipped keypoints (N, K, 2) and visibility (N, K) (or None).
    """
    idx = np.asarray(flip_indices, dtype=np.int64)
    if idx.shape != (keypoints.shape[-2],):
        raise ValueError(f'flip_indices has {idx.size} entries for K={keypoints.shape[-2]}')
    out = keypoints[..., idx, :].copy()
    out[..., 0] = image_width - 1 - out[..., 0]
    return out, (None if visible is None else visible[..., idx].copy())


@TRANSFORMS.register_module()
class RandomFlip(BaseTransform):
    """Mirror the image, box and keypoints horizontally with probability ``prob``.

    Required keys: img, flip_indices; optional bbox, bbox_center, keypoints,
    keypoints_visible, keypoint_weights (per-point arrays are reordered).
    Modified keys: those present. Added keys: flip, flip_direction.
    """

    def __init__(self, prob: float = 0.5, direction: str = 'horizontal') -> None:
        if direction != 'horizontal':
            raise ValueError(f'only horizontal flips are supported, got {direction!r}')
        self.prob = prob
        self.direction = direction

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            results['flip'], results['flip_direction'] = False, None
            return results
        img = results['img']
        w = img.shape[1]
        results['img'] = cv2.flip(img, 1)
        if 'bbox' in results:
            box = np.asarray(results['bbox'], dtype=np.float32).copy()
            box[..., [0, 2]] = w - 1 - box[..., [2, 0]]
            results['bbox'] = box
        if 'bbox_center' in results:
            center = results['bbox_center'].copy()
            center[..., 0] = w - 1 - center[..., 0]
            results['bbox_center'] = center
        idx = results['flip_indices']
        if results.get('keypoints') is not None:
            results['keypoints'], vis = flip_keypoints(
                results['keypoints'], results.get('keypoints_visible'), w, idx)
            if vis is not None:
                results['keypoints_visible'] = vis
        if results.get('keypoint_weights') is not None:
            results['keypoint_weights'] = results['keypoint_weights'][..., idx].copy()
        results['flip'], results['flip_direction'] = True, self.direction
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob}, direction={self.direction!r})'
