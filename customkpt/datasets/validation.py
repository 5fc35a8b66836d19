"""Up-front validation of a whole annotation file.

A dataset checks its annotation file once, before it builds any sample, and
collects every problem into one :class:`ValidationReport` instead of stopping
at the first. Each :class:`Problem` names the file, the image id, the
annotation id and the field, so a user can fix the file (or the converter that
wrote it) in one pass.

Errors make the dataset raise :class:`DatasetValidationError` (whose message
is the formatted report), unless the dataset was built with
``skip_invalid=True``: then the records listed in
:attr:`ValidationReport.bad_records` are dropped and one log line counts them.
Warnings never stop anything.

What is checked (COCO layout, :func:`validate_coco`):

* the file has ``images`` and ``annotations`` lists (fatal otherwise: no
  record can be skipped to repair it);
* images: an id, no duplicate ids, a ``file_name``, positive ``width`` /
  ``height`` where given; the image file of every image that has an
  annotation of the keypoint category exists and is not empty, and with
  ``check_images='decode'`` also decodes (slow: reads every image);
* annotations of the keypoint category: an id, no duplicate ids, a known
  ``image_id``, ``keypoints`` of length ``3 * K``, no NaN or inf in
  keypoints / bbox / area, visibility in {0, 1, 2}, boxes with ``w > 0`` and
  ``h > 0`` that overlap the image; a missing box is fine when it can be
  derived from at least two distinct labelled points (otherwise an error,
  except for an instance with no labelled point during training, which the
  dataset skips anyway);
* warnings: labelled points outside the image, ``num_keypoints`` that
  disagrees with the labelled points.

:func:`validate_detections` checks a COCO detection-result list (the
``bbox_file`` of top-down evaluation) and :func:`validate_mpii` the MPII json
layout.
"""
from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

ERROR = 'error'
WARNING = 'warning'

#: Values allowed in the visibility slot of a COCO keypoint triple.
VISIBILITY_VALUES = (0, 1, 2)

#: How many report lines a :class:`DatasetValidationError` message shows.
MAX_ERROR_LINES = 50


@dataclass(frozen=True)
class Problem:
    """One problem found in an annotation file.

    Attributes:
        file: the annotation (or detection) file.
        image_id: the image the problem belongs to, ``None`` when it concerns
            the whole file.
        ann_id: the annotation id (the record position for files without
            ids), ``None`` for image-level and file-level problems.
        field: the offending field (``keypoints``, ``bbox``, ``file_name``,
            ...); ``file`` for problems with the file as a whole.
        message: what is wrong, in words.
        severity: ``'error'`` or ``'warning'``.
    """

    file: str
    image_id: Any
    ann_id: Any
    field: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        image = '-' if self.image_id is None else self.image_id
        ann = '-' if self.ann_id is None else self.ann_id
        return (f'{self.severity}: {self.file}: image {image}, annotation {ann}, '
                f'field {self.field!r}: {self.message}')


@dataclass
class ValidationReport:
    """Every problem of one annotation file.

    Attributes:
        file: the annotation file.
        num_records: how many records (annotations, detections or MPII
            entries) the file holds.
        errors: problems that stop a dataset unless ``skip_invalid=True``.
        warnings: problems that are only reported.
        bad_records: positions (in the file's record list) of the records
            dropped under ``skip_invalid=True``: the records with an error
            plus every record of an image with an error.
        fatal: True when an error concerns the whole file, so that skipping
            records cannot repair it.
    """

    file: str
    num_records: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    bad_records: set[int] = field(default_factory=set)
    fatal: bool = False

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def error(self, image_id: Any, ann_id: Any, field_name: str, message: str,
              file: str | None = None) -> None:
        """Add an error."""
        self.errors.append(Problem(file or self.file, image_id, ann_id, field_name, message))

    def warn(self, image_id: Any, ann_id: Any, field_name: str, message: str,
             file: str | None = None) -> None:
        """Add a warning."""
        self.warnings.append(
            Problem(file or self.file, image_id, ann_id, field_name, message, WARNING))

    def merge(self, other: 'ValidationReport') -> None:
        """Append another report's problems (e.g. of a detection file)."""
        self.errors.extend(other.errors)
        self.warnings.extend(other.warnings)
        self.fatal = self.fatal or other.fatal

    def counts(self, severity: str = ERROR) -> dict[str, int]:
        """Number of problems per field, most frequent first."""
        problems = self.errors if severity == ERROR else self.warnings
        return dict(Counter(p.field for p in problems).most_common())

    def summary(self) -> str:
        """One line: the numbers of errors and warnings per field."""
        def part(severity: str, items: list[Problem]) -> str:
            if not items:
                return f'0 {severity}s'
            plural = 's' if len(items) != 1 else ''
            return f'{len(items)} {severity}{plural} ({format_counts(self.counts(severity))})'
        return (f'{self.file}: {part(ERROR, self.errors)}, '
                f'{part(WARNING, self.warnings)} in {self.num_records} records')

    def format(self, max_lines: int | None = None) -> str:
        """The summary line, then one line per problem (errors first).

        Args:
            max_lines: show at most this many problem lines and say how many
                more there are; ``None`` shows all.
        """
        problems = self.errors + self.warnings
        shown = problems if max_lines is None else problems[:max_lines]
        lines = [self.summary()] + [f'  {p}' for p in shown]
        if len(shown) < len(problems):
            lines.append(f'  ... and {len(problems) - len(shown)} more problems '
                         '(run tools/check_dataset.py for the full list)')
        return '\n'.join(lines)


class DatasetValidationError(ValueError):
    """An annotation file has errors; the message is the formatted report.

    Attributes:
        report: the full :class:`ValidationReport`.
    """

    def __init__(self, report: ValidationReport, hint: str = '') -> None:
        self.report = report
        text = report.format(max_lines=MAX_ERROR_LINES)
        if hint:
            text = f'{text}\n{hint}'
        super().__init__(text)


# ---------------------------------------------------------------- helpers
# Types json.load gives numbers (bool is excluded on purpose).
_NUMBER_TYPES = frozenset((int, float))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _finite_numbers(values: Any, length: int | None = None) -> tuple[bool, str]:
    """Whether ``values`` is a list of finite numbers (of ``length``)."""
    if not isinstance(values, (list, tuple)):
        return False, f'must be a list, got {type(values).__name__}'
    if length is not None and len(values) != length:
        return False, f'has {len(values)} values, expected {length}'
    if not all(_is_number(v) for v in values):
        return False, f'contains non-numbers: {values!r}'
    if not all(math.isfinite(v) for v in values):
        return False, f'contains NaN or inf: {values!r}'
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


def _image_size(img: Mapping[str, Any]) -> tuple[float, float]:
    """(width, height) of an image record; NaN where not given or invalid."""
    out = []
    for key in ('width', 'height'):
        v = img.get(key)
        out.append(float(v) if _is_number(v) and math.isfinite(v) and v > 0 else math.nan)
    return out[0], out[1]


def _check_box(report: ValidationReport, box: Any, size: tuple[float, float],
               image_id: Any, ann_id: Any, field_name: str, file: str | None = None) -> bool:
    """Check one xywh box; return True when it is usable."""
    ok, why = _finite_numbers(box, 4)
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


# ------------------------------------------------------------------- COCO
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
    if not isinstance(data, Mapping):
        report.error(None, None, 'file', f'expected a json object, got {type(data).__name__}')
        report.fatal = True
        return report
    for key in ('images', 'annotations'):
        if not isinstance(data.get(key), list):
            report.error(None, None, key, f'the file has no "{key}" list')
            report.fatal = True
    if report.fatal:
        return report
    images, anns = data['images'], data['annotations']
    report.num_records = len(anns)
    k = int(num_keypoints)

    # Images.
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
        if not isinstance(img.get('file_name'), str) or not img['file_name']:
            report.error(iid, None, 'file_name', 'missing')
            bad_images.add(iid)
        else:
            files[iid] = img['file_name']
        for key in ('width', 'height'):
            v = img.get(key)
            if v is not None and not (_is_number(v) and math.isfinite(v) and v > 0):
                report.error(iid, None, key, f'must be a positive number, got {v!r}')
                bad_images.add(iid)
        sizes[iid] = _image_size(img)

    # Annotations: cheap per-record checks first, keypoints vectorised after.
    ann_id_first: dict[Any, int] = {}
    used_images: set[Any] = set()
    rows: list[int] = []          # positions whose keypoints have the right length
    values: list[list[float]] = []
    for pos, ann in enumerate(anns):
        if not isinstance(ann, Mapping):
            report.error(None, pos, 'annotation', f'annotations[{pos}] is not an object')
            report.bad_records.add(pos)
            continue
        if category_id is not None and ann.get('category_id', category_id) != category_id:
            continue
        aid, iid = ann.get('id'), ann.get('image_id')
        bad = False
        if aid is None:
            report.error(iid, None, 'id', f'annotations[{pos}] has no id')
            bad = True
        elif aid in ann_id_first:
            report.error(iid, aid, 'id', f'duplicate annotation id (also annotations'
                                         f'[{ann_id_first[aid]}])')
            bad = True
        else:
            ann_id_first[aid] = pos
        if iid not in sizes:
            report.error(iid, aid, 'image_id', 'refers to an image id not in "images"')
            bad = True
        else:
            used_images.add(iid)
        kp = ann.get('keypoints')
        if not isinstance(kp, (list, tuple)):
            report.error(iid, aid, 'keypoints', f'missing or not a list: {kp!r}'[:120])
            bad = True
        elif len(kp) != 3 * k:
            report.error(iid, aid, 'keypoints',
                         f'has {len(kp)} values, expected 3*K = {3 * k} (K={k})')
            bad = True
        elif not _NUMBER_TYPES.issuperset(map(type, kp)):
            report.error(iid, aid, 'keypoints', 'contains non-numbers')
            bad = True
        else:
            rows.append(pos)
            values.append(kp)
        if 'bbox' in ann and ann['bbox'] is not None:
            if not _check_box(report, ann['bbox'], sizes.get(iid, (math.nan, math.nan)),
                              iid, aid, 'bbox'):
                bad = True
        area = ann.get('area')
        if area is not None and not (_is_number(area) and math.isfinite(area)):
            report.error(iid, aid, 'area', f'must be a finite number, got {area!r}')
            bad = True
        if bad:
            report.bad_records.add(pos)

    if rows:
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


# ------------------------------------------------------------- detections
def validate_detections(dets: Any, bbox_file: str, images: Mapping[Any, Mapping[str, Any]],
                        img_dir: str, check_images: bool | str = True) -> ValidationReport:
    """Validate a COCO detection-result list (top-down evaluation boxes).

    Args:
        dets: the parsed json: a list of ``{image_id, bbox (xywh), score,
            category_id}``.
        bbox_file: its path (for messages).
        images: the annotation file's images by id.
        img_dir: the folder image ``file_name`` is relative to.
        check_images: as in :func:`validate_coco`, for images with detections.

    Returns:
        The report; ``bad_records`` holds detection positions, ``ann_id`` in
        problems is the detection's position in the list.
    """
    report = ValidationReport(file=bbox_file)
    if not isinstance(dets, list):
        report.error(None, None, 'file', 'a detection file must hold a json list')
        report.fatal = True
        return report
    report.num_records = len(dets)
    used: dict[Any, list[int]] = {}
    for pos, det in enumerate(dets):
        if not isinstance(det, Mapping):
            report.error(None, pos, 'detection', 'not an object')
            report.bad_records.add(pos)
            continue
        iid = det.get('image_id')
        bad = False
        if iid not in images:
            report.error(iid, pos, 'image_id', 'refers to an image id not in the annotation file')
            bad = True
        else:
            used.setdefault(iid, []).append(pos)
        if not _check_box(report, det.get('bbox'), _image_size(images.get(iid, {})),
                          iid, pos, 'bbox'):
            bad = True
        score = det.get('score')
        if not (_is_number(score) and math.isfinite(score)):
            report.error(iid, pos, 'score', f'must be a finite number, got {score!r}')
            bad = True
        if bad:
            report.bad_records.add(pos)
    for iid, positions in used.items():
        why = check_image_file(os.path.join(img_dir, str(images[iid].get('file_name', ''))),
                               check_images)
        if why:
            report.error(iid, None, 'file_name', why)
            report.bad_records.update(positions)
    return report


# ------------------------------------------------------------------- MPII
def validate_mpii(records: Any, ann_file: str, img_dir: str, num_keypoints: int, *,
                  check_images: bool | str = True) -> ValidationReport:
    """Validate an MPII-layout json (a list of ``image``, ``center``,
    ``scale``, ``joints`` (K x 2), ``joints_vis`` (K) records).

    The image id in problems is the ``image`` name, the annotation id the
    record's position.
    """
    report = ValidationReport(file=ann_file)
    if not isinstance(records, list):
        report.error(None, None, 'file', 'an MPII annotation file must hold a json list')
        report.fatal = True
        return report
    report.num_records = len(records)
    k = int(num_keypoints)
    by_image: dict[str, list[int]] = {}
    for pos, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            report.error(None, pos, 'record', 'not an object')
            report.bad_records.add(pos)
            continue
        name = rec.get('image')
        bad = False
        if not isinstance(name, str) or not name:
            report.error(None, pos, 'image', 'missing image name')
            bad = True
        else:
            by_image.setdefault(name, []).append(pos)
        ok, why = _finite_numbers(rec.get('center'), 2)
        if not ok:
            report.error(name, pos, 'center', why)
            bad = True
        elif rec['center'][0] == -1:
            report.error(name, pos, 'center', 'is -1 (no person position in the annotation)')
            bad = True
        scale = rec.get('scale')
        if not (_is_number(scale) and math.isfinite(scale) and scale > 0):
            report.error(name, pos, 'scale', f'must be a positive number, got {scale!r}')
            bad = True
        joints, vis = rec.get('joints'), rec.get('joints_vis')
        arr = None
        try:
            arr = np.asarray(joints, dtype=np.float64)
        except (TypeError, ValueError):
            pass
        if arr is None or arr.shape != (k, 2):
            shape = None if arr is None else arr.shape
            report.error(name, pos, 'joints', f'must be K x 2 = {k} x 2 numbers, got shape {shape}')
            bad = True
        elif not np.isfinite(arr).all():
            report.error(name, pos, 'joints', 'contains NaN or inf')
            bad = True
        if not isinstance(vis, (list, tuple)) or len(vis) != k:
            report.error(name, pos, 'joints_vis', f'must hold K = {k} values')
            bad = True
        elif not all(_is_number(v) and v in VISIBILITY_VALUES for v in vis):
            report.error(name, pos, 'joints_vis', f'values must be in {{0, 1, 2}}, got {vis}')
            bad = True
        elif not bad:
            neg = [i for i in range(k) if vis[i] > 0 and (arr[i] < 0).any()]
            if neg:
                report.warn(name, pos, 'joints',
                            f'labelled joints {neg} have negative coordinates')
        if bad:
            report.bad_records.add(pos)
    for name, positions in by_image.items():
        why = check_image_file(os.path.join(img_dir, name), check_images)
        if why:
            report.error(name, None, 'image', why)
            report.bad_records.update(positions)
    return report


def format_counts(counts: Mapping[str, int]) -> str:
    """``{'bbox': 2, 'keypoints': 1}`` -> ``'bbox: 2, keypoints: 1'``."""
    return ', '.join(f'{k}: {v}' for k, v in counts.items())
