"""Training targets: heatmaps or SimCC labels, and per-keypoint weights, from
a codec."""
from __future__ import annotations

import logging
from typing import Any

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from customkpt.registry import KEYPOINT_CODECS, TRANSFORMS

__all__ = ['GenerateTarget']

# What a codec's encode() may return besides keypoint_weights.
_TARGET_KEYS = ('heatmaps', 'keypoint_x_labels', 'keypoint_y_labels')


@TRANSFORMS.register_module()
class GenerateTarget(BaseTransform):
    """Encode the crop-pixel keypoints into targets and weights.

    The codec (``MSRAHeatmap``, ``UDPHeatmap``: heatmaps; ``SimCCLabel``: one
    x and one y vector per keypoint) draws one Gaussian per keypoint and
    gives weight 0 to points that are not labelled
    (``keypoints_visible`` < 0.5) and to points whose Gaussian lies entirely
    outside the heatmap, i.e. points that the crop (after shift, scale,
    rotation or half body) left out. Points just outside the crop edge keep
    the part of their Gaussian that falls inside, as in the usual recipe.

    With ``use_dataset_keypoint_weights`` the weights are multiplied by the
    definition's joint weights, read from ``results['dataset_keypoint_weights']``
    (K,). When that key is missing the weights are left as they are and a
    warning is logged once.

    Required keys:
        transformed_keypoints (1, K, 2) crop pixels, keypoints_visible (1, K).
    Optional keys:
        dataset_keypoint_weights (K,).
    Added keys:
        heatmaps: float32 (K, H, W), from a heatmap codec.
        keypoint_x_labels, keypoint_y_labels: float32 (1, K, Wx) and
            (1, K, Wy), from a SimCC codec.
        keypoint_weights: float32 (1, K).

    Args:
        encoder: a codec config dict (built from ``KEYPOINT_CODECS``) or a
            codec object with ``encode(keypoints, keypoints_visible)``.
        use_dataset_keypoint_weights: multiply by the joint weights.
    """

    def __init__(self, encoder: dict | Any,
                 use_dataset_keypoint_weights: bool = False) -> None:
        if isinstance(encoder, dict):
            self.encoder_cfg: dict | Any = dict(encoder)
            self.encoder = KEYPOINT_CODECS.build(self.encoder_cfg)
        elif callable(getattr(encoder, 'encode', None)):
            self.encoder_cfg = encoder
            self.encoder = encoder
        else:
            raise TypeError(f'encoder must be a codec config dict or a codec, got {encoder!r}')
        self.use_dataset_keypoint_weights = bool(use_dataset_keypoint_weights)
        self._warned = False

    def transform(self, results: dict) -> dict:
        """Encode; see the class docstring for the keys."""
        keypoints = np.asarray(results['transformed_keypoints'], dtype=np.float32)
        keypoints = keypoints.reshape(-1, keypoints.shape[-2], 2)
        visible = np.asarray(results['keypoints_visible'], dtype=np.float32)
        visible = visible.reshape(keypoints.shape[:2])
        encoded = self.encoder.encode(keypoints, visible)
        weights = np.asarray(encoded['keypoint_weights'], dtype=np.float32)
        if self.use_dataset_keypoint_weights:
            joint_weights = results.get('dataset_keypoint_weights')
            if joint_weights is not None:
                weights = weights * np.asarray(joint_weights, dtype=np.float32).reshape(1, -1)
            elif not self._warned:
                self._warned = True
                print_log("GenerateTarget: use_dataset_keypoint_weights=True but the samples "
                          "carry no 'dataset_keypoint_weights'; using unweighted targets",
                          logger='current', level=logging.WARNING)
        for key in _TARGET_KEYS:
            if key in encoded:
                results[key] = np.asarray(encoded[key], dtype=np.float32)
        results['keypoint_weights'] = weights
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(encoder={self.encoder_cfg!r}, '
                f'use_dataset_keypoint_weights={self.use_dataset_keypoint_weights})')
