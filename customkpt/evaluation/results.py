"""COCO keypoint results: scoring, OKS-NMS and the results json."""
from __future__ import annotations

import json
import os
import os.path as osp
from collections import defaultdict
from typing import Any, Callable

import numpy as np
from mmengine.logging import print_log

from ..core.boxes import oks_nms
from .functional import rescore_instances

__all__ = ['NMS_MODES', 'coco_predictions', 'write_results']

NMS_MODES = ('oks_nms', 'none')


def coco_predictions(results: list, sigmas: np.ndarray, category_of: Callable[[Any], int],
                     score_mode: str, keypoint_score_thr: float, nms_mode: str,
                     nms_thr: float) -> list[dict]:
    """COCO result dicts: rescored, OKS-NMS'd per image, sorted by image
    id then score.

    Args:
        results: the metric's per-sample results (``img_id``, ``category_id``
            or per instance ``category_ids`` (N,), ``keypoints`` (N, K, 2),
            ``keypoint_scores`` (N, K), ``bbox_scores`` (N,), ``areas`` (N,)).
        sigmas: (K,) OKS sigmas, for OKS-NMS.
        category_of: a sample's ``category_id`` -> the category written.
        score_mode: see :func:`customkpt.evaluation.functional.rescore_instances`.
        keypoint_score_thr: as ``score_mode``.
        nms_mode: ``'oks_nms'`` or ``'none'``.
        nms_thr: OKS above which the lower-scored pose is dropped.
    """
    per_image: dict[int, list[dict]] = defaultdict(list)
    for res in results:
        if res['keypoints'].shape[0]:
            per_image[res['img_id']].append(res)
    out = []
    for img_id in sorted(per_image):
        group = per_image[img_id]
        kpts = np.concatenate([r['keypoints'] for r in group]).astype(np.float64)
        kscores = np.concatenate([r['keypoint_scores'] for r in group]).astype(np.float64)
        bscores = np.concatenate([r['bbox_scores'] for r in group]).astype(np.float64)
        areas = np.concatenate([r['areas'] for r in group]).astype(np.float64)
        cats = [category_of(c) for r in group
                for c in r.get('category_ids', [r['category_id']] * r['keypoints'].shape[0])]
        scores = rescore_instances(kscores, bscores, score_mode,
                                   keypoint_score_thr)
        if nms_mode == 'oks_nms':
            keep = oks_nms(kpts, scores, areas, sigmas, nms_thr)
        else:
            keep = np.argsort(-scores, kind='stable')
        for i in keep:
            flat = np.concatenate([kpts[i], kscores[i][:, None]], axis=1).reshape(-1)
            out.append(dict(image_id=int(img_id), category_id=int(cats[i]),
                            keypoints=flat.tolist(), score=float(scores[i])))
    return out


def write_results(preds: list[dict], path: str) -> None:
    """Write the COCO results json (folders created)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(json.dumps(preds))  # dumps uses the C encoder, dump does not
    print_log(f'CocoKeypointMetric: {len(preds)} predictions written to {path}',
              logger='current')
