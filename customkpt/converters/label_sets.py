"""Repeated labels of the same images: several COCO-keypoint files read and
their instances matched, for :mod:`customkpt.core.sigmas`.

Images are matched by ``file_name`` (image ids may differ between files).
Within an image, each file's instances are matched to the first file's (the
reference) greedily, best pair first: by box IoU (``match='iou'``) or by OKS
on the points both label (``match='oks'``, with the reference's area and
the definition's sigmas); pairs below ``min_match`` stay unmatched.

Each file's instances are read as the COCO dataset reads them: crowd
instances, other categories, instances without a labelled point and those
with ``area <= 0`` are left out; a missing ``bbox`` is the labelled points'
extent padded by :data:`~customkpt.core.boxes.DERIVED_BOX_PADDING` of its
longer side, clipped to the image; a missing ``area`` is the box area. The
object scale ``s^2`` of a matched instance is the mean over its labels of
the annotation ``area`` (``scale='area'``, what the COCO metric uses) or of
the box ``w * h`` (``scale='box'``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..core.boxes import DERIVED_BOX_PADDING, box_iou, boxes_from_points, clip_boxes, oks, \
    xywh_to_xyxy
from ..meta import KeypointMeta, KeypointMetaError
from .category import keypoint_categories
from .common import ConversionError, file_name_key, read_json

__all__ = ['SCALES', 'MATCHES', 'LabelFile', 'RepeatedLabels', 'keypoint_category',
           'read_label_file', 'greedy_pairs', 'match_label_files']

#: What ``s^2`` is: the annotation ``area`` field, or the box ``w * h``.
SCALES = ('area', 'box')
#: How instances of one image are matched between files.
MATCHES = ('iou', 'oks')


@dataclass
class LabelFile:
    """The keypoint labels of one COCO file (M instances, K points).

    Attributes:
        path: the file.
        category: its keypoint category entry.
        file_names: (M,) normalised ``file_name`` of each instance's image.
        ann_ids: (M,) annotation ids.
        keypoints: (M, K, 2) float64 image pixels.
        visible: (M, K) bool, labelled (``v > 0``).
        boxes: (M, 4) float64 xyxy.
        areas: (M,) float64 ``s^2`` of the chosen scale.
        skipped: reason -> number of annotations left out.
    """

    path: Path
    category: dict
    file_names: list[str]
    ann_ids: list[Any]
    keypoints: np.ndarray
    visible: np.ndarray
    boxes: np.ndarray
    areas: np.ndarray
    skipped: Counter = field(default_factory=Counter)

    @property
    def names(self) -> list[str]:
        """The keypoint names of the category."""
        return list(self.category['keypoints'])


@dataclass
class RepeatedLabels:
    """Instances labelled in at least two of L files (N of them).

    Attributes:
        files: the L files, the reference first.
        names: the K keypoint names.
        points: (N, L, K, 2) float64; 0 where a file lacks the label.
        visible: (N, L, K) bool.
        areas: (N,) float64 mean ``s^2`` over the instance's labels.
        file_names: (N,) the image of each instance.
        common_images: images present in the reference and another file.
        matched: (L,) instances of each file in a matched instance.
        totals: (L,) instances each file holds.
    """

    files: list[Path]
    names: list[str]
    points: np.ndarray
    visible: np.ndarray
    areas: np.ndarray
    file_names: list[str]
    common_images: int
    matched: np.ndarray
    totals: np.ndarray


def keypoint_category(data: Mapping[str, Any], path: Path,
                      category_id: int | None = None) -> dict:
    """The category whose keypoints are read: ``category_id``, else the only
    one that lists ``keypoints``."""
    cats = [c for c in data.get('categories') or [] if isinstance(c, dict)]
    if category_id is not None:
        chosen = [c for c in cats if c.get('id') == category_id]
        if not chosen:
            raise ConversionError(f'{path}: no category with id {category_id}; categories: '
                                  f'{[(c.get("id"), c.get("name")) for c in cats]}')
    else:
        chosen = keypoint_categories(data)
        if not chosen:
            raise ConversionError(f'{path}: no category lists "keypoints"')
        if len(chosen) > 1:
            raise ConversionError(f'{path}: {len(chosen)} categories list keypoints '
                                  f'{[(c.get("id"), c.get("name")) for c in chosen]}; '
                                  'choose one by its category id')
    if not chosen[0].get('keypoints'):
        raise ConversionError(f'{path}: category {category_id} has no "keypoints" list')
    return chosen[0]


def _numbers(value: Any, count: int, path: Path, ann_id: Any, key: str) -> np.ndarray:
    """``value`` as ``count`` finite floats, else a ConversionError naming the field."""
    try:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        arr = np.zeros(0)
    if arr.shape[0] != count or not np.isfinite(arr).all():
        raise ConversionError(f'{path}: annotation {ann_id}: "{key}" must be {count} finite '
                              f'numbers, got {value!r:.80}')
    return arr


def _image_names(data: Mapping[str, Any], path: Path) -> dict[Any, tuple[str, Any, Any]]:
    """image id -> (normalised file_name, width, height)."""
    out: dict[Any, tuple[str, Any, Any]] = {}
    seen: set[str] = set()
    for img in data.get('images') or []:
        if not isinstance(img, dict) or not isinstance(img.get('file_name'), str):
            raise ConversionError(f'{path}: image {img!r:.80} has no "file_name"')
        name = file_name_key(img['file_name'])
        if name in seen:
            raise ConversionError(f'{path}: file_name {name!r} appears in two images')
        seen.add(name)
        out[img.get('id')] = (name, img.get('width'), img.get('height'))
    return out


def _instance(ann: Mapping[str, Any], image: tuple[str, Any, Any], k: int, path: Path,
              scale: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | str:
    """(keypoints (K, 2), visible (K,), box xyxy (4,), s^2) of one annotation,
    or the reason it is left out."""
    ann_id = ann.get('id')
    kpts = _numbers(ann.get('keypoints'), 3 * k, path, ann_id, 'keypoints').reshape(k, 3)
    visible = kpts[:, 2] > 0
    if not visible.any():
        return 'no labelled point'
    if ann.get('bbox') is not None:
        box = xywh_to_xyxy(_numbers(ann['bbox'], 4, path, ann_id, 'bbox'), np.float64)
    else:
        box = boxes_from_points(kpts[None, :, :2], visible[None], DERIVED_BOX_PADDING,
                                dtype=np.float64)
        _, width, height = image
        if width and height:
            box = clip_boxes(box, width, height, dtype=np.float64)
    box_area = float(np.prod(np.clip(box[0, 2:] - box[0, :2], 0, None)))
    area = box_area
    if scale == 'area' and ann.get('area') is not None:
        area = float(_numbers(ann['area'], 1, path, ann_id, 'area')[0])
    if not area > 0:
        return 'area <= 0'
    return kpts[:, :2], visible, box[0], area


def read_label_file(path: str | Path, scale: str = 'area',
                    category_id: int | None = None) -> LabelFile:
    """The instances of one COCO-keypoint file (see the module notes)."""
    if scale not in SCALES:
        raise ValueError(f'scale must be one of {SCALES}, got {scale!r}')
    path = Path(path)
    data = read_json(path, 'annotation file')
    if not isinstance(data, dict) or not isinstance(data.get('annotations'), list):
        raise ConversionError(f'{path}: not a COCO-keypoint file (no "annotations" list)')
    category = keypoint_category(data, path, category_id)
    k = len(category['keypoints'])
    images = _image_names(data, path)
    rows: list[tuple] = []
    names, ids, skipped = [], [], Counter()
    for ann in data['annotations']:
        if not isinstance(ann, dict):
            raise ConversionError(f'{path}: an annotation is not an object: {ann!r:.80}')
        if ann.get('category_id', category.get('id')) != category.get('id'):
            skipped['another category'] += 1
            continue
        if ann.get('iscrowd'):
            skipped['crowd'] += 1
            continue
        if ann.get('image_id') not in images:
            raise ConversionError(f'{path}: annotation {ann.get("id")}: "image_id" '
                                  f'{ann.get("image_id")!r} names no image')
        image = images[ann['image_id']]
        got = _instance(ann, image, k, path, scale)
        if isinstance(got, str):
            skipped[got] += 1
            continue
        rows.append(got)
        names.append(image[0])
        ids.append(ann.get('id'))
    m = len(rows)
    return LabelFile(
        path=path, category=category, file_names=names, ann_ids=ids,
        keypoints=np.asarray([r[0] for r in rows], np.float64).reshape(m, k, 2),
        visible=np.asarray([r[1] for r in rows], bool).reshape(m, k),
        boxes=np.asarray([r[2] for r in rows], np.float64).reshape(m, 4),
        areas=np.asarray([r[3] for r in rows], np.float64).reshape(m), skipped=skipped)


def greedy_pairs(similarity: np.ndarray, min_match: float) -> list[tuple[int, int]]:
    """One-to-one pairs ``(row, column)``, the most similar first, each at
    least ``min_match`` (ties in row-major order)."""
    sim = np.asarray(similarity, dtype=np.float64)
    order = np.argsort(-sim, axis=None, kind='stable')
    used_r, used_c, pairs = set(), set(), []
    for flat in order:
        r, c = divmod(int(flat), sim.shape[1])
        if sim[r, c] < min_match:
            break
        if r not in used_r and c not in used_c:
            used_r.add(r)
            used_c.add(c)
            pairs.append((r, c))
    return pairs


def _similarity(ref: LabelFile, rows: np.ndarray, other: LabelFile, cols: np.ndarray,
                match: str, sigmas: np.ndarray) -> np.ndarray:
    """(len(rows), len(cols)) box IoU or OKS of reference to other instances."""
    if match == 'iou':
        return box_iou(ref.boxes[rows], other.boxes[cols])
    return np.stack([oks(ref.keypoints[r], ref.visible[r], ref.areas[r], other.keypoints[cols],
                         sigmas, pred_valid=other.visible[cols]) for r in rows])


def _check_same_points(files: Sequence[LabelFile]) -> None:
    for f in files[1:]:
        if f.names != files[0].names:
            raise ConversionError(f'{f.path} labels the points {f.names} but {files[0].path} '
                                  f'labels {files[0].names}; repeated labels need the same '
                                  'keypoint definition')


def _sigmas_for_matching(category: dict, path: Path) -> np.ndarray:
    try:
        return KeypointMeta.from_coco_category(category, source=str(path)).sigmas
    except KeypointMetaError as exc:
        raise ConversionError(str(exc)) from None


def match_label_files(files: Sequence[LabelFile], match: str = 'iou',
                      min_match: float = 0.5) -> RepeatedLabels:
    """Match every file's instances to the reference's (``files[0]``).

    Returns:
        The reference instances that at least one other file matched.
    """
    if len(files) < 2:
        raise ConversionError('repeated labels need at least two annotation files')
    if match not in MATCHES:
        raise ValueError(f'match must be one of {MATCHES}, got {match!r}')
    _check_same_points(files)
    ref, num_files = files[0], len(files)
    sigmas = _sigmas_for_matching(ref.category, ref.path)
    by_image = [_group(f.file_names) for f in files]
    slots = np.full((len(ref.file_names), num_files), -1, np.int64)  # file l's instance
    slots[:, 0] = np.arange(len(ref.file_names))
    common: set[str] = set()
    for index, other in enumerate(files[1:], start=1):
        for name, rows in by_image[0].items():
            cols = by_image[index].get(name)
            if cols is None:
                continue
            common.add(name)
            sim = _similarity(ref, rows, other, cols, match, sigmas)
            for r, c in greedy_pairs(sim, min_match):
                slots[rows[r], index] = cols[c]
    keep = np.flatnonzero((slots[:, 1:] >= 0).any(axis=1))
    slots = slots[keep]
    k = len(ref.names)
    points = np.zeros((len(keep), num_files, k, 2))
    visible = np.zeros((len(keep), num_files, k), bool)
    areas = np.zeros((len(keep), num_files))
    for index, f in enumerate(files):
        has = slots[:, index] >= 0
        points[has, index] = f.keypoints[slots[has, index]]
        visible[has, index] = f.visible[slots[has, index]]
        areas[has, index] = f.areas[slots[has, index]]
    present = slots >= 0
    return RepeatedLabels(
        files=[f.path for f in files], names=ref.names, points=points, visible=visible,
        areas=areas.sum(axis=1) / np.maximum(present.sum(axis=1), 1),
        file_names=[ref.file_names[i] for i in keep], common_images=len(common),
        matched=present.sum(axis=0), totals=np.asarray([len(f.file_names) for f in files]))


def _group(names: Sequence[str]) -> dict[str, np.ndarray]:
    """file_name -> int64 indices of its instances, in file order."""
    out: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        out.setdefault(name, []).append(i)
    return {name: np.asarray(idx, np.int64) for name, idx in out.items()}
