"""DeepPoseKit annotation files -> COCO-keypoint json.

Input: the HDF5 file DeepPoseKit's annotation tools write (read with h5py,
an optional dependency), with the datasets

* ``images``: (N, H, W, C) uint8 (C = 1 or 3; (N, H, W) is read as C = 1),
  channels in OpenCV's BGR order, as DeepPoseKit's OpenCV-based annotator
  shows them; written unchanged;
* ``annotations``: (N, K, 2) float, ``x, y`` in pixels of each image;
* ``annotated`` (optional): (N, K) bool, whether each point was labelled.

and the skeleton csv with the columns ``name`` (the K point names, in the
order of ``annotations``), ``parent`` (the name of the point it hangs from;
empty for a root) and ``swap`` (the name of its mirror point; empty for a
point on the midline). Other columns are ignored.

A point is labelled (``v = 2``) where ``annotated`` is true; a labelled
point without finite coordinates is an error. Files without ``annotated``
count a point as labelled when its coordinates are finite and not both
negative (placeholders of unlabelled points lie outside the image).

Images without any labelled point are left out (counted in the summary),
unlike the other formats' frames without a labelled instance, which are
kept: a DeepPoseKit file holds one animal per image, with every point to be
placed, and an image none of whose points is marked annotated is one not
annotated yet (DeepPoseKit's annotator says so, and its own training reads
only annotated images), not a frame known to show no animal. The others are
written to ``images_out`` as ``<index:06d>.png`` (index = row in the file),
which is the image root, in row order, each recording ``frame_idx``; the
``images`` dataset is read in blocks of whole chunks
(:func:`~customkpt.converters.hdf5.read_rows`). Boxes come from the points.
The category's skeleton links each point to its parent; its flip pairs are
the ``swap`` table, which must be symmetric.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .builder import CocoBuilder, ConversionResult
from .category import make_category
from .common import DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, ConversionError
from .frames import FrameWriter
from .hdf5 import get_dataset, open_hdf5, read_rows
from .tool_meta import pairs_from_swaps

__all__ = ['convert_deepposekit', 'read_skeleton_csv', 'NOT_ANNOTATED']

_COLUMNS = ('name', 'parent', 'swap')
#: Why an image without a labelled point is left out (module notes).
NOT_ANNOTATED = 'no labelled point (not annotated yet in DeepPoseKit)'


def read_skeleton_csv(path: str | Path) -> tuple[list[str], list[list[int]], list[list[int]]]:
    """Names, 0-based links (parent -> point) and flip pairs of a DeepPoseKit
    skeleton csv.

    Raises:
        ConversionError: a missing file or column, an empty name, a parent
            or swap that is no point, an asymmetric swap table.
    """
    path = Path(path)
    if not path.is_file():
        raise ConversionError(f'DeepPoseKit skeleton csv not found: {path}')
    try:
        with open(path, newline='', encoding='utf-8-sig') as fh:
            reader = csv.DictReader(fh)
            header = [str(c).strip() for c in reader.fieldnames or []]
            rows = [{str(k).strip(): (v or '').strip() for k, v in row.items()
                     if isinstance(k, str)} for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConversionError(f'{path}: not a readable csv file ({exc})') from None
    missing = [c for c in _COLUMNS if c not in header]
    if missing:
        raise ConversionError(f'{path}: missing column(s) {missing}; a DeepPoseKit skeleton '
                              f'has the columns name,parent,swap (found {header})')
    names = [row['name'] for row in rows]
    for line, name in enumerate(names, start=2):
        if not name:
            raise ConversionError(f'{path}: line {line}: empty name')
    index = {n: i for i, n in enumerate(names)}
    links = []
    for line, row in enumerate(rows, start=2):
        parent = row['parent']
        if not parent:
            continue
        if parent not in index:
            raise ConversionError(f'{path}: line {line}: parent {parent!r} of {row["name"]!r} '
                                  f'is not a point; points: {names}')
        links.append([index[parent], index[row['name']]])
    pairs = pairs_from_swaps(names, [row['swap'] for row in rows], f'{path}: column swap')
    return names, links, pairs


def _labelled(xy: np.ndarray, annotated: np.ndarray | None, where: str,
              names: list[str]) -> np.ndarray:
    """(K,) bool: which points of one image are labelled (module notes)."""
    finite = np.isfinite(xy).all(axis=1)
    if annotated is None:
        return finite & ~((xy[:, 0] < 0) & (xy[:, 1] < 0))
    bad = np.flatnonzero(annotated & ~finite)
    if bad.size:
        raise ConversionError(f'{where}: point {names[bad[0]]!r} is annotated but has '
                              f'coordinates {xy[bad[0]].tolist()}')
    return annotated.astype(bool)


def _check_shapes(path: Path, images: Any, ann: np.ndarray, annotated: np.ndarray | None,
                  names: list[str], skeleton: Path) -> None:
    n, k = len(images), len(names)
    if images.ndim not in (3, 4) or images.dtype != np.uint8:
        raise ConversionError(f'{path}: dataset images: expected (N, H, W, C) uint8, got '
                              f'{images.dtype} {images.shape}')
    if ann.ndim != 3 or ann.shape[0] != n or ann.shape[2] != 2:
        raise ConversionError(f'{path}: dataset annotations: expected ({n}, K, 2) (x, y per '
                              f'point of each of the {n} images), got {ann.shape}')
    if ann.shape[1] != k:
        raise ConversionError(f'{path}: dataset annotations has {ann.shape[1]} points per image '
                              f'but {skeleton} names {k}: {names}')
    if annotated is not None and annotated.shape != ann.shape[:2]:
        raise ConversionError(f'{path}: dataset annotated: expected shape {ann.shape[:2]}, got '
                              f'{annotated.shape}')


def convert_deepposekit(h5_file: str | Path, images_out: str | Path, skeleton: str | Path,
                        bbox_pad: float = DEFAULT_BBOX_PAD,
                        min_margin: float = DEFAULT_MIN_MARGIN,
                        category_name: str | None = None,
                        progress: bool = True) -> ConversionResult:
    """Convert a DeepPoseKit annotation file.

    Args:
        h5_file: the HDF5 file with ``images`` and ``annotations``.
        images_out: folder the images are written to (the image root).
        skeleton: the skeleton csv (``name,parent,swap``).
        bbox_pad: padding of the boxes derived from points.
        min_margin: smallest box margin in pixels.
        category_name: category (and dataset) name; default ``object``.
        progress: show a progress bar.

    Returns:
        The converted dataset; its image root is ``images_out``.

    Raises:
        ConversionError: a missing h5py, file, dataset or column, shapes that
            disagree, an asymmetric swap table, annotated points without
            coordinates (naming the file, image index and point).
    """
    path, skeleton = Path(h5_file), Path(skeleton)
    names, links, pairs = read_skeleton_csv(skeleton)
    category = make_category(category_name or 'object', names, links, flip_pairs=pairs,
                             source=str(skeleton))
    builder = CocoBuilder(category, bbox_pad=bbox_pad, min_margin=min_margin)
    writer = FrameWriter(images_out)
    with open_hdf5(path, 'DeepPoseKit') as fh:
        images = get_dataset(fh, 'images', path, 'a DeepPoseKit file holds images and '
                             'annotations')
        ann = np.asarray(get_dataset(fh, 'annotations', path)[()], dtype=np.float64)
        annotated = np.asarray(fh['annotated'][()], bool) if 'annotated' in fh else None
        _check_shapes(path, images, ann, annotated, names, skeleton)
        labelled = [_labelled(ann[i], None if annotated is None else annotated[i],
                              f'{path}: image {i}', names) for i in range(len(images))]
        rows = [i for i, lab in enumerate(labelled) if lab.any()]
        if not rows:
            raise ConversionError(f'{path}: none of the {len(images)} images has a labelled '
                                  'point')
        builder.leave_out(NOT_ANNOTATED, len(images) - len(rows))
        for i, image in tqdm(read_rows(images, rows), total=len(rows), desc='deepposekit',
                             unit='img', disable=not progress):
            file_name, width, height = writer.write_array(f'{i:06d}', image, f'{path}: image {i}')
            img_id = builder.add_image(file_name, width, height, frame_idx=i)
            kpts = np.zeros((len(names), 3), np.float64)
            kpts[labelled[i], :2] = ann[i][labelled[i]]
            kpts[labelled[i], 2] = 2
            builder.add_instance(img_id, kpts)
    return builder.finish(images_out, 'deepposekit')
