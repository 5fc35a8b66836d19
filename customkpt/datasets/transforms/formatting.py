"""Pack a sample into model inputs and a PoseDataSample."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import InstanceData, PixelData

from customkpt.registry import TRANSFORMS
from customkpt.structures import PoseDataSample

__all__ = ['PackPoseInputs', 'DEFAULT_META_KEYS']

DEFAULT_META_KEYS = ('img_id', 'id', 'img_path', 'category_id', 'ori_shape', 'img_shape',
                     'input_size', 'input_center', 'input_scale', 'flip', 'flip_direction',
                     'flip_indices', 'dataset_name')
# sample key -> (gt_instances field, trailing shape of one instance)
_INSTANCE_KEYS = {
    'bbox': ('bboxes', (4,)),
    'bbox_score': ('bbox_scores', ()),
    'keypoints': ('keypoints', None),  # (K, 2)
    'keypoints_visible': ('keypoints_visible', None),  # (K,)
    'area': ('areas', ()),
    'head_size': ('head_size', ()),
}


@TRANSFORMS.register_module()
class PackPoseInputs(BaseTransform):
    """Pack the image and annotations into what the model and metric read.

    Returns ``{'inputs': uint8 tensor (C, h, w) BGR (contiguous),
    'data_samples': PoseDataSample}`` with (see docs/architecture.md):

    - ``metainfo``: each of ``meta_keys`` present in the sample;
    - ``gt_instances``: numpy float32 ``bboxes`` (1, 4), ``bbox_scores``
      (1,), ``keypoints`` (1, K, 2) in image pixels, ``keypoints_visible``
      (1, K), ``areas`` (1,), ``head_size`` (1,), each when present;
    - ``gt_fields.heatmaps``: float32 tensor (K, H, W), when present;
    - ``gt_instance_labels.keypoint_weights``: float32 tensor (1, K), and
      ``keypoint_x_labels`` (1, K, Wx) / ``keypoint_y_labels`` (1, K, Wy)
      (SimCC targets), each when present.

    Required keys:
        img (h, w, C) or (h, w).
    Optional keys:
        bbox, bbox_score, keypoints, keypoints_visible, area, head_size,
        heatmaps, keypoint_weights, keypoint_x_labels, keypoint_y_labels,
        and ``meta_keys``.

    Args:
        meta_keys: sample keys copied into the data sample's metainfo.
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack; see the class docstring."""
        img = np.asarray(results['img'])
        if img.ndim == 2:
            img = img[..., None]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))

        sample = PoseDataSample(metainfo={k: results[k] for k in self.meta_keys if k in results})
        gt = InstanceData()
        for key, (field, tail) in _INSTANCE_KEYS.items():
            value = results.get(key)
            if value is None:
                continue
            value = np.asarray(value, dtype=np.float32)
            if tail is not None:  # scalars and flat boxes -> one instance row
                value = value.reshape(-1, *tail)
            gt.set_field(value, field)
        sample.gt_instances = gt
        labels = _instance_labels(results)
        if labels is not None:
            sample.gt_instance_labels = labels
        if results.get('heatmaps') is not None:
            sample.gt_fields = PixelData(heatmaps=torch.from_numpy(
                np.ascontiguousarray(results['heatmaps'], dtype=np.float32)))
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'


def _instance_labels(results: dict) -> InstanceData | None:
    """``keypoint_weights`` (1, K) and the SimCC labels (1, K, W) as float32
    tensors, or None without weights."""
    if results.get('keypoint_weights') is None:
        return None
    weights = np.asarray(results['keypoint_weights'], dtype=np.float32)
    labels = InstanceData(
        keypoint_weights=torch.from_numpy(weights.reshape(-1, weights.shape[-1])))
    for key in ('keypoint_x_labels', 'keypoint_y_labels'):
        if results.get(key) is not None:
            value = np.asarray(results[key], dtype=np.float32)
            labels.set_field(torch.from_numpy(
                np.ascontiguousarray(value.reshape(-1, *value.shape[-2:]))), key)
    return labels
