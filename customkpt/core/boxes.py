"""Boxes and instance similarity in numpy: format changes, clipping, boxes
around points, IoU, non-maximum suppression and COCO's OKS.

Boxes are (N, 4) xyxy in image pixels inside the code and xywh at COCO
borders (annotation and result files). N instances, K keypoints; keypoints
are (N, K, 2) (x, y) in image pixels.
"""
from __future__ import annotations

from typing import Sequence, Union

import numpy as np

__all__ = ['AREA_EPS', 'DERIVED_BOX_PADDING', 'DEFAULT_POSE_NMS_THR', 'DEFAULT_CLASS_IDS',
           'xywh_to_xyxy', 'xyxy_to_xywh', 'clip_boxes', 'boxes_from_points', 'box_iou', 'nms',
           'select_detections', 'oks', 'oks_nms']

ArrayLike = Union[np.ndarray, Sequence[float], float]

#: Added to areas so that a zero area does not divide by zero (as COCO does).
AREA_EPS = float(np.spacing(1))
#: Fraction of the labelled-point extent's longer side added on every side of
#: a box derived from points.
DERIVED_BOX_PADDING = 0.25
#: OKS above which the video pipeline (``VideoPoseEstimator``, ``customkpt video
#: --pose-nms``) drops the lower-scored of two poses of one frame.
DEFAULT_POSE_NMS_THR = 0.9
#: Detector classes a box provider keeps unless told otherwise: the first
#: (COCO's person; a detector trained by customkpt on one category has only it).
DEFAULT_CLASS_IDS = (0, )


def xywh_to_xyxy(boxes: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """(N, 4) xywh -> (N, 4) xyxy, in ``dtype`` (float32 by default)."""
    boxes = np.asarray(boxes, dtype=dtype).reshape(-1, 4)
    return np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)


def xyxy_to_xywh(boxes: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """(N, 4) xyxy -> (N, 4) xywh, in ``dtype`` (float32 by default)."""
    boxes = np.asarray(boxes, dtype=dtype).reshape(-1, 4)
    return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)


def clip_boxes(boxes: np.ndarray, width: ArrayLike, height: ArrayLike,
               sort_corners: bool = False, dtype: type = np.float32) -> np.ndarray:
    """Clip (N, 4) xyxy boxes to ``[0, width] x [0, height]``.

    Args:
        boxes: (N, 4) xyxy.
        width: image width, a scalar or (N,) one per box; a NaN leaves that
            upper bound open.
        height: image height, as ``width``.
        sort_corners: first order each box's corners (x1 <= x2, y1 <= y2),
            for boxes whose corners may come swapped.
        dtype: the output dtype.

    Returns:
        (N, 4) clipped boxes in ``dtype`` (a new array; NaN rows stay NaN).
    """
    boxes = np.asarray(boxes).reshape(-1, 4)
    if sort_corners:
        xs, ys = np.sort(boxes[:, 0::2], axis=1), np.sort(boxes[:, 1::2], axis=1)
        boxes = np.stack([xs[:, 0], ys[:, 0], xs[:, 1], ys[:, 1]], axis=1)
    out = np.maximum(boxes, 0)
    widths = np.broadcast_to(np.asarray(width, np.float64), (len(out), ))
    heights = np.broadcast_to(np.asarray(height, np.float64), (len(out), ))
    w = np.where(np.isfinite(widths), widths, np.inf)[:, None]
    h = np.where(np.isfinite(heights), heights, np.inf)[:, None]
    out[:, 0::2] = np.minimum(out[:, 0::2], w)
    out[:, 1::2] = np.minimum(out[:, 1::2], h)
    return out.astype(dtype)


def boxes_from_points(keypoints: np.ndarray, visible: np.ndarray,
                      padding: float = DERIVED_BOX_PADDING, min_margin: float = 0.0,
                      dtype: type = np.float32) -> np.ndarray:
    """Boxes around each instance's labelled points.

    Each box is the points' extent grown on every side by ``padding`` times
    the extent's longer side, and by at least ``min_margin`` pixels (so a
    single point still gets an area). Computed in ``dtype``; nothing is
    clipped (see :func:`clip_boxes`).

    Args:
        keypoints: (N, K, 2) point coordinates.
        visible: (N, K) bool, True where labelled.
        padding: fraction of the extent's longer side added on every side.
        min_margin: smallest margin in pixels on every side.
        dtype: the computation and output dtype.

    Returns:
        (N, 4) xyxy in ``dtype``; NaN rows where an instance has no labelled
        point.
    """
    keypoints = np.asarray(keypoints, dtype=dtype).reshape(len(keypoints), -1, 2)
    visible = np.asarray(visible, dtype=bool).reshape(keypoints.shape[:2])
    x, y = keypoints[..., 0], keypoints[..., 1]
    with np.errstate(invalid='ignore'):
        x0 = np.where(visible, x, np.inf).min(axis=1)
        x1 = np.where(visible, x, -np.inf).max(axis=1)
        y0 = np.where(visible, y, np.inf).min(axis=1)
        y1 = np.where(visible, y, -np.inf).max(axis=1)
        pad = np.maximum(padding * np.maximum(x1 - x0, y1 - y0), min_margin)
        boxes = np.stack([x0 - pad, y0 - pad, x1 + pad, y1 + pad], axis=1)
    boxes[~visible.any(axis=1)] = np.nan
    return boxes.astype(dtype)


def box_iou(a: np.ndarray, b: np.ndarray, over: str = 'union') -> np.ndarray:
    """Overlap matrix of xyxy boxes.

    Args:
        a: (N, 4) xyxy boxes.
        b: (M, 4) xyxy boxes.
        over: ``'union'`` for intersection over union, ``'min'`` for the
            intersection over the smaller box's area.

    Returns:
        (N, M) float64 overlaps; 0 where the denominator is not positive.
    """
    if over not in ('union', 'min'):
        raise ValueError(f"box_iou: over must be 'union' or 'min', got {over!r}")
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(-1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(-1)
    if over == 'min':
        union = np.minimum(area_a[:, None], area_b[None])
    else:
        union = area_a[:, None] + area_b[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_thr: float,
        classes: np.ndarray | None = None) -> np.ndarray:
    """Greedy non-maximum suppression of boxes.

    Args:
        boxes: (N, 4) xyxy.
        scores: (N,).
        iou_thr: a box is dropped when its IoU with a kept, higher-scoring
            box is above this.
        classes: (N,) class ids; boxes of different classes never suppress
            each other. ``None``: one class.

    Returns:
        int64 indices of the kept boxes, highest score first (ties keep the
        input order).
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    order = np.argsort(-np.asarray(scores, np.float64), kind='stable')
    if classes is not None and len(boxes):
        # Shift each class to its own region so that classes never overlap.
        span = float(np.abs(boxes).max()) + 1.0
        boxes = boxes + (np.asarray(classes, np.float64) * 2 * span)[:, None]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        if order.size == 1:
            break
        ious = box_iou(boxes[i:i + 1], boxes[order[1:]])[0]
        order = order[1:][ious <= iou_thr]
    return np.asarray(keep, np.int64)


def select_detections(bboxes: np.ndarray, scores: np.ndarray, labels: np.ndarray,
                      frame_shape: Sequence[int], score_thr: float,
                      class_ids: Sequence[int] | None = None, nms_thr: float | None = None,
                      max_det: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A detector's boxes for top-down crops, best first.

    Keeps the detections scoring at least ``score_thr`` whose label is in
    ``class_ids`` (``None``: every class), runs a per-class :func:`nms` at
    ``nms_thr`` (``None``: none), keeps the ``max_det`` best, clips them to
    the frame of ``frame_shape`` (h, w, ...) and leaves out those left
    without area.

    Args:
        bboxes: (N, 4) xyxy image pixels; scores: (N,); labels: (N,) class indices.

    Returns:
        float32 (M, 4) boxes and (M,) scores.
    """
    bboxes = np.asarray(bboxes, np.float32).reshape(-1, 4)
    scores, labels = np.asarray(scores, np.float32), np.asarray(labels)
    keep = scores >= score_thr
    if class_ids is not None:
        keep &= np.isin(labels, list(class_ids))
    idx = np.flatnonzero(keep)
    order = (nms(bboxes[idx], scores[idx], nms_thr, labels[idx]) if nms_thr is not None
             else np.argsort(-scores[idx], kind='stable'))
    idx = idx[order][:max_det]
    boxes = clip_boxes(bboxes[idx], frame_shape[1], frame_shape[0])
    good = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return boxes[good], scores[idx][good]


def oks(gt_kpts: np.ndarray, gt_vis: np.ndarray, gt_area: ArrayLike, pred: np.ndarray,
        sigmas: ArrayLike, pred_valid: np.ndarray | None = None) -> np.ndarray:
    """Object keypoint similarity of ``M`` predictions to one instance.

    For a counted point ``k`` at squared distance ``d2`` from the prediction,
    the similarity is ``exp(-d2 / (2 * area * (2 * sigma_k) ** 2))`` (COCO's
    definition: the per-point standard deviation is ``2 sigma_k`` times the
    object scale ``sqrt(area)``); OKS is its mean over the counted points.
    A point counts where ``gt_vis > 0`` (and, with ``pred_valid``, where
    the prediction's point is valid too).

    Args:
        gt_kpts: (K, 2) reference keypoints.
        gt_vis: (K,) visibility of the reference points.
        gt_area: the reference's area (scalar), or (M,) one area per
            prediction (OKS-NMS uses the mean of the two instances' areas).
        pred: (M, K, 2) predicted keypoints (a single (K, 2) is accepted).
        sigmas: (K,) per-keypoint OKS sigmas.
        pred_valid: (M, K) bool, the prediction points that may count
            (e.g. confident ones); ``None``: all.

    Returns:
        (M,) float64 OKS values in [0, 1]; 0 for a prediction with no
        counted point (COCO instead measures instances without labelled
        points against their box; this function has no box).
    """
    gt_kpts = np.asarray(gt_kpts, dtype=np.float64).reshape(-1, 2)
    pred = np.asarray(pred, dtype=np.float64)
    if pred.ndim == 2:
        pred = pred[None]
    sigmas = np.asarray(sigmas, dtype=np.float64).reshape(-1)
    num_kpts = gt_kpts.shape[0]
    if pred.shape[1:] != (num_kpts, 2) or sigmas.shape[0] != num_kpts:
        raise ValueError(f'oks: shapes do not agree: gt {gt_kpts.shape}, pred {pred.shape}, '
                         f'sigmas {sigmas.shape}')
    vis = np.asarray(gt_vis).reshape(-1) > 0
    counted = vis[None] if pred_valid is None else (
        vis[None] & np.asarray(pred_valid, dtype=bool).reshape(pred.shape[:2]))
    if not counted.any() or pred.shape[0] == 0:
        return np.zeros(pred.shape[0], dtype=np.float64)
    area = np.asarray(gt_area, dtype=np.float64).reshape(-1, 1)  # (1, 1) or (M, 1)
    variances = (2.0 * sigmas) ** 2  # (K,)
    d2 = ((pred - gt_kpts[None]) ** 2).sum(axis=-1)  # (M, K)
    e = d2 / variances[None] / (area + AREA_EPS) / 2.0
    if pred_valid is None:  # the same points for every prediction
        return np.exp(-e[:, vis]).mean(axis=1)
    count = counted.sum(axis=1)
    total = np.where(counted, np.exp(-e), 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def oks_nms(kpts: np.ndarray, scores: np.ndarray, areas: np.ndarray, sigmas: ArrayLike,
            thr: float = 0.9) -> np.ndarray:
    """Greedy OKS non-maximum suppression of the poses of one image.

    Poses are visited by decreasing score; each kept pose suppresses every
    remaining pose whose OKS to it is above ``thr``. OKS between two poses
    uses all ``K`` points and the mean of the two areas.

    Args:
        kpts: (M, K, 2) predicted keypoints.
        scores: (M,) instance scores.
        areas: (M,) instance areas (pixels^2).
        sigmas: (K,) OKS sigmas.
        thr: suppression threshold; a pose with OKS > ``thr`` to a kept one
            is dropped. A pose with a non-finite point neither suppresses
            nor is suppressed (its OKS is undefined).

    Returns:
        (M',) int64 indices of the kept poses, highest score first.
    """
    kpts = np.asarray(kpts, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    areas = np.asarray(areas, dtype=np.float64).reshape(-1)
    if kpts.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    if not (kpts.shape[0] == scores.shape[0] == areas.shape[0]):
        raise ValueError(f'oks_nms: {kpts.shape[0]} poses, {scores.shape[0]} scores, '
                         f'{areas.shape[0]} areas')
    all_vis = np.ones(kpts.shape[1], dtype=bool)
    order = np.argsort(-scores, kind='stable')
    keep = []
    while order.size > 0:
        top, rest = order[0], order[1:]
        keep.append(top)
        if rest.size == 0:
            break
        sim = oks(kpts[top], all_vis, (areas[top] + areas[rest]) / 2.0, kpts[rest], sigmas)
        order = rest[~(sim > thr)]                # NaN OKS: keep
    return np.asarray(keep, dtype=np.int64)
