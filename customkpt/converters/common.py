"""What every dataset converter shares: the output layout, its errors and json i/o.

The converters feed a :class:`~customkpt.converters.builder.CocoBuilder`
image by image, instance by instance; the builder numbers images and
annotations, derives the boxes it is not given, skips instances without a
labelled point and counts what it did. The resulting
:class:`~customkpt.converters.builder.ConversionResult` is then split
(:class:`~customkpt.converters.splits.SplitSpec`) and written
(:func:`~customkpt.converters.splits.write_splits`).

Output layout (one category, ``category_id`` 1)::

    {"images": [{"id", "file_name", "width", "height", ...optional fields}],
     "annotations": [{"id", "image_id", "category_id": 1, "bbox": [x, y, w, h],
                      "area", "iscrowd": 0, "num_keypoints",
                      "keypoints": [x, y, v] * K, ...optional fields}],
     "categories": [{"id": 1, "name", "supercategory", "keypoints": [names],
                     "skeleton": [[a, b], ...] 1-based as in COCO,
                     "flip_pairs": [[a, b], ...] 0-based}]}

Conventions:

* ``file_name`` is relative to the converter's image root
  (:attr:`ConversionResult.image_root`: the DeepLabCut project, the Labelme
  folder, or the image folder of AIC / MPII); a training config sets
  ``data_root`` (or ``data_prefix.img``) to that folder.
* Labelled points have ``v = 2`` (``v = 1`` where the source says
  "labelled but occluded"); unlabelled points are written ``0, 0, 0``.
* A box derived from points is their extent grown on every side by
  ``bbox_pad`` x the extent's longer side (at least ``min_margin`` pixels),
  then clipped to the image -- the rule the COCO dataset applies to
  annotations without a box, so converted and box-less files agree.
* ``area`` is the box area (there are no segmentation masks).
* Image and annotation ids run 1, 2, ... in the order the converter adds
  them (each converter documents its order, always deterministic).
"""
from __future__ import annotations

import json
import os
import posixpath
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..core.boxes import DERIVED_BOX_PADDING

__all__ = ['ConversionError', 'DEFAULT_BBOX_PAD', 'DEFAULT_MIN_MARGIN', 'read_json',
           'read_record_list', 'write_json', 'file_name_key', 'keypoint_triples', 'natural_key',
           'to_posix_relpath']

#: Default padding of boxes derived from points: fraction of the point
#: extent's longer side added on every side.
DEFAULT_BBOX_PAD = DERIVED_BOX_PADDING
#: Default smallest margin (pixels) around the points, so a single labelled
#: point still gets a box with an area.
DEFAULT_MIN_MARGIN = 8.0


class ConversionError(ValueError):
    """The input cannot be converted; the message names the file and record."""


# --------------------------------------------------------------------- helpers
def read_json(path: Path, what: str) -> Any:
    """Parse a json file; a missing file or bad json is a ConversionError
    naming ``what`` (e.g. 'MPII annotation file') and the path."""
    if not path.is_file():
        raise ConversionError(f'{what} not found: {path}')
    try:
        with open(path, encoding='utf-8') as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConversionError(f'{path}: invalid json: {exc}') from exc


def read_record_list(ann_file: str | Path, images_dir: str | Path | None, source: str,
                     record_kind: str) -> tuple[Path, list, Path]:
    """The records of an annotation json that is one list of records.

    Args:
        ann_file: the json file.
        images_dir: the image folder; None for the json's folder.
        source: the dataset, for messages ('MPII').
        record_kind: what a record is, for messages ('MPII person records').

    Returns:
        ``ann_file`` as a Path, the records, and the image root.

    Raises:
        ConversionError: a missing or invalid file, a COCO-style file, or
            anything but a list.
    """
    ann_file = Path(ann_file)
    records = read_json(ann_file, f'{source} annotation file')
    root = Path(images_dir) if images_dir is not None else ann_file.parent
    if isinstance(records, dict) and 'annotations' in records:
        raise ConversionError(f'{ann_file}: this is already a COCO-style file (it has '
                              '"annotations"); use it directly')
    if not isinstance(records, list):
        raise ConversionError(f'{ann_file}: expected a list of {record_kind}')
    return ann_file, records, root


def keypoint_triples(values: Any, k: int, where: str) -> np.ndarray:
    """(k, 3) float64 ``x, y, v`` rows of a flat ``[x, y, v] * k`` list;
    a ConversionError naming ``where`` for another length or non-numbers."""
    if not isinstance(values, list) or len(values) != 3 * k:
        got = len(values) if isinstance(values, list) else type(values).__name__
        raise ConversionError(f'{where}: expected {3 * k} numbers (x, y, v for {k} points), '
                              f'got {got}')
    try:
        return np.asarray(values, dtype=np.float64).reshape(k, 3)
    except (TypeError, ValueError):
        raise ConversionError(f'{where}: keypoints must be numbers') from None


def natural_key(text: str) -> tuple:
    """Sort key that orders digit runs by value (``img2`` before ``img10``)."""
    return tuple(int(tok) if tok.isdigit() else tok.lower()
                 for tok in re.split(r'(\d+)', str(text)))


def file_name_key(name: Any) -> str:
    """A COCO ``file_name`` for comparing: forward slashes, ``.`` and ``..``
    and doubled separators resolved (``images\\a.png`` == ``./images/a.png``)."""
    return posixpath.normpath(str(name).replace('\\', '/'))


def to_posix_relpath(path: str | Path, root: str | Path) -> str:
    """``path`` relative to ``root`` with forward slashes (may contain ``..``)."""
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    return rel.replace(os.sep, '/')



def write_json(obj: Any, path: str | Path) -> Path:
    """Write compact json (parent folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + '.tmp')
    with open(tmp, 'w', encoding='utf-8') as fh:
        # json.dumps runs the C encoder, json.dump the pure-Python one (3x slower).
        fh.write(json.dumps(obj, ensure_ascii=False, separators=(',', ':')) + '\n')
    os.replace(tmp, path)
    return path

