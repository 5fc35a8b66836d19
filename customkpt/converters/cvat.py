"""CVAT exports -> COCO-keypoint json.

Two export formats, told apart by the file's suffix:

* ``.json``: "COCO Keypoints 1.0". COCO with CVAT's habits: every
  skeleton label is a category with ``keypoints`` (its point names) and a
  1-based ``skeleton`` (a skeleton using index 0 is read as 0-based);
  categories without keypoints (boxes, polygons) and their annotations are
  ignored and counted; ``v`` is 2 (visible), 1 (occluded) or 0 (outside or
  absent, with whatever coordinates CVAT wrote; written ``0, 0, 0``). CVAT
  writes as ``bbox`` the tight extent of the points unless a box was grouped
  with the skeleton; a tight or empty box is replaced by one derived from the
  points with the usual padding, any other box is kept. A category's own
  ``flip_pairs`` (0-based) are used; otherwise they come from left/right
  words in the names.
* ``.xml``: "CVAT for images 1.1", read by
  :func:`~customkpt.converters.cvat_xml.read_cvat_xml`.

One label (category) is converted; a file with several names them and
``label`` picks one (see :mod:`~customkpt.converters.tool_images` for the
rules shared with Label Studio). Images keep the file's order.

Image root: ``images_dir`` when given. Otherwise the first of these folders
that holds the first image: the file's folder, its ``images`` sub-folder, the
``images`` folder beside it and that folder's ``<subset>`` sub-folder (CVAT's
export archives put ``annotations/person_keypoints_<subset>.json`` beside
``images/``); the file's folder when none does.
"""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from .builder import ConversionResult
from .common import (DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, ConversionError, keypoint_triples,
                     read_json)
from .cvat_xml import read_cvat_xml
from .tool_images import LabelDefinition, ToolImage, ToolInstance, build_from_tool

__all__ = ['convert_cvat', 'default_image_root']


def default_image_root(ann_file: Path, first_image: str | None) -> Path:
    """The image root used without ``images_dir`` (module notes)."""
    folder = ann_file.parent
    subset = ann_file.stem.rsplit('_', 1)[-1]
    candidates = [folder, folder / 'images', folder.parent / 'images',
                  folder.parent / 'images' / subset]
    if first_image:
        for cand in candidates:
            if (cand / first_image).is_file():
                return cand
    return folder


def _coco_skeleton(cat: dict, where: str) -> list[list[int]]:
    links = cat.get('skeleton') or []
    try:
        pairs = [[int(a), int(b)] for a, b in links]
    except (TypeError, ValueError):
        raise ConversionError(f'{where}: skeleton must be a list of [a, b] index pairs, got '
                              f'{links!r}') from None
    zero_based = any(0 in p for p in pairs)
    return [[a - (not zero_based), b - (not zero_based)] for a, b in pairs]


def _coco_definitions(categories: list, path: Path) -> tuple[dict[str, LabelDefinition],
                                                             dict[Any, str]]:
    """Definitions by category name, and category id -> name, of the
    categories with keypoints."""
    definitions: dict[str, LabelDefinition] = {}
    names: dict[Any, str] = {}
    for i, cat in enumerate(categories):
        if not isinstance(cat, dict) or not cat.get('keypoints'):
            continue
        name = str(cat.get('name', cat.get('id')))
        where = f'{path}: categories[{i}] ({name!r})'
        if name in definitions:
            raise ConversionError(f'{where}: a second category with this name')
        flip = cat.get('flip_pairs')
        definitions[name] = LabelDefinition(
            names=[str(n) for n in cat['keypoints']], skeleton=_coco_skeleton(cat, where),
            flip_pairs=[list(p) for p in flip] if isinstance(flip, list) else None)
        names[cat.get('id')] = name
    if not definitions:
        raise ConversionError(f'{path}: no category has keypoints; export the task as '
                              '"COCO Keypoints 1.0"')
    return definitions, names


def _coco_points(values: Any, names: list[str], where: str
                 ) -> dict[str, tuple[float, float, int]]:
    points = {}
    for name, (x, y, v) in zip(names, keypoint_triples(values, len(names), where)):
        if v not in (0, 1, 2):
            raise ConversionError(f'{where}: keypoint {name!r} has visibility {v:g} '
                                  '(0, 1 or 2)')
        if v > 0:
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ConversionError(f'{where}: keypoint {name!r} is labelled but has '
                                      f'coordinates {x}, {y}')
            points[name] = (float(x), float(y), int(v))
    return points


def _coco_box(bbox: Any, points: dict[str, tuple[float, float, int]], where: str
              ) -> list[float] | None:
    """The annotation's box as xyxy, or ``None`` for one derived from the
    points (no box, an empty box, or the points' tight extent)."""
    if bbox is None:
        return None
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise ConversionError(f'{where}: bbox must be [x, y, w, h], got {bbox!r}') from None
    if not (w > 0 and h > 0) or not all(math.isfinite(v) for v in (x, y, w, h)):
        return None
    if points:
        xy = np.asarray([p[:2] for p in points.values()])
        tight = np.concatenate([xy.min(0), xy.max(0) - xy.min(0)])
        if np.allclose(tight, [x, y, w, h], atol=0.01):
            return None
    return [x, y, x + w, y + h]


def _read_coco(path: Path) -> tuple[dict[str, LabelDefinition], list[ToolImage], list[str]]:
    data = read_json(path, 'CVAT COCO Keypoints file')
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in
                                             ('images', 'annotations', 'categories')):
        raise ConversionError(f'{path}: expected a COCO object with "images", "annotations" '
                              'and "categories" lists')
    definitions, cat_names = _coco_definitions(data['categories'], path)
    images: dict[Any, ToolImage] = {}
    for i, rec in enumerate(data['images']):
        if not isinstance(rec, dict) or not rec.get('file_name'):
            raise ConversionError(f'{path}: images[{i}]: expected an object with a file_name')
        where = f'{path}: image id {rec.get("id")} ({rec["file_name"]})'
        images[rec.get('id')] = ToolImage(str(rec['file_name']), rec.get('width'),
                                          rec.get('height'), where)
    ignored: Counter = Counter()
    for i, ann in enumerate(data['annotations']):
        if not isinstance(ann, dict):
            raise ConversionError(f'{path}: annotations[{i}] is not an object')
        where = f'{path}: annotation id {ann.get("id")} (annotations[{i}])'
        name = cat_names.get(ann.get('category_id'))
        if name is None:
            ignored['no keypoints'] += 1
            continue
        if ann.get('image_id') not in images:
            raise ConversionError(f'{where}: image_id {ann.get("image_id")!r} is not an image')
        points = _coco_points(ann.get('keypoints'), definitions[name].names, where)
        images[ann['image_id']].instances.append(ToolInstance(
            label=name, points=points, box=_coco_box(ann.get('bbox'), points, where),
            where=where))
    notes = [f'{ignored["no keypoints"]} annotation(s) of categories without keypoints '
             'ignored'] if ignored else []
    return definitions, list(images.values()), notes


def convert_cvat(ann_file: str | Path, images_dir: str | Path | None = None,
                 label: str | None = None, bbox_pad: float = DEFAULT_BBOX_PAD,
                 min_margin: float = DEFAULT_MIN_MARGIN, category_name: str | None = None,
                 progress: bool = True) -> ConversionResult:
    """Convert a CVAT export (COCO Keypoints 1.0 json or CVAT for images 1.1 XML).

    Args:
        ann_file: the ``.json`` or ``.xml`` file.
        images_dir: the image root; default: see the module notes.
        label: the label (skeleton / category) to convert when there are several.
        bbox_pad: padding of the boxes derived from points.
        min_margin: smallest box margin in pixels.
        category_name: category (and dataset) name; default the label (for
            XML files of loose points: ``object``).
        progress: show a progress bar.

    Returns:
        The converted dataset; its image root as above.

    Raises:
        ConversionError: unreadable files, malformed records (naming the
            file and the image / annotation), several labels and no
            ``label``, missing images or images of another size.
    """
    path = Path(ann_file)
    suffix = path.suffix.lower()
    if suffix == '.json':
        definitions, images, notes = _read_coco(path)
    elif suffix == '.xml':
        definitions, images, notes = read_cvat_xml(path, points_label=category_name or 'object')
    else:
        raise ConversionError(f'{path}: expected a CVAT .json (COCO Keypoints 1.0) or .xml '
                              '(CVAT for images 1.1) export')
    first = next((img.file_name for img in images if img.instances), None)
    root = Path(images_dir) if images_dir is not None else default_image_root(path, first)
    result = build_from_tool(images, definitions, root, 'cvat', str(path), label=label,
                             category_name=category_name, bbox_pad=bbox_pad,
                             min_margin=min_margin, progress=progress)
    result.stats.notes.extend(notes)
    return result
