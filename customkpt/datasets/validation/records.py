"""Per-record checks: numbers, image files, boxes and single records.

Each check adds its problems to a :class:`~.report.ValidationReport` and says
whether the record is usable; the file-level drivers (:mod:`.coco`,
:mod:`.mpii`, :mod:`.detections`) run them over every record.
"""
from __future__ import annotations

import math
import os
import sys
from typing import Any, Mapping

import numpy as np

from .report import VISIBILITY_VALUES, ValidationReport

__all__ = ['NUMBER_TYPES', 'is_number', 'is_finite', 'is_id', 'describe', 'finite_numbers',
           'check_image_file', 'image_size', 'check_box', 'check_image_record',
           'check_keypoint_list', 'check_annotation', 'check_mpii_record']

# Types json.load gives numbers (bool is excluded on purpose).
NUMBER_TYPES = frozenset((int, float))

#: The largest finite float (json integers beyond it do not convert).
_FLOAT_MAX = sys.float_info.max

#: (width, height) of an image whose size is unknown.
UNKNOWN_SIZE = (math.nan, math.nan)


def is_number(value: Any) -> bool:
    """True for int / float (numpy too), False for bool."""
    kind = type(value)
    if kind is int or kind is float:   # the common case first: this runs per field
        return True
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def is_finite(value: Any) -> bool:
    """True for a number that is finite as a float (json integers too large
    for a float, such as ``10**400``, are not)."""
    kind = type(value)
    if kind is float:
        return math.isfinite(value)
    if kind is int:
        return -_FLOAT_MAX <= value <= _FLOAT_MAX
    if not is_number(value):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def is_id(value: Any) -> bool:
    """True for a usable record id: an integer or a string (not a bool)."""
    kind = type(value)
    if kind is int or kind is str:
        return True
    return isinstance(value, (int, str, np.integer)) and not isinstance(value, bool)


def describe(value: Any, limit: int = 60) -> str:
    """A short ``repr`` of any json value, for messages (long or deeply
    nested values are cut)."""
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        text = f'<{type(value).__name__}>'
    return text if len(text) <= limit else f'{text[:limit]}... ({type(value).__name__})'


def finite_numbers(values: Any, length: int | None = None) -> tuple[bool, str]:
    """Whether ``values`` is a list of finite numbers (of ``length``), and why not."""
    if not isinstance(values, (list, tuple)):
        return False, f'must be a list, got {type(values).__name__}'
    if length is not None and len(values) != length:
        return False, f'has {len(values)} values, expected {length}'
    if not all(is_number(v) for v in values):
        return False, f'contains non-numbers: {describe(values)}'
    if not all(is_finite(v) for v in values):
        too_large = any(not isinstance(v, float) and not is_finite(v) for v in values)
        what = 'a number too large for a float' if too_large else 'NaN or inf'
        return False, f'contains {what}: {describe(values)}'
    return True, ''


def check_image_file(path: str, check: bool | str) -> str:
    """Why the image at ``path`` cannot be used ('' when it can).

    Args:
        path: the image file.
        check: ``True`` checks that the file exists and is not empty,
            ``'decode'`` also decodes it with OpenCV, ``False`` checks nothing.
    """
    if not check:
        return ''
    if '\x00' in path:
        return f'image path contains a NUL character: {path!r}'
    try:
        size = os.path.getsize(path)
    except OSError:
        return f'image file not found: {path}'
    if size == 0:
        return f'image file is empty: {path}'
    if check == 'decode':
        import cv2
        if cv2.imread(path, cv2.IMREAD_UNCHANGED) is None:
            return f'image file cannot be decoded: {path}'
    return ''


def image_size(img: Mapping[str, Any]) -> tuple[float, float]:
    """(width, height) of an image record; NaN where not given or invalid."""
    out = []
    for key in ('width', 'height'):
        v = img.get(key)
        out.append(float(v) if is_finite(v) and v > 0 else math.nan)
    return out[0], out[1]


def check_box(report: ValidationReport, box: Any, size: tuple[float, float],
              image_id: Any, ann_id: Any, field_name: str, file: str | None = None) -> bool:
    """Check one xywh box; return True when it is usable."""
    ok, why = finite_numbers(box, 4)
    if not ok:
        report.error(image_id, ann_id, field_name, f'{why} (xywh)', file)
        return False
    x, y, w, h = box
    if w <= 0 or h <= 0:
        report.error(image_id, ann_id, field_name,
                     f'box {list(box)} has non-positive width or height (xywh)', file)
        return False
    width, height = size
    if x + w <= 0 or y + h <= 0 or x >= width or y >= height:  # NaN size compares False
        report.error(image_id, ann_id, field_name,
                     f'box {list(box)} lies outside the {width:g}x{height:g} image', file)
        return False
    return True


def check_image_record(report: ValidationReport, img: Mapping[str, Any]) -> bool:
    """Check the ``file_name``, ``width`` and ``height`` of a COCO image record
    that has an ``id``; True when they are usable."""
    iid = img['id']
    ok = True
    name = img.get('file_name')
    if name is None or name == '':
        report.error(iid, None, 'file_name', 'missing')
        ok = False
    elif not isinstance(name, str):
        report.error(iid, None, 'file_name', f'must be a string, got {describe(name)}')
        ok = False
    elif '\x00' in name:
        report.error(iid, None, 'file_name', f'contains a NUL character: {describe(name)}')
        ok = False
    for key in ('width', 'height'):
        v = img.get(key)
        if v is not None and not (is_finite(v) and v > 0):
            report.error(iid, None, key, f'must be a positive number, got {describe(v)}')
            ok = False
    return ok


def check_keypoint_list(report: ValidationReport, ann: Mapping[str, Any], k: int) -> bool:
    """Check that ``keypoints`` is a list of ``3 * k`` json numbers."""
    iid, aid, kp = ann.get('image_id'), ann.get('id'), ann.get('keypoints')
    if not isinstance(kp, (list, tuple)):
        report.error(iid, aid, 'keypoints', f'missing or not a list: {describe(kp, 100)}')
    elif len(kp) != 3 * k:
        report.error(iid, aid, 'keypoints',
                     f'has {len(kp)} values, expected 3*K = {3 * k} (K={k})')
    elif not NUMBER_TYPES.issuperset(map(type, kp)):
        report.error(iid, aid, 'keypoints', 'contains non-numbers')
    else:
        return True
    return False


def check_annotation(report: ValidationReport, ann: Mapping[str, Any],
                     size: tuple[float, float] | None) -> bool:
    """Check the box and area of a COCO annotation; True when both are usable.

    Args:
        report: collects the problems.
        ann: the annotation.
        size: (width, height) of its image, ``None`` when the image is unknown.
    """
    iid, aid = ann.get('image_id'), ann.get('id')
    ok = True
    if 'bbox' in ann and ann['bbox'] is not None:
        if not check_box(report, ann['bbox'], size or UNKNOWN_SIZE, iid, aid, 'bbox'):
            ok = False
    area = ann.get('area')
    if area is not None and not is_finite(area):
        report.error(iid, aid, 'area', f'must be a finite number, got {describe(area)}')
        ok = False
    crowd = ann.get('iscrowd')
    if crowd is not None and not (is_number(crowd) and crowd in (0, 1)):
        report.error(iid, aid, 'iscrowd', f'must be 0 or 1, got {describe(crowd)}')
        ok = False
    declared = ann.get('num_keypoints')
    if declared is not None and not (is_finite(declared) and declared == int(declared)):
        report.error(iid, aid, 'num_keypoints', f'must be an integer, got {describe(declared)}')
        ok = False
    return ok


def _check_mpii_joints(report: ValidationReport, rec: Mapping[str, Any], pos: int,
                       k: int, ok: bool) -> bool:
    """The ``joints`` / ``joints_vis`` part of :func:`check_mpii_record`."""
    name = rec.get('image')
    joints, vis = rec.get('joints'), rec.get('joints_vis')
    arr = None
    try:
        arr = np.asarray(joints, dtype=np.float64)
    except (TypeError, ValueError, OverflowError, RecursionError):
        pass
    if arr is None or arr.shape != (k, 2):
        shape = None if arr is None else arr.shape
        report.error(name, pos, 'joints', f'must be K x 2 = {k} x 2 numbers, got shape {shape}')
        ok = False
    elif not np.isfinite(arr).all():
        report.error(name, pos, 'joints', 'contains NaN or inf')
        ok = False
    if not isinstance(vis, (list, tuple)) or len(vis) != k:
        report.error(name, pos, 'joints_vis', f'must hold K = {k} values')
        ok = False
    elif not all(is_number(v) and v in VISIBILITY_VALUES for v in vis):
        report.error(name, pos, 'joints_vis', f'values must be in {{0, 1, 2}}, got {vis}')
        ok = False
    elif ok:
        neg = [i for i in range(k) if vis[i] > 0 and (arr[i] < 0).any()]
        if neg:
            report.warn(name, pos, 'joints', f'labelled joints {neg} have negative coordinates')
    return ok


def check_mpii_record(report: ValidationReport, rec: Mapping[str, Any], pos: int,
                      k: int) -> bool:
    """Check one MPII record (an object) at position ``pos``; True when usable."""
    name = rec.get('image')
    ok = True
    if not isinstance(name, str) or not name:
        report.error(None, pos, 'image', 'missing image name')
        ok = False
    center_ok, why = finite_numbers(rec.get('center'), 2)
    if not center_ok:
        report.error(name, pos, 'center', why)
        ok = False
    elif rec['center'][0] == -1:
        report.error(name, pos, 'center', 'is -1 (no person position in the annotation)')
        ok = False
    scale = rec.get('scale')
    if not (is_finite(scale) and scale > 0):
        report.error(name, pos, 'scale', f'must be a positive number, got {describe(scale)}')
        ok = False
    return _check_mpii_joints(report, rec, pos, k, ok)
