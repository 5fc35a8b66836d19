"""One-stage models at inference: whole images in, every object out.

* :class:`OneStagePredictor`: a trained :class:`~customkpt.models.OneStageEstimator`
  (config + checkpoint) on images; the same call as
  :class:`customkpt.deploy.OnnxOneStagePredictor`, its ONNX counterpart.
* :class:`OneStageDetectorBoxes`: either of them as a box provider
  (:data:`customkpt.registry.BOX_PROVIDERS`) for top-down models on video:
  score threshold, class filter, NMS. See :mod:`customkpt.apis.boxes` for
  the provider contract.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from customkpt.core.boxes import DEFAULT_CLASS_IDS, select_detections
from customkpt.registry import BOX_PROVIDERS

from .boxes import Boxes
from .inference import _read_image, init_model, test_pipeline_of

__all__ = ['OneStagePredictor', 'OneStageDetectorBoxes']


class OneStagePredictor:
    """A whole image in, its objects in image pixels out, on the torch model.

    Args:
        model: from :func:`~customkpt.apis.init_model`, or a config path
            (then ``checkpoint`` and ``device`` go to ``init_model``).

    Attributes:
        meta: the keypoint definition; category_ids: COCO category per class.
    """

    def __init__(self, model: torch.nn.Module | str | Path, checkpoint: str | Path | None = None,
                 device: str = 'cpu') -> None:
        if not isinstance(model, torch.nn.Module):
            model = init_model(model, checkpoint, device)
        if not hasattr(model, 'category_ids'):
            raise TypeError(f'OneStagePredictor needs a one-stage model (OneStageEstimator), got '
                            f'{type(model).__name__}')
        self.model = model
        self.meta = dict(getattr(model, 'dataset_meta', None) or {})
        self.category_ids = list(model.category_ids)
        self.pipeline = test_pipeline_of(model.cfg)

    @torch.no_grad()
    def __call__(self, img: np.ndarray | str | os.PathLike) -> dict[str, np.ndarray]:
        """Objects of one image, best first: ``bboxes`` float32 (N, 4) xyxy,
        ``scores`` (N,), ``labels`` (N,), ``category_ids`` (N,) and, for
        keypoint models, ``keypoints`` (N, K, 2) and ``keypoint_scores`` (N, K)."""
        image, path = _read_image(img)
        h, w = image.shape[:2]
        info: dict[str, Any] = dict(img=image, img_path=path, img_shape=(h, w), ori_shape=(h, w))
        sample = self.model.test_step(pseudo_collate([self.pipeline(info)]))[0]
        pred = sample.pred_instances
        out = dict(bboxes=np.asarray(pred.bboxes, np.float32).reshape(-1, 4),
                   scores=np.asarray(pred.bbox_scores, np.float32),
                   labels=np.asarray(pred.labels, np.int64),
                   category_ids=np.asarray(pred.category_ids, np.int64))
        if 'keypoints' in pred:
            out['keypoints'] = np.asarray(pred.keypoints, np.float32)
            out['keypoint_scores'] = np.asarray(pred.keypoint_scores, np.float32)
        return out


def _predictor(onnx_path: str | Path | None, config: str | Path | None,
               checkpoint: str | Path | None, device: str) -> Any:
    if (onnx_path is None) == (config is None):
        raise ValueError('OneStageDetectorBoxes: give either onnx_path or config (with '
                         'checkpoint)')
    if onnx_path is not None:
        from customkpt.deploy import OnnxOneStagePredictor
        return OnnxOneStagePredictor(onnx_path)
    return OneStagePredictor(config, checkpoint, device)


@BOX_PROVIDERS.register_module()
class OneStageDetectorBoxes:
    """Boxes of a one-stage model (a detector, or a keypoint model whose
    boxes are used) every frame.

    Args:
        onnx_path: an exported one-stage model (``customkpt export``), or
        config, checkpoint: a trained one (run with torch on ``device``).
        score_thr: lowest box score kept.
        class_ids: class indices kept (0 is the first of the config's
            ``category_ids``); ``None`` keeps all.
        nms_thr: IoU threshold of a per-class NMS after the model's own
            decoding; ``None``: the model's decoding alone.
        max_det: most boxes per frame.
        device: torch device of a checkpoint.
    """

    def __init__(self, onnx_path: str | Path | None = None, config: str | Path | None = None,
                 checkpoint: str | Path | None = None, score_thr: float = 0.25,
                 class_ids: Sequence[int] | None = DEFAULT_CLASS_IDS,
                 nms_thr: float | None = None, max_det: int = 100, device: str = 'cpu') -> None:
        self.predictor = _predictor(onnx_path, config, checkpoint, device)
        self.score_thr = float(score_thr)
        self.class_ids = None if class_ids is None else [int(c) for c in class_ids]
        self.nms_thr = None if nms_thr is None else float(nms_thr)
        self.max_det = int(max_det)

    def __call__(self, frame: np.ndarray, frame_idx: int,
                 previous: Mapping[str, Any] | None = None) -> Boxes:
        pred = self.predictor(frame)
        return select_detections(pred['bboxes'], pred['scores'], pred['labels'], frame.shape,
                                 self.score_thr, self.class_ids, self.nms_thr, self.max_det)
