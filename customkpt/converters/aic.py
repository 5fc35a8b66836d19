"""AI Challenger keypoint annotations -> COCO-keypoint json.

Input: the original AI Challenger annotation json, a list of records::

    {"image_id": "054d9ce9...",            # the image is <image_id>.jpg
     "keypoint_annotations": {"human1": [x, y, v] * 14, ...},
     "human_annotations": {"human1": [x1, y1, x2, y2], ...}}

AI Challenger's visibility is 1 = visible, 2 = labelled but occluded,
3 = not labelled; it becomes COCO's ``v`` 2, 1 and 0 (unlabelled points are
written ``0, 0, 0``). Coordinates are kept as they are. The human box is
clipped to the image; a human without one gets a box from its points.
Humans without any labelled point are skipped.

Images are looked up in ``images_dir`` (default: the json's folder), which
is the image root; ``file_name`` is ``<image_id>.jpg``. Images keep the
order of the records, humans the natural order of their keys (``human2``
before ``human10``). The keypoint names are
:data:`customkpt.core.presets.AIC_NAMES`, in AI
Challenger's order, with COCO's spelling for the limb points.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..core.presets import AIC_FLIP_PAIRS, AIC_NAMES, AIC_SKELETON
from .builder import CocoBuilder, ConversionResult, person_builder
from .common import (DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, ConversionError, keypoint_triples,
                     natural_key, read_record_list)

#: AI Challenger visibility -> COCO visibility.
AIC_TO_COCO_VISIBILITY = {1: 2, 2: 1, 3: 0}


def _image_file(image_id: str) -> str:
    return image_id if image_id.lower().endswith(('.jpg', '.jpeg', '.png')) else image_id + '.jpg'


def _keypoints(values: Any, where: str) -> np.ndarray:
    """(14, 3) COCO ``x, y, v`` from an AI Challenger triple list."""
    k = len(AIC_NAMES)
    arr = keypoint_triples(values, k, where)
    out = np.zeros((k, 3), dtype=np.float64)
    for j, (x, y, v) in enumerate(arr):
        if v not in AIC_TO_COCO_VISIBILITY:
            raise ConversionError(f'{where}: keypoint {j} ({AIC_NAMES[j]}) has visibility {v:g}; '
                                  'AI Challenger uses 1 (visible), 2 (occluded), 3 (not '
                                  'labelled)')
        coco_v = AIC_TO_COCO_VISIBILITY[int(v)]
        if coco_v:
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ConversionError(f'{where}: keypoint {j} ({AIC_NAMES[j]}) is labelled but '
                                      f'has coordinates {x}, {y}')
            out[j] = (x, y, coco_v)
    return out


def _box(value: Any, where: str) -> list[float] | None:
    if value is None:
        return None
    try:
        box = [float(v) for v in value]
    except (TypeError, ValueError):
        box = []
    if len(box) != 4 or not all(math.isfinite(v) for v in box):
        raise ConversionError(f'{where}: expected a box [x1, y1, x2, y2], got {value!r}')
    return box


def convert_aic(ann_file: str | Path, images_dir: str | Path | None = None,
                bbox_pad: float = DEFAULT_BBOX_PAD, min_margin: float = DEFAULT_MIN_MARGIN,
                category_name: str = 'person', progress: bool = True) -> ConversionResult:
    """Convert an AI Challenger keypoint annotation file.

    Args:
        ann_file: the annotation json (a list of records).
        images_dir: the image folder; default: the json's folder.
        bbox_pad: padding of boxes derived from points (humans without a box).
        min_margin: smallest box margin in pixels.
        category_name: category (and dataset) name.
        progress: show a progress bar.

    Returns:
        The converted dataset; its image root is ``images_dir``.

    Raises:
        ConversionError: malformed records (naming the record and human),
            unknown visibility values, missing images.
    """
    ann_file, records, root = read_record_list(ann_file, images_dir, 'AI Challenger',
                                               'AI Challenger records')
    builder = person_builder(category_name, AIC_NAMES, AIC_SKELETON, AIC_FLIP_PAIRS,
                             'AI Challenger', bbox_pad, min_margin)
    seen: dict[str, int] = {}
    derived = 0
    for pos, rec in enumerate(tqdm(records, desc='aic', unit='img', disable=not progress)):
        derived += _add_record(builder, rec, f'{ann_file}: record {pos}', pos, seen, root)
    if derived:
        builder.note(f'{derived} human(s) without a human_annotations box: box derived '
                     'from the points')
    return builder.finish(root, 'aic')


def _add_record(builder: CocoBuilder, rec: Any, where: str, pos: int, seen: dict[str, int],
                root: Path) -> int:
    """Add one record's image and humans; the number of boxes derived from points."""
    if not isinstance(rec, dict) or not isinstance(rec.get('image_id'), str):
        raise ConversionError(f'{where}: expected an object with a string "image_id"')
    image_id = rec['image_id']
    where += f' (image_id {image_id!r})'
    if image_id in seen:
        raise ConversionError(f'{where}: image also annotated by record {seen[image_id]}')
    seen[image_id] = pos
    kpt_ann = rec.get('keypoint_annotations')
    box_ann = rec.get('human_annotations') or {}
    if not isinstance(kpt_ann, dict) or not isinstance(box_ann, dict):
        raise ConversionError(f'{where}: "keypoint_annotations" and "human_annotations" '
                              'must be objects keyed by human')
    img_id = builder.add_image_file(root, _image_file(image_id), where)
    derived = 0
    for human in sorted(kpt_ann, key=natural_key):
        hwhere = f'{where}, {human}'
        kpts = _keypoints(kpt_ann[human], hwhere)
        box = _box(box_ann.get(human), hwhere)
        derived += box is None and bool((kpts[:, 2] > 0).any())
        builder.add_instance(img_id, kpts, box_xyxy=box)
    return derived


__all__ = ['AIC_TO_COCO_VISIBILITY', 'convert_aic']
