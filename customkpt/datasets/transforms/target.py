"""Training targets: heatmaps and per-keypoint weights from a codec."""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.registry import KEYPOINT_CODECS, TRANSFORMS


@TRANSFORMS.register_module()
class GenerateTarget(BaseTransform):
    """Encode ``transformed_keypoints`` into target heatmaps.

    Unlabelled points and points outside the crop get weight 0; with
    ``use_dataset_keypoint_weights`` the weights are also multiplied by the
    definition's joint weights (``dataset_keypoint_weights``, (K,)).

    Required keys: transformed_keypoints, keypoints_visible.
    Added keys: heatmaps (K, H, W), keypoint_weights (1, K).
    """

    def __init__(self, encoder: dict, use_dataset_keypoint_weights: bool = False) -> None:
        self.encoder_cfg = dict(encoder)
        self.encoder = KEYPOINT_CODECS.build(self.encoder_cfg)
        self.use_dataset_keypoint_weights = use_dataset_keypoint_weights

    def transform(self, results: dict) -> dict:
        encoded = self.encoder.encode(results['transformed_keypoints'],
                                      results['keypoints_visible'])
        weights = encoded['keypoint_weights'].astype(np.float32)
        if self.use_dataset_keypoint_weights and 'dataset_keypoint_weights' in results:
            weights = weights * np.asarray(results['dataset_keypoint_weights'], np.float32)
        results['heatmaps'] = encoded['heatmaps']
        results['keypoint_weights'] = weights
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(encoder={self.encoder_cfg}, '
                f'use_dataset_keypoint_weights={self.use_dataset_keypoint_weights})')
