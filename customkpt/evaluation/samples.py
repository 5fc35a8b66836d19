"""Reading predictions and ground truth out of data samples (as mmengine passes
them: dicts, tensors or numpy arrays)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core.arrays import to_numpy

__all__ = ['sample_field', 'box_areas', 'bbox_scores', 'instance_areas',
           'gt_of_sample']


def sample_field(sample: dict, key: str, default: Any = None) -> Any:
    """``sample[key]``, also looking inside a nested ``metainfo`` dict.

    ``BaseDataElement.to_dict`` puts metainfo keys at the top level; a dict
    built by hand may keep them under ``metainfo``.
    """
    if key in sample:
        return sample[key]
    meta = sample.get('metainfo')
    if isinstance(meta, dict) and key in meta:
        return meta[key]
    return default


def box_areas(bboxes: np.ndarray) -> np.ndarray:
    """(N,) areas of (N, 4) xyxy boxes."""
    b = bboxes.reshape(-1, 4).astype(np.float64)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def bbox_scores(pred: dict, gt: dict, num: int) -> np.ndarray:
    """(N,) box scores of a sample's predictions: predicted, else ground-truth
    (detector) scores, else ones."""
    for source in (pred, gt):
        if source.get('bbox_scores') is not None:
            s = to_numpy(source['bbox_scores']).astype(np.float32).reshape(-1)
            if s.shape[0] == num:
                return s
    return np.ones(num, np.float32)


def instance_areas(pred: dict, gt: dict, kpts: np.ndarray) -> np.ndarray:
    """(N,) areas of a sample's predictions, for OKS-NMS (see
    :mod:`customkpt.evaluation.coco_metric` for the order of preference)."""
    num = kpts.shape[0]
    if pred.get('areas') is not None:
        a = to_numpy(pred['areas']).astype(np.float64).reshape(-1)
        if a.shape[0] == num:
            return a
    for source in (pred, gt):
        if source.get('bboxes') is not None:
            b = to_numpy(source['bboxes'])
            if b.size == 4 * num:
                return box_areas(b)
    if num == 0:
        return np.zeros(0)
    ext = kpts.max(axis=1) - kpts.min(axis=1)
    return (ext[:, 0] * ext[:, 1]).astype(np.float64)


def gt_of_sample(sample: dict, gt: dict, img_id: int) -> dict:
    """The ground-truth instances of one sample, as numpy."""
    if 'keypoints' not in gt:
        raise KeyError('CocoKeypointMetric(ann_file=None) builds the ground truth from '
                       'gt_instances, but a sample has no gt_instances.keypoints; give '
                       'ann_file')
    kpts = to_numpy(gt['keypoints']).astype(np.float64)
    kpts = kpts[None] if kpts.ndim == 2 else kpts
    num, num_kpts = kpts.shape[:2]
    vis = gt.get('keypoints_visible')
    vis = (np.ones((num, num_kpts)) if vis is None else
           to_numpy(vis).astype(np.float64).reshape(num, num_kpts))
    if gt.get('bbox_scores') is not None:
        box_scores = to_numpy(gt['bbox_scores']).reshape(-1)
        if np.any(np.abs(box_scores - 1) > 1e-6):
            raise ValueError(
                'CocoKeypointMetric(ann_file=None) builds the ground truth from the '
                'samples, but these carry detection boxes (gt bbox_scores != 1) and no '
                'ground-truth keypoints: give ann_file')
    if gt.get('bboxes') is not None:
        bboxes = to_numpy(gt['bboxes']).astype(np.float64).reshape(num, 4)
    else:
        lab = vis > 0
        lo = np.where(lab[..., None], kpts, np.inf).min(axis=1)
        hi = np.where(lab[..., None], kpts, -np.inf).max(axis=1)
        bboxes = np.where(np.isfinite(lo).all(1, keepdims=True) & np.isfinite(hi).all(
            1, keepdims=True), np.concatenate([lo, hi], axis=1), 0.0)
    areas = (to_numpy(gt['areas']).astype(np.float64).reshape(num)
             if gt.get('areas') is not None else box_areas(bboxes))
    ann_id = sample_field(sample, 'id')
    ids = None if ann_id is None else [int(i) for i in np.atleast_1d(to_numpy(ann_id))]
    if ids is not None and len(ids) != num:
        ids = None
    shape = sample_field(sample, 'ori_shape')
    return dict(img_id=img_id, ids=ids, keypoints=kpts, visible=vis, bboxes=bboxes,
                areas=areas, category_id=sample_field(sample, 'category_id'),
                height=None if shape is None else int(shape[0]),
                width=None if shape is None else int(shape[1]))
