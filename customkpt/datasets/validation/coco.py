"""Validation of a COCO-keypoint annotation file (see :mod:`customkpt.datasets.validation`)."""
from __future__ import annotations

import math
from collections import Counter
from typing import Any, Mapping, Sequence

import numpy as np

from .images import check_image_files
from .records import (check_annotation, check_image_record, check_keypoint_list, describe,
                      image_size, is_finite, is_id)
from .report import VISIBILITY_VALUES, ValidationReport

__all__ = ['validate_coco', 'check_layout']


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
        The report; ``bad_records`` holds annotation positions, ``skipped``
        the annotations of other categories.
    """
    report = ValidationReport(file=ann_file)
    if not check_layout(report, data):
        return report
    images, anns = data['images'], data['annotations']
    report.num_records = len(anns)
    k = int(num_keypoints)
    sizes, files, bad_images = _check_images(report, images)
    categories = _category_names(data.get('categories'))
    used_images, rows = _check_annotations(report, anns, sizes, k, category_id, categories)
    rows = _rows_as_floats(report, anns, rows)
    if rows:
        values = [anns[pos]['keypoints'] for pos in rows]
        _check_keypoints(report, anns, rows, np.asarray(values, dtype=np.float64).reshape(-1, k, 3),
                         sizes, test_mode)
    wanted = {iid: files[iid] for iid in used_images - bad_images if iid in files}
    bad_images |= check_image_files(report, wanted, img_dir, check_images)
    if bad_images:
        for pos, ann in enumerate(anns):
            if isinstance(ann, Mapping) and _image_key(ann) in bad_images:
                report.bad_records.add(pos)
    return report


def _rows_as_floats(report: ValidationReport, anns: Sequence[Any], rows: list[int]) -> list[int]:
    """The ``rows`` whose keypoints convert to float64; the others (json
    integers too large for a float) are errors and bad records."""
    try:
        np.asarray([anns[pos]['keypoints'] for pos in rows], dtype=np.float64)
        return rows
    except OverflowError:
        pass
    good = []
    for pos in rows:
        try:
            np.asarray(anns[pos]['keypoints'], dtype=np.float64)
            good.append(pos)
        except OverflowError:
            ann = anns[pos]
            report.error(_image_key(ann), ann.get('id'), 'keypoints',
                         'contains a number too large for a float')
            report.bad_records.add(pos)
    return good


def _image_key(ann: Mapping[str, Any]) -> Any:
    """The annotation's ``image_id`` when it can be looked up, else None."""
    iid = ann.get('image_id')
    return iid if is_id(iid) else None


def _category_names(categories: Any) -> dict[Any, str]:
    """``{id: name}`` of the file's categories (those with a usable id)."""
    if not isinstance(categories, list):
        return {}
    return {c['id']: str(c.get('name', '')) for c in categories
            if isinstance(c, Mapping) and is_id(c.get('id'))}


def check_layout(report: ValidationReport, data: Any) -> bool:
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
    id_count = Counter(img.get('id') for img in images
                       if isinstance(img, Mapping) and is_id(img.get('id')))
    sizes: dict[Any, tuple[float, float]] = {}
    files: dict[Any, str] = {}
    bad_images: set[Any] = set()
    for pos, img in enumerate(images):
        if not isinstance(img, Mapping) or img.get('id') is None:
            report.error(None, None, 'id', f'images[{pos}] has no id')
            continue
        iid = img['id']
        if not is_id(iid):
            report.error(describe(iid), None, 'id', f'images[{pos}] id must be an integer or a '
                                                    f'string, got {describe(iid)}')
            continue
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
                       category_id: int | None,
                       categories: Mapping[Any, str]) -> tuple[set[Any], list[int]]:
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
        if not _of_category(report, ann, pos, category_id, categories):
            continue
        ok = _check_ids(report, ann, pos, ann_id_first, sizes)
        if ok:
            used_images.add(ann['image_id'])
        if check_keypoint_list(report, ann, k):
            rows.append(pos)
        else:
            ok = False
        if not check_annotation(report, ann, sizes.get(_image_key(ann))):
            ok = False
        if not ok:
            report.bad_records.add(pos)
    return used_images, rows


def _of_category(report: ValidationReport, ann: Mapping[str, Any], pos: int,
                 category_id: int | None, categories: Mapping[Any, str]) -> bool:
    """Whether the annotation belongs to the keypoint category. One that does
    not is counted in ``report.skipped`` with the reason; a mistyped
    ``category_id`` is an error (and the record is bad)."""
    if category_id is None:
        return True
    cat = ann.get('category_id', category_id)
    if cat == category_id and is_id(cat) and not isinstance(cat, str):
        return True
    aid = ann.get('id') if is_id(ann.get('id')) else f'annotations[{pos}]'
    if not (is_id(cat) and not isinstance(cat, str)):
        report.error(_image_key(ann), aid, 'category_id',
                     f'must be an integer category id (the keypoint category is {category_id}), '
                     f'got {describe(cat)}')
        report.bad_records.add(pos)
    elif cat in categories:
        report.skip(f'category_id {cat} ({categories[cat]!r}) is not the keypoint category '
                    f'{category_id}', aid)
    else:
        reason = (f'category_id {cat} is not the keypoint category {category_id} '
                  '(and not in "categories")')
        if reason not in report.skipped:
            report.warn(None, None, 'category_id',
                        f'annotations with category_id {cat}, which "categories" does not '
                        f'list, are skipped (the keypoint category is {category_id})')
        report.skip(reason, aid)
    return False


def _check_ids(report: ValidationReport, ann: Mapping[str, Any], pos: int,
               ann_id_first: dict[Any, int], sizes: Mapping[Any, tuple[float, float]]) -> bool:
    """Check ``id`` (present, unique) and ``image_id`` (a known image)."""
    aid, iid = ann.get('id'), ann.get('image_id')
    ok = True
    if aid is None:
        report.error(_image_key(ann), None, 'id', f'annotations[{pos}] has no id')
        ok = False
    elif not is_id(aid):
        report.error(_image_key(ann), describe(aid), 'id',
                     f'annotations[{pos}] id must be an integer or a string, got {describe(aid)}')
        ok = False
    elif aid in ann_id_first:
        report.error(_image_key(ann), aid, 'id', f'duplicate annotation id (also annotations'
                                                 f'[{ann_id_first[aid]}])')
        ok = False
    else:
        ann_id_first[aid] = pos
    shown_aid = aid if is_id(aid) else describe(aid)
    if iid is not None and not is_id(iid):
        report.error(describe(iid), shown_aid, 'image_id',
                     f'must be an integer or a string, got {describe(iid)}')
        ok = False
    elif iid not in sizes:
        report.error(iid, shown_aid, 'image_id', 'refers to an image id not in "images"')
        ok = False
    return ok


def _check_keypoints(report: ValidationReport, anns: Sequence[Mapping[str, Any]],
                     rows: list[int], kpts: np.ndarray,
                     sizes: Mapping[Any, tuple[float, float]], test_mode: bool) -> None:
    """Vectorised checks of (M, K, 3) keypoint triples (annotation ``rows``)."""
    finite = np.isfinite(kpts).all(axis=(1, 2))
    vis = kpts[..., 2]
    vis_ok = np.isin(vis, VISIBILITY_VALUES).all(axis=1)
    labelled = (vis > 0) & np.isfinite(kpts).all(axis=2)
    widths = np.array([sizes.get(_image_key(anns[p]), (math.nan, math.nan))[0] for p in rows])
    heights = np.array([sizes.get(_image_key(anns[p]), (math.nan, math.nan))[1] for p in rows])
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
                if is_finite(anns[p].get('num_keypoints'))]
    for m, n in declared:
        if n != n_labelled[m] and finite[m] and vis_ok[m]:
            ann = anns[rows[m]]
            report.warn(ann.get('image_id'), ann.get('id'), 'num_keypoints',
                        f'says {n} but {int(n_labelled[m])} points are labelled (v > 0); '
                        'the labelled points are used')

