"""Label Studio JSON exports -> COCO-keypoint json.

Input: the "JSON" export, a list of tasks::

    [{"id": 7, "data": {"image": "/data/upload/1/3f2a9c1e-img.png"},
      "annotations": [{"id": 3, "was_cancelled": false, "result": [
          {"id": "r1", "type": "rectanglelabels", "original_width": 640,
           "original_height": 480, "image_rotation": 0,
           "value": {"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0,
                     "rectanglelabels": ["mouse"]}},
          {"id": "k1", "type": "keypointlabels", "original_width": 640,
           "original_height": 480, "parentID": "r1",
           "value": {"x": 25.5, "y": 30.1, "width": 0.6, "keypointlabels": ["nose"]}}]}]}]

Coordinates are percent of ``original_width`` / ``original_height`` (of the
image file when those are missing); a rectangle's ``x, y`` is its top-left
corner and ``rotation`` (degrees, clockwise) turns it about that corner, its
box being the extent of the turned rectangle. Results of other types are
ignored; a task's ``predictions`` too. The first annotation of a task that
is not cancelled is converted (others counted). Tasks without one are left
out (counted): they are not labelled yet or were skipped, so their images
may well show the object. A task whose annotation has no keypoint or
rectangle keeps its image, without an annotation (counted), when the image
is found. Label Studio has no visibility flag: every point gets ``v = 2``.

Instances: with rectangles, each rectangle is an instance of its
``rectanglelabels`` label, with that box; a keypoint belongs to the
rectangle named by its ``parentID`` (or joined to it by a ``relation``
result), else to the rectangle containing it (the smallest, when several
do). Points in no rectangle are left out (counted). Without rectangles, a
task holds one instance of the label ``category_name`` (default
``object``). A keypoint name twice in one instance is an error. Keypoint
names: ``keypoints`` when given, else the ``keypointlabels`` in order of
first appearance (per label). One label is converted; several are named
and ``label`` picks one (rules shared with CVAT:
:mod:`~customkpt.converters.tool_images`).

Images: ``data.image`` (or the task's only string value) is found below
``images_dir`` (default: the json's folder), which is the image root,
trying in turn the path without its Label Studio prefix
(``/data/upload/`` for uploads, the ``?d=`` path of local-storage URLs, the
path of other URLs), its file name, and the file name without the 8-digit
hexadecimal prefix Label Studio gives uploads (``3f2a9c1e-img.png`` ->
``img.png``); a plain absolute path is tried as it is first. A missing image is an error naming the task. Tasks keep the
file's order.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import parse_qs, unquote, urlparse

import numpy as np

from .builder import ConversionResult
from .common import (DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, ConversionError, read_json,
                     to_posix_relpath)
from .images import image_size
from .tool_images import (NO_IMAGE_FILE, LabelDefinition, ToolImage, ToolInstance,
                          build_from_tool)

__all__ = ['convert_labelstudio', 'image_candidates', 'UNANNOTATED']

_UPLOAD_PREFIX = '/data/upload/'
_HASH_PREFIX = re.compile(r'^[0-9a-f]{8}-')
_REGION_TYPES = ('keypointlabels', 'rectanglelabels')
#: Why a task is left out: no annotation that is not cancelled.
UNANNOTATED = 'task without a submitted annotation (not labelled yet, or skipped)'


def image_candidates(value: str, root: Path) -> list[Path]:
    """Where the image of a task's ``data`` value may be, in the order tried."""
    parsed = urlparse(value)
    plain = False
    if 'd' in parse_qs(parsed.query):
        rel = unquote(parse_qs(parsed.query)['d'][0])
    elif value.startswith(_UPLOAD_PREFIX):
        rel = unquote(value[len(_UPLOAD_PREFIX):])
    elif parsed.scheme and parsed.netloc:
        rel = unquote(parsed.path)
    else:
        rel, plain = value, True
    rel = rel.replace('\\', '/')
    name = rel.rstrip('/').split('/')[-1]
    out = [Path(rel)] if plain and Path(rel).is_absolute() else []
    out += [root / rel.lstrip('/'), root / name, root / _HASH_PREFIX.sub('', name)]
    return list(dict.fromkeys(out))


def _image_value(task: dict, results: list, where: str) -> str:
    data = task.get('data')
    if not isinstance(data, dict):
        raise ConversionError(f'{where}: no "data" object')
    keys = [r.get('to_name') for r in results if isinstance(r, dict)] + ['image']
    for key in keys:
        if isinstance(data.get(key), str):
            return data[key]
    strings = [k for k, v in data.items() if isinstance(v, str)]
    if len(strings) == 1:
        return data[strings[0]]
    raise ConversionError(f'{where}: cannot tell which data field is the image (no "image" '
                          f'field; string fields: {strings})')


def _find_image(value: str, root: Path, where: str, required: bool = True) -> Path | None:
    """The first of :func:`image_candidates` that is a file; when there is
    none, an error (``required``) or ``None``."""
    candidates = image_candidates(value, root)
    for cand in candidates:
        if cand.is_file():
            return cand
    if not required:
        return None
    raise ConversionError(f'{where}: image {value!r} not found (looked for '
                          f'{[str(c) for c in candidates]}; set --images-dir to the image '
                          'folder)')


def _first_annotation(task: dict, where: str) -> tuple[list | None, int]:
    """The result list of the first annotation not cancelled (``None`` when
    there is none), and the number of further annotations."""
    anns = task.get('annotations') or []
    if not isinstance(anns, list):
        raise ConversionError(f'{where}: "annotations" is not a list')
    usable = [a for a in anns if isinstance(a, dict) and not a.get('was_cancelled')]
    if not usable:
        return None, 0
    result = usable[0].get('result')
    if not isinstance(result, list):
        raise ConversionError(f'{where}: annotation {usable[0].get("id")}: "result" is not a '
                              'list')
    return result, len(usable) - 1


def _size(results: list, image: Path, where: str) -> tuple[int, int, bool]:
    """Original size from the results (``True``), else the file's (``False``)."""
    sizes = {(r.get('original_width'), r.get('original_height')) for r in results
             if isinstance(r, dict) and r.get('original_width') is not None}
    if len(sizes) > 1:
        raise ConversionError(f'{where}: results give different original sizes {sorted(sizes)}')
    if sizes:
        (w, h), = sizes
        if isinstance(w, (int, float)) and isinstance(h, (int, float)) and w > 0 and h > 0:
            return int(w), int(h), True
        raise ConversionError(f'{where}: original_width/original_height {w!r}/{h!r} are not '
                              'positive numbers')
    return (*image_size(image), False)


def _percent(value: dict, keys: Sequence[str], where: str) -> list[float]:
    try:
        out = [float(value[k]) for k in keys]
    except (KeyError, TypeError, ValueError):
        raise ConversionError(f'{where}: value needs numbers {list(keys)}, got {value!r}') from None
    if not all(math.isfinite(v) for v in out):
        raise ConversionError(f'{where}: value has non-finite numbers: {value!r}')
    return out


def _one_label(value: dict, key: str, where: str) -> str:
    labels = value.get(key)
    if not isinstance(labels, list) or len(labels) != 1:
        raise ConversionError(f'{where}: expected one label in {key}, got {labels!r}')
    return str(labels[0])


def _rectangle(value: dict, w: int, h: int, where: str) -> list[float]:
    x, y, bw, bh = _percent(value, ('x', 'y', 'width', 'height'), where)
    x0, y0, bw, bh = x / 100 * w, y / 100 * h, bw / 100 * w, bh / 100 * h
    angle = math.radians(float(value.get('rotation') or 0.0))
    corners = np.array([[0, 0], [bw, 0], [bw, bh], [0, bh]], np.float64)
    c, s = math.cos(angle), math.sin(angle)
    turned = corners @ np.array([[c, s], [-s, c]]) + [x0, y0]
    return [*turned.min(axis=0).tolist(), *turned.max(axis=0).tolist()]


def _regions(results: list, w: int, h: int, where: str
             ) -> tuple[dict[str, tuple[str, list[float]]], list[tuple], dict[str, str]]:
    """Rectangles (id -> label, xyxy), keypoints (id, name, x, y, parent id)
    and relations (keypoint id -> rectangle id candidates) of one annotation."""
    rects: dict[str, tuple[str, list[float]]] = {}
    points, links = [], {}
    for j, r in enumerate(results):
        if not isinstance(r, dict):
            raise ConversionError(f'{where}: result {j} is not an object')
        rwhere = f'{where}, result {j} (id {r.get("id")!r})'
        if r.get('image_rotation'):
            raise ConversionError(f'{rwhere}: image_rotation {r["image_rotation"]} is not '
                                  'supported (rotate the image in Label Studio back to 0)')
        value = r.get('value') if isinstance(r.get('value'), dict) else {}
        if r.get('type') == 'rectanglelabels':
            rects[str(r.get('id'))] = (_one_label(value, 'rectanglelabels', rwhere),
                                       _rectangle(value, w, h, rwhere))
        elif r.get('type') == 'keypointlabels':
            x, y = _percent(value, ('x', 'y'), rwhere)
            points.append((str(r.get('id')), _one_label(value, 'keypointlabels', rwhere),
                           x / 100 * w, y / 100 * h, r.get('parentID'), rwhere))
        elif r.get('type') == 'relation':
            links[str(r.get('from_id'))] = str(r.get('to_id'))
            links.setdefault(str(r.get('to_id')), str(r.get('from_id')))
    return rects, points, links


def _owner(point: tuple, rects: dict[str, tuple[str, list[float]]],
           links: dict[str, str], counts: Counter) -> str | None:
    """The rectangle id a keypoint belongs to (module notes)."""
    pid, _, x, y, parent, _ = point
    for ref in (parent, links.get(pid)):
        if ref is not None and str(ref) in rects:
            return str(ref)
    inside = [(area, rid) for rid, (_, (x0, y0, x1, y1)) in rects.items()
              if x0 <= x <= x1 and y0 <= y <= y1 for area in [(x1 - x0) * (y1 - y0)]]
    if not inside:
        counts['outside'] += 1
        return None
    counts['several'] += len(inside) > 1
    return min(inside)[1]


def _instances(results: list, w: int, h: int, where: str, points_label: str,
               counts: Counter) -> list[ToolInstance]:
    rects, points, links = _regions(results, w, h, where)
    groups: dict[str | None, ToolInstance] = {
        rid: ToolInstance(label=label, points={}, box=box, where=f'{where}, rectangle {rid!r}')
        for rid, (label, box) in rects.items()}
    if not rects:
        groups[None] = ToolInstance(label=points_label, points={}, where=where)
    for point in points:
        owner = _owner(point, rects, links, counts) if rects else None
        if rects and owner is None:
            continue
        inst, name = groups[owner], point[1]
        if name in inst.points:
            raise ConversionError(f'{point[5]}: keypoint {name!r} appears twice in '
                                  f'{"one rectangle" if rects else "a task without rectangles"}'
                                  + ('' if rects else ' (several instances need rectangles)'))
        inst.points[name] = (point[2], point[3], 2)
    return list(groups.values())


def _task(task: Any, pos: int, path: Path, root: Path, points_label: str, counts: Counter
          ) -> ToolImage | None:
    if not isinstance(task, dict):
        raise ConversionError(f'{path}: task {pos} is not an object')
    where = f'{path}: task {task.get("id", pos)}'
    results, extra = _first_annotation(task, where)
    counts['extra annotations'] += extra
    if results is None:
        counts[UNANNOTATED] += 1
        return None
    empty = not any(isinstance(r, dict) and r.get('type') in _REGION_TYPES for r in results)
    # labelled, with nothing to convert: kept when its image is there
    image = _find_image(_image_value(task, results, where), root, where, required=not empty)
    if image is None:
        counts[NO_IMAGE_FILE] += 1
        return None
    w, h, given = _size(results, image, where)
    insts = [] if empty else _instances(results, w, h, where, points_label, counts)
    return ToolImage(to_posix_relpath(image, root), w if given else None, h if given else None,
                     where, insts)


def _definitions(images: Sequence[ToolImage], keypoints: Sequence[str] | None
                 ) -> dict[str, LabelDefinition]:
    seen: dict[str, list[str]] = {}
    for img in images:
        for inst in img.instances:
            names = seen.setdefault(inst.label, [])
            names += [n for n in inst.points if n not in names]
    if keypoints is not None:
        return {label: LabelDefinition(names=[str(n) for n in keypoints]) for label in seen}
    return {label: LabelDefinition(names=names) for label, names in seen.items()}


def convert_labelstudio(json_file: str | Path, images_dir: str | Path | None = None,
                        keypoints: Sequence[str] | None = None, label: str | None = None,
                        bbox_pad: float = DEFAULT_BBOX_PAD,
                        min_margin: float = DEFAULT_MIN_MARGIN,
                        category_name: str | None = None,
                        progress: bool = True) -> ConversionResult:
    """Convert a Label Studio JSON export.

    Args:
        json_file: the export (a list of tasks).
        images_dir: the image root; default the json's folder.
        keypoints: keypoint names in order; default: order of first appearance.
        label: the rectangle label to convert when there are several.
        bbox_pad: padding of the boxes derived from points.
        min_margin: smallest box margin in pixels.
        category_name: category name; default the label (``object`` for
            tasks without rectangles).
        progress: show a progress bar.

    Raises:
        ConversionError: invalid json, malformed results (naming the task
            and result), missing images (naming the task), several labels and
            no ``label``.
    """
    path = Path(json_file)
    tasks = read_json(path, 'Label Studio export')
    if not isinstance(tasks, list):
        raise ConversionError(f'{path}: expected a list of tasks (Label Studio\'s "JSON" export)')
    root = Path(images_dir) if images_dir is not None else path.parent
    counts: Counter = Counter()
    images = []
    for pos, task in enumerate(tasks):
        img = _task(task, pos, path, root, category_name or 'object', counts)
        if img is not None:
            images.append(img)
    result = build_from_tool(images, _definitions(images, keypoints), root, 'labelstudio',
                             str(path), label=label, category_name=category_name,
                             bbox_pad=bbox_pad, min_margin=min_margin, progress=progress,
                             left_out={k: counts[k] for k in (UNANNOTATED, NO_IMAGE_FILE)})
    notes = {'extra annotations': 'further annotation(s) of tasks ignored (the first is used)',
             'outside': 'keypoint(s) inside no rectangle left out',
             'several': 'keypoint(s) inside several rectangles given to the smallest'}
    result.stats.notes.extend(f'{counts[k]} {text}' for k, text in notes.items() if counts[k])
    return result
