"""Information dropping around keypoints."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from customkpt.registry import TRANSFORMS

from .common import MaskedFill, check_range

__all__ = ['KeypointInfoDrop']


@TRANSFORMS.register_module()
class KeypointInfoDrop(MaskedFill):
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
        self.radius_range = check_range(radius_range, 'radius_range', 'KeypointInfoDrop')

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
