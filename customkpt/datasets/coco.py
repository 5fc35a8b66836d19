"""Top-down dataset over a COCO-keypoint annotation file, for any K.

One sample per person (or animal, or object) instance. The keypoint
definition comes from the file's category (``keypoints``, ``skeleton``) and
the config's ``metainfo``, which overrides it.

Two sources of boxes:

* ground truth (training, and evaluation with ground-truth boxes): one sample
  per annotation; crowd annotations and those with ``area == 0`` are skipped,
  and during training also instances with no labelled point;
* a detection file (``bbox_file``, top-down evaluation with a detector): one
  sample per detection of the keypoint category with ``score >=
  bbox_score_thr``; keypoints are zeros and ``id`` is the running index of the
  kept detections.

A missing ``bbox`` is derived from the labelled points: their extent, padded
on every side by 25% of its longer side (a box that also covers the body
between and beyond the outermost points), then clipped to the image.

The file is parsed with the standard ``json`` module and numpy (no
pycocotools index), so a file with 100k annotations loads in seconds.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Mapping

import numpy as np
from mmengine.logging import print_log

from ..core.boxes import boxes_from_points, clip_boxes, xywh_to_xyxy
from ..meta import KeypointMeta, KeypointMetaError
from ..registry import DATASETS
from .base import BaseKeypointDataset
from .validation import (DatasetValidationError, ValidationReport, read_json, validate_coco,
                         validate_detections)
from .validation.categories import require_category
from .validation.coco import check_layout
from .validation.records import image_size, is_id


#: Why a valid annotation is left out of the samples (see the module docs).
SKIP_REASONS = {
    'crowd': 'crowd (iscrowd 1)',
    'zero_area': 'area 0',
    'unlabelled': 'no labelled point (training)',
    'empty_box': 'box empty after clipping to the image',
}


def _image_sizes(images: list[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.array([image_size(img) for img in images], dtype=np.float64).reshape(-1, 2)
    return sizes[:, 0], sizes[:, 1]


def _images_by_id(images: list[Any]) -> dict[Any, dict]:
    """The image records with a usable id, by id."""
    return {img['id']: img for img in images if isinstance(img, Mapping) and is_id(img.get('id'))}


def _annotation_boxes(anns: list[Mapping[str, Any]], xy: np.ndarray, visible: np.ndarray,
                      widths: np.ndarray, heights: np.ndarray) -> np.ndarray:
    """float32 (N, 4) xyxy boxes of N annotations, clipped to their images:
    the ``bbox`` where given, else derived from the (N, K, 2) labelled
    points (see the module docs); NaN where neither exists."""
    has_box = np.array([a.get('bbox') is not None for a in anns], dtype=bool)
    boxes = np.full((len(anns), 4), np.nan, dtype=np.float32)
    if has_box.any():
        boxes[has_box] = xywh_to_xyxy([a['bbox'] for a, b in zip(anns, has_box) if b])
    if (~has_box).any():
        boxes[~has_box] = boxes_from_points(xy[~has_box], visible[~has_box])
    return clip_boxes(boxes, widths, heights)


@DATASETS.register_module()
class CocoKeypointDataset(BaseKeypointDataset):
    """COCO-keypoint json, top-down (one sample per instance), any K.

    Args:
        ann_file: the COCO-keypoint json.
        bbox_file: a COCO detection-result json (``[{image_id, bbox (xywh),
            score, category_id}, ...]``); when given, samples are the
            detections (evaluation only: needs ``test_mode=True``).
        use_gt_box: ``True`` for ground-truth boxes, ``False`` for the
            detections of ``bbox_file``; by default ground truth unless a
            ``bbox_file`` is given.
        bbox_score_thr: detections scoring below this are ignored.
        category_id: the category to read when the file has several with
            keypoints.
        **kwargs: :class:`BaseKeypointDataset` arguments (``data_root``,
            ``data_prefix``, ``metainfo``, ``pipeline``, ``test_mode``,
            ``skip_invalid``, ``check_images``, ...).

    Samples hold ``img_path``, ``img_id``, ``id``, ``category_id``, ``bbox``
    (1, 4) xyxy, ``bbox_score`` (1,), ``keypoints`` (1, K, 2),
    ``keypoints_visible`` (1, K), ``area`` (1,), ``iscrowd``,
    ``num_keypoints``, ``flip_indices`` and ``dataset_name``.
    """

    def __init__(self, ann_file: str, bbox_file: str | None = None,
                 use_gt_box: bool | None = None, bbox_score_thr: float = 0.0,
                 category_id: int | None = None, **kwargs: Any) -> None:
        if use_gt_box is None:
            use_gt_box = bbox_file is None
        if use_gt_box and bbox_file is not None:
            raise ValueError('use_gt_box=True contradicts bbox_file: drop one of them')
        if not use_gt_box:
            if bbox_file is None:
                raise ValueError('use_gt_box=False needs a bbox_file of detections')
            if not kwargs.get('test_mode', False):
                raise ValueError('bbox_file (detected boxes, no keypoints) is for evaluation: '
                                 'set test_mode=True')
        self.bbox_file = bbox_file
        self.use_gt_box = use_gt_box
        self.bbox_score_thr = float(bbox_score_thr)
        self.category_id = category_id
        self.category: dict | None = None
        super().__init__(ann_file, **kwargs)

    def _join_prefix(self) -> None:
        super()._join_prefix()
        if self.bbox_file and not os.path.isabs(self.bbox_file) and self.data_root:
            self.bbox_file = os.path.join(self.data_root, self.bbox_file)

    # ---------------------------------------------------------------- read
    def _read_annotations(self) -> tuple[Any, Any]:
        data = read_json(self.ann_file)
        dets = None if self.use_gt_box else read_json(self.bbox_file, 'detection file')
        return data, dets

    def _choose_category(self, data: Any) -> dict | None:
        """The category whose annotations are read (``None``: any)."""
        cats = [c for c in (data.get('categories') or []) if isinstance(c, Mapping)] \
            if isinstance(data, Mapping) else []
        if self.category_id is not None:
            for c in cats:
                if c.get('id') == self.category_id:
                    return dict(c)
            raise ValueError(f'{self.ann_file}: no category with id {self.category_id}; '
                             f'categories: {[(c.get("id"), c.get("name")) for c in cats]}')
        with_points = [c for c in cats if c.get('keypoints')]
        if len(with_points) == 1:
            return dict(with_points[0])
        if len(with_points) > 1:
            raise ValueError(
                f'{self.ann_file}: {len(with_points)} categories list keypoints '
                f'{[(c.get("id"), c.get("name")) for c in with_points]}; choose one with '
                'category_id=...')
        if len(cats) == 1:
            return dict(cats[0])
        if cats:
            raise ValueError(f'{self.ann_file}: {len(cats)} categories and none lists keypoints; '
                             'choose one with category_id=...')
        return None

    def _resolve_meta(self, raw: tuple[Any, Any]) -> KeypointMeta:
        data, _ = raw
        layout = ValidationReport(file=self.ann_file)
        if not check_layout(layout, data):
            raise DatasetValidationError(layout, hint='These errors concern the whole file.')
        self.category = self._choose_category(data)
        require_category(self.ann_file, data, self.category, bool(self.meta_cfg))
        source = (f'metainfo of {self.ann_file}' if self.meta_cfg or self.category is None else
                  f'{self.ann_file}: category {self.category.get("id")} '
                  f'({self.category.get("name", "")!r}) of "categories"')
        meta = KeypointMeta.resolve(self.meta_cfg, category=self.category, source=source)
        names = (self.category or {}).get('keypoints')
        if names and len(names) != meta.num_keypoints:
            raise KeypointMetaError(
                f'{self.ann_file}: category {self.category.get("name")!r} lists '
                f'{len(names)} keypoints {names} but the metainfo defines '
                f'{meta.num_keypoints} {meta.keypoint_names}')
        return meta

    @property
    def _cat_id(self) -> Any:
        return None if self.category is None else self.category.get('id')

    # ------------------------------------------------------------ validate
    def _validate(self, raw: tuple[Any, Any]) -> ValidationReport:
        data, dets = raw
        assert self.meta is not None
        report = validate_coco(data, self.ann_file, self.img_dir, self.meta.num_keypoints,
                               category_id=self._cat_id,
                               check_images=self.check_images if self.use_gt_box else False,
                               test_mode=self.test_mode)
        if self.use_gt_box or report.fatal:
            return report
        # Samples are detections: their problems decide what is skipped; the
        # annotation file's problems are still reported (the metric reads it).
        images = _images_by_id(data['images'])
        dets_report = validate_detections(dets, self.bbox_file, images, self.img_dir,
                                          self.check_images)
        combined = ValidationReport(file=self.bbox_file, num_records=dets_report.num_records,
                                    bad_records=dets_report.bad_records)
        combined.merge(report)
        combined.merge(dets_report)
        return combined

    # --------------------------------------------------------------- parse
    def _parse(self, raw: tuple[Any, Any], skip: set[int]) -> list[dict]:
        data, dets = raw
        images = _images_by_id(data['images'])
        if self.use_gt_box:
            return self._parse_annotations(data['annotations'], images, skip)
        return self._parse_detections(dets, images, skip)

    def _parse_annotations(self, anns: list[dict], images: Mapping[Any, dict],
                           skip: set[int]) -> list[dict]:
        assert self.meta is not None and self.report is not None
        k, cat_id, report = self.meta.num_keypoints, self._cat_id, self.report
        kept: list[dict] = []
        for pos, ann in enumerate(anns):
            if pos in skip or (cat_id is not None and ann.get('category_id', cat_id) != cat_id):
                continue
            if ann.get('iscrowd', 0):
                report.skip(SKIP_REASONS['crowd'], ann.get('id'))
            elif ann.get('area') is not None and ann['area'] <= 0:
                report.skip(SKIP_REASONS['zero_area'], ann.get('id'))
            else:
                kept.append(ann)
        n = len(kept)
        kpts = np.asarray([a['keypoints'] for a in kept], dtype=np.float32).reshape(n, k, 3)
        visible = kpts[..., 2] > 0
        xy = np.where(visible[..., None], kpts[..., :2], 0).astype(np.float32)
        num_labelled = visible.sum(axis=1)

        imgs = [images[a['image_id']] for a in kept]
        boxes = _annotation_boxes(kept, xy, visible, *_image_sizes(imgs))
        box_area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        area = np.array([a['area'] if a.get('area') is not None else np.nan for a in kept],
                        dtype=np.float32).reshape(n)
        area = np.where(np.isfinite(area), area, box_area).astype(np.float32)

        keep = np.ones(n, dtype=bool)
        if not self.test_mode:
            keep &= num_labelled > 0
            for i in np.flatnonzero(~keep):
                report.skip(SKIP_REASONS['unlabelled'], kept[i].get('id'))
        good_box = np.isfinite(box_area) & (box_area > 0)
        for i in np.flatnonzero(keep & ~good_box):
            report.skip(SKIP_REASONS['empty_box'], kept[i].get('id'))
        keep &= good_box

        paths: dict[Any, str] = {}
        data_list = []
        for i in np.flatnonzero(keep):
            ann, img = kept[i], imgs[i]
            path = paths.get(img['id'])
            if path is None:
                path = paths[img['id']] = os.path.join(self.img_dir, img['file_name'])
            data_list.append(dict(
                img_path=path,
                img_id=img['id'], id=ann['id'], category_id=ann.get('category_id', cat_id),
                bbox=boxes[i:i + 1].copy(), bbox_score=np.ones(1, dtype=np.float32),
                keypoints=xy[i:i + 1].copy(),
                keypoints_visible=visible[i:i + 1].astype(np.float32),
                area=area[i:i + 1].copy(), iscrowd=0, num_keypoints=int(num_labelled[i]),
                **self._common_fields()))
        self._log_loaded(len(data_list))
        return data_list

    def _parse_detections(self, dets: list[dict], images: Mapping[Any, dict],
                          skip: set[int]) -> list[dict]:
        assert self.meta is not None
        k, cat_id = self.meta.num_keypoints, self._cat_id
        chosen = [d for pos, d in enumerate(dets) if pos not in skip
                  and (cat_id is None or d.get('category_id', cat_id) == cat_id)
                  and d['score'] >= self.bbox_score_thr]
        n = len(chosen)
        imgs = [images[d['image_id']] for d in chosen]
        widths, heights = _image_sizes(imgs)
        boxes = clip_boxes(xywh_to_xyxy([d['bbox'] for d in chosen]), widths, heights)
        scores = np.array([d['score'] for d in chosen], dtype=np.float32).reshape(n)
        data_list = []
        for i, (det, img) in enumerate(zip(chosen, imgs)):
            box = boxes[i:i + 1].copy()
            data_list.append(dict(
                img_path=os.path.join(self.img_dir, img['file_name']),
                img_id=img['id'], id=i, category_id=det.get('category_id', cat_id),
                bbox=box, bbox_score=scores[i:i + 1].copy(),
                keypoints=np.zeros((1, k, 2), dtype=np.float32),
                keypoints_visible=np.zeros((1, k), dtype=np.float32),
                area=((box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])).astype(np.float32),
                iscrowd=0, num_keypoints=0, **self._common_fields()))
        print_log(f'{type(self).__name__}: {n} of {len(dets)} detections of {self.bbox_file} '
                  f'with score >= {self.bbox_score_thr}', logger='current', level=logging.INFO)
        return data_list

    def _log_loaded(self, n: int) -> None:
        """One line: the instances, and every annotation left out with why."""
        assert self.report is not None
        skipped = self.report.skip_lines(with_file=False)
        print_log(f'{type(self).__name__}: {n} instances from {self.ann_file}'
                  + (f'; {"; ".join(skipped)}' if skipped else ''),
                  logger='current', level=logging.WARNING if skipped else logging.INFO)

