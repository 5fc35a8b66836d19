"""One-stage multi-instance estimator: a whole image in, every object's box,
class and (keypoint models) keypoints in image pixels out."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.structures import InstanceData

from customkpt.registry import MODELS
from customkpt.structures import PoseDataSample

from ..estimator import TopdownEstimator

__all__ = ['OneStageEstimator']


@MODELS.register_module()
class OneStageEstimator(TopdownEstimator):
    """Backbone -> neck -> :class:`~customkpt.models.onestage.CentreHead`.

    The building, the flip table (``dataset_meta['flip_indices']``) and the
    flip test are those of :class:`~customkpt.models.TopdownEstimator`; the
    input is the whole (letterboxed, see
    :class:`~customkpt.datasets.transforms.ImageAffine`) image and
    :meth:`predict` decodes every object in it.

    Args:
        category_ids: the COCO category id of each class index (the
            dataset's ``category_ids``, in the same order); ``1 .. C`` by
            default.
        test_cfg: ``flip_test`` (average with the mirrored input; default
            False).
        **kwargs: the other :class:`TopdownEstimator` arguments.
    """

    def __init__(self, backbone: dict, head: dict, neck: dict | None = None,
                 category_ids: Sequence[int] | None = None, test_cfg: dict | None = None,
                 **kwargs) -> None:
        super().__init__(backbone, head, neck=neck, test_cfg=dict(
            dict(flip_test=False), **(test_cfg or {})), **kwargs)
        num_classes = self.head.decoder.num_classes
        ids = list(range(1, num_classes + 1)) if category_ids is None else [
            int(c) for c in category_ids]
        if len(ids) != num_classes:
            raise ValueError(f'OneStageEstimator: {len(ids)} category_ids {ids} for '
                             f'{num_classes} classes (head.decoder.num_classes)')
        self.category_ids = ids

    @property
    def with_keypoints(self) -> bool:
        return bool(self.head.num_keypoints)

    def flip_indices(self, data_samples: Sequence[PoseDataSample] | None = None
                     ) -> list[int]:
        """The keypoint definition's flip table; none for a detector (it has
        no points to swap, so its flip test needs no definition)."""
        if not self.with_keypoints:
            return []
        return super().flip_indices(data_samples)

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: list[PoseDataSample]
                ) -> list[PoseDataSample]:
        """Fill each sample's ``pred_instances`` (numpy, best first):
        ``bboxes`` (N, 4) xyxy image pixels (clipped to the image),
        ``bbox_scores`` (N,) centre scores, ``labels`` (N,) class indices,
        ``category_ids`` (N,) and, for keypoint models, ``keypoints``
        (N, K, 2) image pixels and ``keypoint_scores`` (N, K)."""
        if data_samples is None or len(data_samples) != inputs.shape[0]:
            raise ValueError('predict needs one data sample (with input_size, input_center, '
                             'input_scale in its metainfo) per input')
        outputs = self.predict_outputs(inputs, data_samples)
        sigmas = (self.dataset_meta or {}).get('sigmas')
        for sample, pred in zip(data_samples, self.head.decode(outputs, sigmas)):
            sample.pred_instances = self.to_image(pred, sample.metainfo)
        return data_samples

    def to_image(self, pred: dict[str, np.ndarray], meta: dict) -> InstanceData:
        """The codec's objects (input pixels) as image-pixel ``InstanceData``."""
        missing = [k for k in ('input_size', 'input_center', 'input_scale') if k not in meta]
        if missing:
            raise KeyError(f'data sample metainfo lacks {missing}, needed to map the objects '
                           'back to image pixels')
        codec = self.head.decoder
        if tuple(int(v) for v in meta['input_size']) != codec.input_size:
            raise ValueError(f"the input is {list(meta['input_size'])} but the head's codec "
                             f'decodes {list(codec.input_size)}: set ImageAffine input_size to '
                             "the codec's")
        pred = codec.to_image(pred, meta['input_center'], meta['input_scale'],
                              meta.get('ori_shape'))
        labels = pred['labels'].astype(np.int64)
        out = InstanceData(bboxes=pred['bboxes'], bbox_scores=pred['scores'], labels=labels,
                           category_ids=np.asarray(self.category_ids, np.int64)[labels])
        if 'keypoints' in pred:
            out.keypoints = pred['keypoints']
            out.keypoint_scores = pred['keypoint_scores']
        return out
