"""Validation of a COCO-keypoint annotation file (see :mod:`customkpt.datasets.validation`)."""
from __future__ import annotations

import math
import os
from collections import Counter
from typing import Any, Mapping, Sequence

import numpy as np

from .records import (check_annotation, check_image_file, check_image_record,
                      check_keypoint_list, image_size)
from .report import VISIBILITY_VALUES, ValidationReport

__all__ = ['validate_coco']


def validate_coco(data: Any, ann_file: str, img_dir: str, num_keypoints: int, *,
                  category_id: int | None = None, check_images: bool | str = True,
                  test_mode: bool = False) -> ValidationReport:
    """Validate a COCO-keypoint annotation file.

    Args:
        data: the parsed json.
        ann_file: its path (for messages).
        img_dir: the folder ``file_name`` is relative to.
        num_keypoints: K of the keypoint definition in use.
        category_id: only annotations of this category are checked (all when
            ``None``).
        check_images: ``True`` (exists, not empty), ``'decode'`` or ``False``.
        test_mode: evaluation use: an instance without labelled points is kept
            there, so it then needs a box.

    Returns:
        The report; ``bad_records`` holds annotation positions.
    """
    report = ValidationReport(file=ann_file)
    if not _check_layout(report, data):
        return report
    images, anns = data['images'], data['annotations']
    report.num_records = len(anns)
    k = int(num_keypoints)
    sizes, files, bad_images = _check_images(report, images)
    used_images, rows = _check_annotations(report, anns, sizes, k, category_id)
    if rows:
        values = [anns[pos]['keypoints'] for pos in rows]
        _check_keypoints(report, anns, rows, np.asarray(values, dtype=np.float64).reshape(-1, k, 3),
                         sizes, test_mode)
    for iid in sorted(used_images - bad_images, key=str):
        if iid in files:
            why = check_image_file(os.path.join(img_dir, files[iid]), check_images)
            if why:
                report.error(iid, None, 'file_name', why)
                bad_images.add(iid)
    if bad_images:
        for pos, ann in enumerate(anns):
            if isinstance(ann, Mapping) and ann.get('image_id') in bad_images:
                report.bad_records.add(pos)
    return report


def _check_layout(report: ValidationReport, data: Any) -> bool:
    """A json object with ``images`` and ``annotations`` lists; marks the
    report fatal and returns False otherwise."""
    if not isinstance(data, Mapping):
        report.error(None, None, 'file', f'expected a json object, got {type(data).__name__}')
        report.fatal = True
        return False
    for key in ('images', 'annotations'):
        if not isinstance(data.get(key), list):
            report.error(None, None, key, f'the file has no "{key}" list')
            report.fatal = True
    return not report.fatal


def _check_images(report: ValidationReport, images: Sequence[Any]
                  ) -> tuple[dict[Any, tuple[float, float]], dict[Any, str], set[Any]]:
    """Check every image record.

    Returns:
        (width, height) by image id, ``file_name`` by image id (where given)
        and the ids of unusable images.
    """
    id_count = Counter(img.get('id') if isinstance(img, Mapping) else None for img in images)
    sizes: dict[Any, tuple[float, float]] = {}
    files: dict[Any, str] = {}
    bad_images: set[Any] = set()
    for pos, img in enumerate(images):
        if not isinstance(img, Mapping) or img.get('id') is None:
            report.error(None, None, 'id', f'images[{pos}] has no id')
            continue
        iid = img['id']
        if id_count[iid] > 1:
            if iid not in bad_images:
                report.error(iid, None, 'id', f'image id used by {id_count[iid]} images')
            bad_images.add(iid)
        if not check_image_record(report, img):
            bad_images.add(iid)
        if isinstance(img.get('file_name'), str) and img['file_name']:
            files[iid] = img['file_name']
        sizes[iid] = image_size(img)
    return sizes, files, bad_images


def _check_annotations(report: ValidationReport, anns: Sequence[Any],
                       sizes: Mapping[Any, tuple[float, float]], k: int,
                       category_id: int | None) -> tuple[set[Any], list[int]]:
    """Cheap per-record checks of the annotations of the keypoint category.

    Returns:
        The image ids used, and the positions whose keypoints are ``3 * k``
        numbers (checked by :func:`_check_keypoints` after).
    """
    ann_id_first: dict[Any, int] = {}
    used_images: set[Any] = set()
    rows: list[int] = []
    for pos, ann in enumerate(anns):
        if not isinstance(ann, Mapping):
            report.error(None, pos, 'annotation', f'annotations[{pos}] is not an object')
            report.bad_records.add(pos)
            continue
        if category_id is not None and ann.get('category_id', category_id) != category_id:
            continue
        aid, iid = ann.get('id'), ann.get('image_id')
        ok = True
        if aid is None:
            report.error(iid, None, 'id', f'annotations[{pos}] has no id')
            ok = False
        elif aid in ann_id_first:
            report.error(iid, aid, 'id', f'duplicate annotation id (also annotations'
                                         f'[{ann_id_first[aid]}])')
            ok = False
        else:
            ann_id_first[aid] = pos
        if iid not in sizes:
            report.error(iid, aid, 'image_id', 'refers to an image id not in "images"')
            ok = False
        else:
            used_images.add(iid)
        if check_keypoint_list(report, ann, k):
            rows.append(pos)
        else:
            ok = False
        if not check_annotation(report, ann, sizes.get(iid)):
            ok = False
        if not ok:
            report.bad_records.add(pos)
    return used_images, rows


def _check_keypoints(report: ValidationReport, anns: Sequence[Mapping[str, Any]],
                     rows: list[int], kpts: np.ndarray,
                     sizes: Mapping[Any, tuple[float, float]], test_mode: bool) -> None:
    """Vectorised checks of (M, K, 3) keypoint triples (annotation ``rows``)."""
    finite = np.isfinite(kpts).all(axis=(1, 2))
    vis = kpts[..., 2]
    vis_ok = np.isin(vis, VISIBILITY_VALUES).all(axis=1)
    labelled = (vis > 0) & np.isfinite(kpts).all(axis=2)
    widths = np.array([sizes.get(anns[p].get('image_id'), (math.nan, math.nan))[0]
                       for p in rows])
    heights = np.array([sizes.get(anns[p].get('image_id'), (math.nan, math.nan))[1]
                        for p in rows])
    with np.errstate(invalid='ignore'):
        outside = labelled & ((kpts[..., 0] < 0) | (kpts[..., 1] < 0)
                              | (kpts[..., 0] > widths[:, None])
                              | (kpts[..., 1] > heights[:, None]))
    n_labelled = labelled.sum(axis=1)
    x, y = kpts[..., 0], kpts[..., 1]
    extent = np.maximum(
        np.where(labelled, x, -np.inf).max(axis=1) - np.where(labelled, x, np.inf).min(axis=1),
        np.where(labelled, y, -np.inf).max(axis=1) - np.where(labelled, y, np.inf).min(axis=1))
    suspicious = ~finite | ~vis_ok | outside.any(axis=1) | (n_labelled < 2)
    for m in np.flatnonzero(suspicious):
        pos = rows[m]
        ann = anns[pos]
        iid, aid = ann.get('image_id'), ann.get('id')
        if not finite[m]:
            report.error(iid, aid, 'keypoints', 'contains NaN or inf')
            report.bad_records.add(pos)
            continue
        if not vis_ok[m]:
            bad_v = sorted({float(v) for v in vis[m] if v not in VISIBILITY_VALUES})
            report.error(iid, aid, 'keypoints',
                         f'visibility values {bad_v} outside {{0, 1, 2}}')
            report.bad_records.add(pos)
            continue
        if outside[m].any():
            report.warn(iid, aid, 'keypoints',
                        f'{int(outside[m].sum())} labelled point(s) outside the image, '
                        f'first at index {int(np.flatnonzero(outside[m])[0])}')
        has_box = ann.get('bbox') is not None
        if not has_box and not ann.get('iscrowd', 0):
            if n_labelled[m] == 0 and test_mode:
                report.error(iid, aid, 'bbox', 'missing, and no labelled point to derive it from')
                report.bad_records.add(pos)
            elif n_labelled[m] > 0 and not extent[m] > 0:
                report.error(iid, aid, 'bbox', 'missing, and the labelled points span no area '
                                                'to derive it from')
                report.bad_records.add(pos)
    declared = [(m, anns[p].get('num_keypoints')) for m, p in enumerate(rows)
                if anns[p].get('num_keypoints') is not None]
    for m, n in declared:
        if n != n_labelled[m] and finite[m] and vis_ok[m]:
            ann = anns[rows[m]]
            report.warn(ann.get('image_id'), ann.get('id'), 'num_keypoints',
                        f'says {n} but {int(n_labelled[m])} points are labelled (v > 0); '
                        'the labelled points are used')

