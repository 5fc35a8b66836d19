"""The COCO evaluation backend: ground truth as COCO dicts and COCOeval runs
(faster-coco-eval, ``pycocotools`` or ``xtcocotools``; see
:mod:`~customkpt.evaluation.coco_backends`) with a definition's own sigmas."""
from __future__ import annotations

import contextlib
import copy
import io
import json
import logging

import numpy as np
from mmengine.fileio import get_local_path
from mmengine.logging import print_log

from .coco_backends import BACKENDS, coco_backend, load_results, make_keypoint_eval

__all__ = ['COCO_KEYPOINT_STATS', 'BACKENDS', 'BOX_AREA_FACTOR', 'coco_backend', 'load_coco_gt',
           'gt_from_results', 'evaluate_keypoints']

#: Summary names, in the order of COCOeval's ``stats`` for keypoints.
COCO_KEYPOINT_STATS = ('AP', 'AP .5', 'AP .75', 'AP (M)', 'AP (L)', 'AR', 'AR .5', 'AR .75',
                       'AR (M)', 'AR (L)')
#: xtcocotools' object-area estimate from a box when ``use_area=False``.
BOX_AREA_FACTOR = 0.53


def load_coco_gt(ann_file: str) -> dict:
    """The annotation file's images, keypoint categories and their
    annotations, with missing ``num_keypoints``/``iscrowd``/``area``/
    ``bbox`` filled in."""
    with get_local_path(ann_file) as local:
        with open(local, encoding='utf-8') as f:
            data = json.load(f)
    cats = [c for c in data.get('categories', []) if c.get('keypoints')]
    if not cats:
        cats = list(data.get('categories', []))
    if not cats:
        raise ValueError(f'{ann_file}: no categories')
    cat_ids = {c['id'] for c in cats}
    anns = []
    for ann in data.get('annotations', []):
        if ann.get('category_id', cats[0]['id']) not in cat_ids or 'keypoints' not in ann:
            continue
        ann = dict(ann)
        ann.pop('segmentation', None)
        ann.setdefault('category_id', cats[0]['id'])
        kp = np.asarray(ann['keypoints'], dtype=np.float64).reshape(-1, 3)
        lab = kp[:, 2] > 0
        ann.setdefault('num_keypoints', int(lab.sum()))
        ann.setdefault('iscrowd', 0)
        if 'bbox' not in ann:
            if lab.any():
                lo, hi = kp[lab, :2].min(0), kp[lab, :2].max(0)
                ann['bbox'] = [lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]]
            else:
                ann['bbox'] = [0.0, 0.0, 0.0, 0.0]
        ann.setdefault('area', float(ann['bbox'][2] * ann['bbox'][3]))
        anns.append(ann)
    images = [dict(id=img['id'], width=img.get('width'), height=img.get('height'))
              for img in data.get('images', [])]
    return dict(images=images, categories=cats, annotations=anns)


def gt_from_results(results: list, category_id: int, num_kpts: int) -> dict:
    """A COCO ground-truth dict from the samples' gt instances (one
    annotation per distinct (image, annotation id))."""
    images: dict[int, dict] = {}
    anns: list[dict] = []
    seen: set = set()
    for res in results:
        gt = res['gt']
        img_id = gt['img_id']
        img = images.setdefault(img_id, dict(id=img_id))
        if gt['width'] is not None:
            img.update(width=gt['width'], height=gt['height'])
        kpts, vis = gt['keypoints'], gt['visible']
        if kpts.shape[1] != num_kpts:
            raise ValueError(f'ground truth has {kpts.shape[1]} keypoints, predictions '
                             f'{num_kpts}')
        for i in range(kpts.shape[0]):
            if gt['ids'] is not None:
                key = (img_id, gt['ids'][i])
                if key in seen:
                    continue
                seen.add(key)
            v = np.where(vis[i] > 0, np.clip(np.round(vis[i]), 1, 2), 0)
            flat = np.concatenate([np.where(v[:, None] > 0, kpts[i], 0.0), v[:, None]],
                                  axis=1).reshape(-1)
            x1, y1, x2, y2 = gt['bboxes'][i].tolist()
            anns.append(dict(image_id=img_id, category_id=category_id, iscrowd=0,
                             keypoints=flat.tolist(), num_keypoints=int((v > 0).sum()),
                             bbox=[x1, y1, x2 - x1, y2 - y1], area=float(gt['areas'][i])))
    return dict(images=sorted(images.values(), key=lambda d: d['id']),
                categories=[dict(id=category_id, name='object',
                                 keypoints=[f'kpt{i}' for i in range(num_kpts)])],
                annotations=anns)


def _renumbered(gt: dict, num_kpts: int, use_area: bool, backend: str) -> dict:
    """A copy of ``gt`` with annotation ids 1..n (COCOeval treats id 0 as
    unmatched) and, without ``use_area``, box-based areas for the backends
    that do not rescale boxes themselves (all but xtcocotools)."""
    gt = dict(gt)
    anns = []
    for new_id, ann in enumerate(gt['annotations'], start=1):
        ann = dict(ann, id=new_id)
        if len(ann['keypoints']) != 3 * num_kpts:
            raise ValueError(f'ground truth has {len(ann["keypoints"]) // 3} keypoints, '
                             f'predictions {num_kpts}')
        if not use_area and backend != 'xtcocotools':
            ann['area'] = float(ann['bbox'][2] * ann['bbox'][3] * BOX_AREA_FACTOR)
        anns.append(ann)
    gt['annotations'] = anns
    return gt


def evaluate_keypoints(gt: dict, preds: list[dict], sigmas: np.ndarray, backend: str,
                       use_area: bool) -> dict[str, float]:
    """Run COCOeval (keypoints) and return the ten summary numbers.

    Args:
        gt: COCO ground truth (``images``, ``categories``, ``annotations``).
        preds: COCO keypoint results (``image_id``, ``category_id``,
            ``keypoints``, ``score``); those on images outside ``gt`` are
            left out with a warning.
        sigmas: (K,) OKS sigmas.
        backend: one of :data:`BACKENDS` (``'auto'``: faster-coco-eval when
            installed, else pycocotools).
        use_area: use the annotations' ``area`` as OKS scale (else
            ``BOX_AREA_FACTOR`` x the box area).

    Returns:
        :data:`COCO_KEYPOINT_STATS` name -> value.
    """
    backend, coco_cls, eval_cls = coco_backend(backend)
    gt = _renumbered(gt, len(sigmas), use_area, backend)
    img_ids = {img['id'] for img in gt['images']}
    kept = [p for p in preds if p['image_id'] in img_ids]
    if len(kept) < len(preds):
        print_log(f'CocoKeypointMetric: {len(preds) - len(kept)} predictions are on images '
                  'absent from the ground truth and were left out', logger='current',
                  level=logging.WARNING)
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        coco_gt = coco_cls()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        if kept:
            coco_dt = load_results(backend, coco_gt, kept)
        else:
            coco_dt = coco_cls()
            coco_dt.dataset = dict(images=list(gt['images']),
                                   categories=copy.deepcopy(gt['categories']),
                                   annotations=[])
            coco_dt.createIndex()
        ev = make_keypoint_eval(backend, eval_cls, coco_gt, coco_dt, sigmas, use_area)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    print_log(f'CocoKeypointMetric ({backend}):\n{text.getvalue()}', logger='current')
    return {name: float(value) for name, value in zip(COCO_KEYPOINT_STATS, ev.stats)}
