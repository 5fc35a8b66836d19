"""Loss weights of the keypoints an occlusion transform covered."""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.registry import TRANSFORMS

__all__ = ['OcclusionWeight']


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
