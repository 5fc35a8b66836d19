"""Whole-image dataset over a COCO-keypoint file, for one-stage models.

One sample per image with every instance of the chosen categories in it;
the class of an instance is the position of its category in
``category_ids`` (all the file's categories, by id, when not given). The
file is validated as for :class:`~customkpt.datasets.CocoKeypointDataset`
(every annotation is a COCO-keypoint record), and boxes come from ``bbox``,
or from the labelled points when a record has none (the same rule:
:func:`customkpt.core.boxes.boxes_from_points`, clipped to the image).

Several categories may list keypoints when they all list the same number K:
the keypoint definition is the first one's (or the config's ``metainfo``);
categories without keypoints give boxes whose points are all unlabelled.
Crowd annotations and those with ``area == 0`` are left out (counted in the
report). In training, images without an instance are left out unless
``filter_empty=False``; for evaluation every image is kept.
"""
from __future__ import annotations

import logging
import os
from collections import defaultdict
from typing import Any, Mapping, Sequence

import numpy as np
from mmengine.logging import print_log

from ..registry import DATASETS
from .coco import SKIP_REASONS, CocoKeypointDataset, _annotation_boxes, _images_by_id
from .validation.records import image_size

__all__ = ['CocoImageDataset']


@DATASETS.register_module()
class CocoImageDataset(CocoKeypointDataset):
    """COCO-keypoint json, one sample per image with all its instances.

    Args:
        ann_file: the COCO-keypoint json.
        category_ids: the categories read, in class order; ``None``: all
            categories of the file, sorted by id.
        filter_empty: leave out training images without an instance.
        **kwargs: :class:`~customkpt.datasets.BaseKeypointDataset` arguments
            (``data_root``, ``data_prefix``, ``metainfo``, ``pipeline``,
            ``test_mode``, ...). Detection files (``bbox_file``) are for
            top-down datasets and are refused.

    Samples hold ``img_path``, ``img_id``, ``id`` (N annotation ids),
    ``bbox`` float32 (N, 4) xyxy, ``bbox_label`` int64 (N,), ``bbox_score``
    (N,) ones, ``keypoints`` (N, K, 2), ``keypoints_visible`` (N, K),
    ``area`` (N,), ``flip_indices`` and ``dataset_name``.

    Attributes:
        classes: the chosen category records, in class order.
    """

    def __init__(self, ann_file: str, category_ids: Sequence[int] | None = None,
                 filter_empty: bool = True, **kwargs: Any) -> None:
        for key in ('bbox_file', 'use_gt_box', 'category_id'):
            if kwargs.get(key) is not None:
                raise ValueError(f'CocoImageDataset takes no {key} (whole images with their '
                                 'ground truth; category_ids chooses the categories)')
        self.category_ids = None if category_ids is None else [int(c) for c in category_ids]
        self.filter_empty = bool(filter_empty)
        self.classes: list[dict] = []
        super().__init__(ann_file, **kwargs)

    # ---------------------------------------------------------- categories
    def _choose_category(self, data: Any) -> dict | None:
        """Fix :attr:`classes`; the category whose keypoints define the points."""
        cats = [dict(c) for c in (data.get('categories') or []) if isinstance(c, Mapping)] \
            if isinstance(data, Mapping) else []
        by_id = {c.get('id'): c for c in cats}
        if self.category_ids is None:
            chosen = sorted(cats, key=lambda c: (not isinstance(c.get('id'), int),
                                                 str(c.get('id')).zfill(20)))
        else:
            missing = [c for c in self.category_ids if c not in by_id]
            if missing:
                raise ValueError(f'{self.ann_file}: no categories with ids {missing}; '
                                 f'categories: {[(c.get("id"), c.get("name")) for c in cats]}')
            chosen = [by_id[c] for c in self.category_ids]
        if not chosen:
            raise ValueError(f'{self.ann_file}: no "categories" to read classes from')
        self.classes = chosen
        with_points = [c for c in chosen if c.get('keypoints')]
        counts = {len(c['keypoints']) for c in with_points}
        if len(counts) > 1:
            listed = [(c.get('id'), len(c['keypoints'])) for c in with_points]
            raise ValueError(f'{self.ann_file}: the categories (id, K) {listed} list different '
                             'numbers of keypoints; one model has one keypoint definition: '
                             'choose categories with category_ids=[...]')
        return with_points[0] if with_points else chosen[0]

    @property
    def _cat_id(self) -> Any:
        return None  # every category is validated and read

    # --------------------------------------------------------------- parse
    def _parse(self, raw: tuple[Any, Any], skip: set[int]) -> list[dict]:
        data, _ = raw
        assert self.report is not None
        images = _images_by_id(data['images'])
        label_of = {c.get('id'): i for i, c in enumerate(self.classes)}
        per_image: dict[Any, list[dict]] = defaultdict(list)
        for pos, ann in enumerate(data['annotations']):
            if pos in skip:
                continue
            cat = ann.get('category_id', self.classes[0].get('id'))
            if cat not in label_of:
                self.report.skip(f'category_id {cat} is not among category_ids', ann.get('id'))
            elif ann.get('iscrowd', 0):
                self.report.skip(SKIP_REASONS['crowd'], ann.get('id'))
            elif ann.get('area') is not None and ann['area'] <= 0:
                self.report.skip(SKIP_REASONS['zero_area'], ann.get('id'))
            else:
                per_image[ann['image_id']].append(ann)
        data_list = []
        for img_id, img in images.items():
            sample = self._image_sample(img, per_image.get(img_id, []), label_of)
            if len(sample['bbox']) or self.test_mode or not self.filter_empty:
                data_list.append(sample)
        num = sum(len(s['bbox']) for s in data_list)
        skipped = self.report.skip_lines(with_file=False)
        print_log(f'{type(self).__name__}: {len(data_list)} images, {num} instances of '
                  f'{len(self.classes)} classes from {self.ann_file}'
                  + (f'; {"; ".join(skipped)}' if skipped else ''), logger='current',
                  level=logging.WARNING if skipped else logging.INFO)
        return data_list

    def _image_sample(self, img: Mapping[str, Any], anns: list[dict],
                      label_of: Mapping[Any, int]) -> dict:
        """The sample of one image and its (kept) annotations."""
        assert self.meta is not None and self.report is not None
        n, k = len(anns), self.meta.num_keypoints
        kpts = np.asarray([a['keypoints'] for a in anns], np.float32).reshape(n, k, 3)
        visible = kpts[..., 2] > 0
        xy = np.where(visible[..., None], kpts[..., :2], 0).astype(np.float32)
        width, height = image_size(img)
        boxes = _annotation_boxes(anns, xy, visible, np.full(n, width), np.full(n, height))
        box_area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        good = np.isfinite(box_area) & (box_area > 0)
        for i in np.flatnonzero(~good):
            self.report.skip(SKIP_REASONS['empty_box'], anns[i].get('id'))
        area = np.array([a['area'] if a.get('area') is not None else np.nan for a in anns],
                        np.float32).reshape(n)
        area = np.where(np.isfinite(area), area, box_area)
        return dict(
            img_path=os.path.join(self.img_dir, img['file_name']), img_id=img['id'],
            id=[anns[i].get('id') for i in np.flatnonzero(good)],
            bbox=boxes[good].astype(np.float32),
            bbox_label=np.array([label_of[a.get('category_id', self.classes[0].get('id'))]
                                 for a in anns], np.int64).reshape(n)[good],
            bbox_score=np.ones(int(good.sum()), np.float32),
            keypoints=xy[good], keypoints_visible=visible[good].astype(np.float32),
            area=area[good].astype(np.float32), **self._common_fields())
