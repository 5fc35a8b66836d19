"""Information dropping around keypoints."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from customkpt.registry import TRANSFORMS

from .common import MaskedFill, check_count, check_range

__all__ = ['KeypointInfoDrop']


@TRANSFORMS.register_module()
class KeypointInfoDrop(MaskedFill):
    """Information dropping around keypoints (PP-TinyPose's AID).

    With probability ``prob``, ``num_patch`` times: pick a labelled keypoint
    at random, move it by a Gaussian offset with standard deviation
    ``offset_factor`` x crop width, and fill the disc of radius
    uniform(``radius_range``) x crop width around the moved point. Samples
    without a labelled keypoint in the crop are left alone.

    Keys: those every occlusion transform shares (see
    :mod:`customkpt.datasets.transforms.occlusion`).

    Args:
        num_patch: discs per sample.
        offset_factor: standard deviation of the centre offset, x crop width.
        radius_range: (min, max) disc radius, x crop width.
        prob, fill, value, record_mask: as in :class:`~.common.MaskedFill`.
    """

    repr_fields = ('num_patch', 'offset_factor', 'radius_range') + MaskedFill.repr_fields

    def __init__(self, prob: float = 0.5, num_patch: int = 1, offset_factor: float = 0.05,
                 radius_range: Sequence[float] = (0.1, 0.2), fill: str = 'constant',
                 value: float | Sequence[float] = 0, record_mask: bool = False) -> None:
        super().__init__(prob, fill, value, record_mask)
        self.num_patch = check_count(num_patch, 'num_patch', 'KeypointInfoDrop')
        if float(offset_factor) < 0:
            raise ValueError(f'KeypointInfoDrop: offset_factor must be >= 0, got {offset_factor}')
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
