"""Labelme annotations -> COCO-keypoint json.

Input: a folder searched recursively for Labelme ``.json`` files (json files
without a ``shapes`` list, e.g. earlier converter output, are skipped and
counted). In each file:

* a ``point`` shape whose label is a keypoint name marks that keypoint;
* a ``rectangle`` shape (any label) is the box of its instance; instances
  without one get a box from their points;
* ``group_id`` separates instances in one image: shapes with the same
  ``group_id`` form one instance. An image whose shapes all lack a
  ``group_id`` holds one instance; mixing shapes with and without a
  ``group_id`` in one image is an error naming the file;
* other shape types (polygons, lines, ...) are ignored and counted.

Keypoint names: ``keypoints`` when given (labels outside it are an error),
else every point label in order of first appearance, reading files in
natural order of their path and shapes in file order. Pass the names
explicitly to fix their order (it defines the model's output channels).

``imagePath`` is relative to the json file; ``file_name`` is written
relative to the source folder, which is the image root (it may start with
``..`` when images sit beside that folder). Image sizes come from
``imageWidth`` / ``imageHeight``, or from the image when those are missing.
Images are written in natural order of the json paths; each records
``folder``, the json's folder relative to the source (``.`` at the top), for
folder splits. Labelme has no visibility flag: every point has ``v = 2``.

A file without any point or rectangle shape (no instance) still gives its
image, without an annotation, as every converter keeps a listed image without
a labelled instance (:meth:`~customkpt.converters.builder.CocoBuilder.finish`
counts them). A rectangle without points is an instance skipped as ``no
labelled point``; its image is kept too.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from tqdm import tqdm

from .builder import CocoBuilder, ConversionResult
from .category import make_category
from .common import (DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, ConversionError, natural_key,
                     read_json, to_posix_relpath)
from .images import image_size


def _number_pair(value: Any) -> tuple[float, float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        try:
            x, y = float(value[0]), float(value[1])
        except (TypeError, ValueError):
            return None
        if math.isfinite(x) and math.isfinite(y):
            return x, y
    return None


def _find_files(src: Path, exclude: Iterable[Path]) -> list[Path]:
    skip = [p.resolve() for p in exclude]
    found = []
    for path in src.rglob('*.json'):
        full = path.resolve()
        if any(full == s or s in full.parents for s in skip):
            continue
        found.append(path)
    return sorted(found, key=lambda p: natural_key(p.relative_to(src).as_posix()))


def _load(path: Path) -> dict | None:
    """The parsed file, ``None`` when it is not a Labelme annotation."""
    data = read_json(path, 'Labelme file')
    if not isinstance(data, dict) or not isinstance(data.get('shapes'), list):
        return None
    return data


def _group_shapes(path: Path, shapes: list[Any]
                  ) -> tuple[dict[Any, dict[str, Any]], int]:
    """Instances of one file: ``group -> {'points': {label: (x, y)}, 'box': xyxy}``,
    and the number of ignored shapes."""
    used: list[tuple[int, dict]] = []
    ignored = 0
    for i, shape in enumerate(shapes):
        if not isinstance(shape, dict):
            raise ConversionError(f'{path}: shape {i} is not an object')
        kind = shape.get('shape_type') or 'polygon'
        if kind in ('point', 'rectangle'):
            used.append((i, shape))
        else:
            ignored += 1
    groups = sorted({s.get('group_id') for _, s in used if s.get('group_id') is not None},
                    key=lambda g: natural_key(str(g)))
    instances: dict[Any, dict[str, Any]] = {}
    for i, shape in used:
        gid = shape.get('group_id')
        label = str(shape.get('label', '')).strip()
        kind = shape['shape_type']
        if gid is None and groups:
            raise ConversionError(
                f'{path}: shape {i} ({kind} {label!r}) has no group_id, but this image has '
                f'instances with group ids {groups}: give every point and rectangle of the '
                'image a group_id (or none of them, for a single instance)')
        inst = instances.setdefault(gid, {'points': {}, 'box': None})
        where = f'{path}: shape {i} ({kind} {label!r}' + (
            f', group {gid})' if gid is not None else ')')
        pts = shape.get('points')
        if kind == 'point':
            xy = _number_pair(pts[0]) if isinstance(pts, list) and len(pts) == 1 else None
            if xy is None:
                raise ConversionError(f'{where}: expected one [x, y] point, got {pts!r}')
            if not label:
                raise ConversionError(f'{where}: point without a label')
            if label in inst['points']:
                raise ConversionError(f'{where}: keypoint {label!r} appears twice in one '
                                      'instance' + ('' if groups else
                                                    ' (several instances need group ids)'))
            inst['points'][label] = xy
        else:
            corners = ([_number_pair(p) for p in pts]
                       if isinstance(pts, list) and len(pts) == 2 else [None])
            if any(c is None for c in corners):
                raise ConversionError(f'{where}: expected two [x, y] corners, got {pts!r}')
            if inst['box'] is not None:
                raise ConversionError(f'{where}: a second rectangle for the same instance')
            (x0, y0), (x1, y1) = corners
            inst['box'] = [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]
    return instances, ignored


def convert_labelme(src_dir: str | Path, keypoints: Sequence[str] | None = None,
                    bbox_pad: float = DEFAULT_BBOX_PAD, min_margin: float = DEFAULT_MIN_MARGIN,
                    category_name: str | None = None, exclude: Iterable[str | Path] = (),
                    progress: bool = True) -> ConversionResult:
    """Convert a folder of Labelme files.

    Args:
        src_dir: the folder searched recursively for ``.json`` files.
        keypoints: keypoint names in order; ``None`` collects the point labels
            in order of first appearance.
        bbox_pad: padding of the boxes derived from points.
        min_margin: smallest box margin in pixels.
        category_name: category (and dataset) name; default ``object``.
        exclude: folders not to search (e.g. the output folder).
        progress: show a progress bar.

    Returns:
        The converted dataset; its image root is ``src_dir``.

    Raises:
        ConversionError: invalid json, malformed shapes, a point without a
            group in an image with groups, unknown labels, missing images.
    """
    src = Path(src_dir)
    if not src.is_dir():
        raise ConversionError(f'Labelme folder not found: {src}')
    loaded, not_labelme = _read_files(src, [Path(p) for p in exclude], progress)
    parsed = [(path, data, *_group_shapes(path, data['shapes'])) for path, data in loaded]
    names = _keypoint_names(src, [data for _, data in loaded], keypoints)
    category = make_category(category_name or 'object', names, source='--keypoints')
    builder = CocoBuilder(category, bbox_pad=bbox_pad, min_margin=min_margin)
    if not_labelme:
        builder.note(f'{len(not_labelme)} json file(s) are not Labelme annotations and were '
                     f'skipped, e.g. {not_labelme[0]}')
    ignored_shapes = 0
    missing_images: list[str] = []
    for path, data, instances, ignored in tqdm(parsed, desc='labelme', unit='img',
                                               disable=not progress):
        ignored_shapes += ignored
        _add_file(builder, src, path, data, instances, names, missing_images)
    if ignored_shapes:
        builder.note(f'{ignored_shapes} shape(s) other than point/rectangle ignored')
    if missing_images:
        builder.note(f'{len(missing_images)} image file(s) not found (sizes taken from the '
                     f'json), e.g. {missing_images[0]}')
    return builder.finish(src, 'labelme')


def _read_files(src: Path, exclude: Sequence[Path], progress: bool
                ) -> tuple[list[tuple[Path, dict]], list[str]]:
    """The Labelme files under ``src`` (path, parsed json), and the json files
    that are not Labelme annotations (relative paths)."""
    loaded: list[tuple[Path, dict]] = []
    not_labelme: list[str] = []
    for path in tqdm(_find_files(src, exclude), desc='labelme: read', unit='file',
                     disable=not progress):
        data = _load(path)
        if data is None:
            not_labelme.append(path.relative_to(src).as_posix())
        else:
            loaded.append((path, data))
    if not loaded:
        raise ConversionError(f'{src}: no Labelme json files found (a Labelme file is an '
                              'object with a "shapes" list)')
    return loaded, not_labelme


def _keypoint_names(src: Path, files: Sequence[dict],
                    keypoints: Sequence[str] | None) -> list[str]:
    """``keypoints`` cleaned, or every point label in order of first appearance."""
    if keypoints is not None:
        return [str(n).strip() for n in keypoints]
    names = list(dict.fromkeys(
        label for data in files for shape in data['shapes']
        if isinstance(shape, dict) and shape.get('shape_type') == 'point'
        for label in [str(shape.get('label', '')).strip()]))
    if not names:
        raise ConversionError(f'{src}: no point shapes in any Labelme file')
    return names


def _add_file(builder: CocoBuilder, src: Path, path: Path, data: dict,
              instances: dict[Any, dict[str, Any]], names: list[str],
              missing_images: list[str]) -> None:
    """Add the image of one Labelme file and its instances."""
    image_path = data.get('imagePath')
    if not isinstance(image_path, str) or not image_path.strip():
        raise ConversionError(f'{path}: no imagePath (files with only embedded imageData '
                              'are not supported)')
    img = Path(os.path.normpath(path.parent / image_path.replace('\\', '/')))
    rel = to_posix_relpath(img, src)
    width, height = data.get('imageWidth'), data.get('imageHeight')
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        if not img.is_file():
            missing_images.append(rel)
    else:
        try:
            width, height = image_size(img)
        except ConversionError as exc:
            raise ConversionError(f'{path}: no imageWidth/imageHeight and {exc}') from None
    img_id = builder.add_image(rel, width, height, folder=to_posix_relpath(path.parent, src))
    index = {n: i for i, n in enumerate(names)}
    for gid in sorted(instances, key=lambda g: natural_key(str(g))):
        kpts = np.zeros((len(names), 3), dtype=np.float64)
        for label, (x, y) in instances[gid]['points'].items():
            if label not in index:
                raise ConversionError(
                    f'{path}: point label {label!r} is not a keypoint name; known: {names}')
            kpts[index[label]] = (x, y, 2)
        extra = {'group_id': gid} if gid is not None else {}
        builder.add_instance(img_id, kpts, box_xyxy=instances[gid]['box'], **extra)


__all__ = ['convert_labelme']
