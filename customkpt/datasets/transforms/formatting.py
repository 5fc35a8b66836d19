"""Pack a sample into model inputs and a PoseDataSample."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import InstanceData, PixelData

from customkpt.registry import TRANSFORMS
from customkpt.structures import PoseDataSample

DEFAULT_META_KEYS = ('img_id', 'id', 'img_path', 'category_id', 'ori_shape', 'img_shape',
                     'input_size', 'input_center', 'input_scale', 'flip', 'flip_direction',
                     'flip_indices', 'dataset_name')
# sample key -> gt_instances field
_INSTANCE_KEYS = {'bbox': 'bboxes', 'bbox_score': 'bbox_scores', 'keypoints': 'keypoints',
                  'keypoints_visible': 'keypoints_visible', 'area': 'areas',
                  'head_size': 'head_size'}


@TRANSFORMS.register_module()
class PackPoseInputs(BaseTransform):
    """Pack the image as a uint8 (3, h, w) BGR tensor and the annotations as a
    :class:`PoseDataSample` (see docs/architecture.md for the fields).

    Required keys: img. Optional keys: the instance keys above, heatmaps,
    keypoint_weights, and ``meta_keys``.
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        sample = PoseDataSample(metainfo={k: results[k] for k in self.meta_keys if k in results})
        gt = InstanceData()
        for key, field in _INSTANCE_KEYS.items():
            if results.get(key) is not None:
                gt.set_field(np.asarray(results[key], dtype=np.float32), field)
        sample.gt_instances = gt
        if results.get('keypoint_weights') is not None:
            sample.gt_instance_labels = InstanceData(
                keypoint_weights=torch.from_numpy(
                    np.asarray(results['keypoint_weights'], dtype=np.float32)))
        if results.get('heatmaps') is not None:
            sample.gt_fields = PixelData(
                heatmaps=torch.from_numpy(np.asarray(results['heatmaps'], dtype=np.float32)))
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
