"""Box detections: the COCO detection-results file and COCO box AP.

A detection file is a json list of ``{"image_id": int, "bbox": [x, y, w, h],
"score": float, "category_id": int}`` records (image pixels, xywh), the
format that :class:`~customkpt.datasets.CocoKeypointDataset` reads as
``bbox_file`` for top-down evaluation on detected boxes and that
``--boxes file:`` of ``customkpt video`` reads.

Box AP is COCOeval's (``pycocotools``, ``iouType='bbox'``) against the
annotation file. A ground-truth record without ``bbox`` gets the box the
datasets derive from its labelled points
(:func:`customkpt.core.boxes.boxes_from_points`, clipped to the image), so a
detector is scored against the boxes it was trained on.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import os.path as osp
from typing import Any, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_local_path
from mmengine.logging import print_log

from ..core.arrays import to_numpy
from ..core.boxes import boxes_from_points, clip_boxes, xyxy_to_xywh
from ..registry import METRICS
from .samples import sample_field

__all__ = ['DETECTION_STATS', 'CocoDetectionMetric', 'detection_records',
           'write_detection_file', 'load_box_gt', 'evaluate_boxes']

#: Summary names, in the order of COCOeval's ``stats`` for boxes.
DETECTION_STATS = ('AP', 'AP .5', 'AP .75', 'AP (S)', 'AP (M)', 'AP (L)', 'AR@1', 'AR@10',
                   'AR', 'AR (S)', 'AR (M)', 'AR (L)')


def detection_records(image_id: int, bboxes: np.ndarray, scores: np.ndarray,
                      category_ids: np.ndarray) -> list[dict]:
    """COCO detection records of one image.

    Args:
        image_id: the image's id.
        bboxes: (N, 4) xyxy in image pixels.
        scores: (N,).
        category_ids: (N,) COCO category ids.
    """
    boxes = xyxy_to_xywh(np.asarray(bboxes, np.float64), dtype=np.float64)
    scores = np.asarray(scores, np.float64).reshape(-1)
    cats = np.asarray(category_ids).reshape(-1)
    if not len(boxes) == len(scores) == len(cats):
        raise ValueError(f'detection_records: {len(boxes)} boxes, {len(scores)} scores and '
                         f'{len(cats)} category ids')
    return [dict(image_id=int(image_id), bbox=[round(float(v), 3) for v in box],
                 score=round(float(score), 5), category_id=int(cat))
            for box, score, cat in zip(boxes, scores, cats)]


def write_detection_file(records: Sequence[dict], path: str | os.PathLike) -> str:
    """Write detection records as a json list (folders created); the path."""
    path = str(path)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(json.dumps(list(records)))
    return path


def _gt_box(ann: dict, width: Any, height: Any) -> list[float] | None:
    """The xywh box of a ground-truth record: its ``bbox``, else the
    datasets' box around its labelled points; None without either."""
    if ann.get('bbox') is not None:
        return [float(v) for v in ann['bbox']]
    kpts = np.asarray(ann.get('keypoints') or [], np.float64).reshape(1, -1, 3)
    box = boxes_from_points(kpts[..., :2], kpts[..., 2] > 0)
    box = clip_boxes(box, np.nan if width is None else width,
                     np.nan if height is None else height)
    if not np.isfinite(box).all() or (box[0, 2:] <= box[0, :2]).any():
        return None
    return xyxy_to_xywh(box, dtype=np.float64)[0].tolist()


def load_box_gt(ann_file: str, category_ids: Sequence[int] | None = None) -> dict:
    """The box ground truth of a COCO(-keypoint) file: its images, the
    categories (``category_ids``; all by default) and their annotations with
    ``bbox`` (see the module docs), ``area`` (the box's when absent),
    ``iscrowd`` and ids ``1 .. n``."""
    with get_local_path(ann_file) as local:
        with open(local, encoding='utf-8') as f:
            data = json.load(f)
    cats = list(data.get('categories') or [])
    if category_ids is not None:
        cats = [c for c in cats if c.get('id') in set(category_ids)]
    if not cats:
        raise ValueError(f'{ann_file}: no categories to evaluate boxes of')
    wanted = {c['id'] for c in cats}
    sizes = {img['id']: (img.get('width'), img.get('height')) for img in data.get('images', [])}
    anns = []
    for ann in data.get('annotations', []):
        cat = ann.get('category_id', cats[0]['id'])
        box = _gt_box(ann, *sizes.get(ann.get('image_id'), (None, None)))
        if cat not in wanted or box is None:
            continue
        area = ann.get('area')
        anns.append(dict(id=len(anns) + 1, image_id=ann['image_id'], category_id=cat,
                         bbox=box, iscrowd=int(ann.get('iscrowd', 0) or 0),
                         area=float(box[2] * box[3] if area is None else area)))
    images = [dict(id=i, width=w, height=h) for i, (w, h) in sizes.items()]
    return dict(images=images, categories=[dict(id=c['id'], name=c.get('name', str(c['id'])))
                                           for c in cats], annotations=anns)


def evaluate_boxes(gt: dict, records: Sequence[dict]) -> dict[str, float]:
    """COCOeval box AP/AR of ``records`` against ``gt`` (:func:`load_box_gt`);
    :data:`DETECTION_STATS` name -> value."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    img_ids = {img['id'] for img in gt['images']}
    cat_ids = {c['id'] for c in gt['categories']}
    kept = [dict(r) for r in records if r['image_id'] in img_ids and r['category_id'] in cat_ids]
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        coco_gt = COCO()
        coco_gt.dataset = dict(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(kept) if kept else COCO()
        if not kept:
            coco_dt.dataset = dict(images=list(gt['images']), categories=gt['categories'],
                                   annotations=[])
            coco_dt.createIndex()
        ev = COCOeval(coco_gt, coco_dt, 'bbox')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    print_log(f'CocoDetectionMetric: {len(kept)} detections on {len(img_ids)} images\n'
              f'{text.getvalue()}', logger='current')
    return {name: float(value) for name, value in zip(DETECTION_STATS, ev.stats)}


@METRICS.register_module()
class CocoDetectionMetric(BaseMetric):
    """COCO box AP/AR of predicted boxes (``bbox/AP``, ``bbox/AP .5``, ...).

    Data samples (dicts) need ``img_id`` and ``pred_instances`` with
    ``bboxes`` (N, 4) xyxy image pixels, ``bbox_scores`` (N,) and
    ``category_ids`` (N,) (else ``labels`` (N,) + 1).

    Args:
        ann_file: the COCO(-keypoint) json of the evaluated split.
        category_ids: evaluate these categories (all of the file by default).
        outfile: also write the detections there (a detection file).
        format_only: only write ``outfile``; return no metrics.
        collect_device, prefix, collect_dir: as mmengine's ``BaseMetric``.
    """

    default_prefix: Optional[str] = 'bbox'

    def __init__(self, ann_file: str | None = None,
                 category_ids: Sequence[int] | None = None, outfile: str | None = None,
                 format_only: bool = False, collect_device: str = 'cpu',
                 prefix: str | None = None, collect_dir: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        if format_only and not outfile:
            raise ValueError('CocoDetectionMetric: format_only=True needs an outfile')
        if not format_only and ann_file is None:
            raise ValueError('CocoDetectionMetric needs the ann_file to evaluate against')
        if ann_file is not None and '://' not in str(ann_file) and not osp.isfile(ann_file):
            raise FileNotFoundError(f'CocoDetectionMetric: ann_file {ann_file} not found')
        self.ann_file = ann_file
        self.category_ids = None if category_ids is None else [int(c) for c in category_ids]
        self.outfile = outfile
        self.format_only = bool(format_only)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample.get('pred_instances') or {}
            if 'bboxes' not in pred:
                raise KeyError('CocoDetectionMetric: a data sample has no pred_instances.bboxes')
            boxes = to_numpy(pred['bboxes']).reshape(-1, 4)
            scores = (to_numpy(pred['bbox_scores']) if 'bbox_scores' in pred
                      else np.ones(len(boxes)))
            cats = (to_numpy(pred['category_ids']) if 'category_ids' in pred
                    else to_numpy(pred['labels']) + 1)
            # one entry per sample: mmengine cuts the gathered results to the
            # number of samples
            self.results.append(detection_records(sample_field(sample, 'img_id'), boxes,
                                                  scores, cats))

    def compute_metrics(self, results: list) -> dict[str, float]:
        results = [record for per_image in results for record in per_image]
        if self.outfile:
            write_detection_file(results, self.outfile)
            print_log(f'CocoDetectionMetric: {len(results)} detections written to '
                      f'{self.outfile}', logger='current')
        if self.format_only:
            return {}
        return evaluate_boxes(load_box_gt(self.ann_file, self.category_ids), results)
