"""Keypoints written as a DeepLabCut label table: the one place for its layout.

The CSV that DeepLabCut and Lightning Pose read (and
:mod:`customkpt.converters.dlc_tables` reads back)::

    scorer,me,me,me,me,...
    [individuals,mus1,mus1,mus1,mus1,...]        multi-animal tables only
    bodyparts,snout,snout,leftear,leftear,...
    coords,x,y,x,y,...                           x,y,likelihood with scores
    labeled-data/v/img001.png,312.5,200.25,,,... one row per image

The first column is the index (an image path, or a frame number for video
predictions); empty cells are unlabelled (or absent) points; ``likelihood``
columns hold prediction scores, clipped to [0, 1] as DeepLabCut's are
probabilities.

* :func:`write_dlc_table`: arrays -> table (the video command's CSV writer
  uses it too);
* :func:`coco_to_dlc`: a COCO-keypoint dataset -> ``CollectedData_<scorer>.csv``
  (labels; :func:`~customkpt.converters.dlc.convert_dlc` reads it back to the
  same points);
* :func:`write_dlc_predictions`: predictions (F, K, 2) + scores (F, K).
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .category import single_keypoint_category
from .common import ConversionError

__all__ = ['DlcExport', 'coco_to_dlc', 'dlc_header', 'write_dlc_predictions', 'write_dlc_table']


def dlc_header(scorer: str, keypoint_names: Sequence[str],
               individuals: Sequence[str] | None = None,
               likelihood: bool = False) -> list[list[str]]:
    """The header rows (``scorer``, [``individuals``], ``bodyparts``,
    ``coords``) of a table with one index column; a block of columns per
    individual (one block when ``individuals`` is ``None``)."""
    coords = ('x', 'y', 'likelihood') if likelihood else ('x', 'y')
    blocks: Sequence[str | None] = [None] if individuals is None else list(individuals)
    cols = [(ind, str(name), c) for ind in blocks for name in keypoint_names for c in coords]
    rows = [['scorer'] + [str(scorer)] * len(cols)]
    if individuals is not None:
        rows.append(['individuals'] + [str(ind) for ind, _, _ in cols])
    rows.append(['bodyparts'] + [name for _, name, _ in cols])
    rows.append(['coords'] + [c for _, _, c in cols])
    return rows


def _number(value: float, digits: int | None) -> str:
    """A cell: empty for NaN/inf, else fixed ``digits`` decimals or (``None``)
    the shortest text that reads back to the same float."""
    if not math.isfinite(value):
        return ''
    return repr(float(value)) if digits is None else f'{value:.{digits}f}'


def write_dlc_table(path: str | Path, index: Sequence[Any], points: np.ndarray,
                    keypoint_names: Sequence[str], scores: np.ndarray | None = None,
                    scorer: str = 'customkpt', individuals: Sequence[str] | None = None,
                    digits: int | None = None, score_digits: int | None = None) -> Path:
    """Write a DeepLabCut CSV table.

    Args:
        path: the output ``.csv`` (folders created).
        index: F first-column values (image paths or frame numbers).
        points: (F, K, 2) pixels, or (F, I, K, 2) with ``individuals``; NaN
            = unlabelled (empty cells).
        keypoint_names: the K body-part names.
        scores: (F, K) or (F, I, K) scores: adds ``likelihood`` columns
            (clipped to [0, 1]; NaN -> empty).
        scorer: the ``scorer`` header value.
        individuals: the I individual names: the multi-animal layout.
        digits: decimals of the coordinates; ``None`` writes each exactly.
        score_digits: decimals of the likelihoods; ``None`` exactly.

    Returns:
        ``path``.

    Raises:
        ValueError: arrays whose shapes disagree with the names.
    """
    blocks = 1 if individuals is None else len(individuals)
    names = [str(n) for n in keypoint_names]
    pts = np.asarray(points, np.float64).reshape(len(index), blocks, len(names), 2)
    sc = (None if scores is None else
          np.asarray(scores, np.float64).reshape(len(index), blocks, len(names)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', newline='', encoding='utf-8') as fh:
        writer = csv.writer(fh)
        writer.writerows(dlc_header(scorer, names, individuals, likelihood=sc is not None))
        for f, label in enumerate(index):
            cells = [str(label)]
            for b in range(blocks):
                for k in range(len(names)):
                    cells += [_number(pts[f, b, k, 0], digits), _number(pts[f, b, k, 1], digits)]
                    if sc is not None:
                        cells.append(_number(min(max(sc[f, b, k], 0.0), 1.0), score_digits))
            writer.writerow(cells)
    return path


def write_dlc_predictions(path: str | Path, index: Sequence[Any], keypoints: np.ndarray,
                          scores: np.ndarray, keypoint_names: Sequence[str],
                          scorer: str = 'customkpt') -> Path:
    """Predictions as a DeepLabCut table with ``likelihood`` columns.

    Args:
        path: the output ``.csv``.
        index: F image paths (or frame numbers).
        keypoints: (F, K, 2) predicted pixels (NaN: no prediction).
        scores: (F, K) their scores.
        keypoint_names: the K body-part names.
        scorer: the ``scorer`` header value.
    """
    kpts = np.asarray(keypoints, np.float64)
    if kpts.shape != (len(index), len(keypoint_names), 2):
        raise ValueError(f'keypoints of shape {kpts.shape}, expected (F, K, 2) = '
                         f'({len(index)}, {len(keypoint_names)}, 2)')
    if np.shape(scores) != kpts.shape[:2]:
        raise ValueError(f'scores of shape {np.shape(scores)}, expected {kpts.shape[:2]}')
    return write_dlc_table(path, index, kpts, keypoint_names, scores=scores, scorer=scorer)


@dataclass
class DlcExport:
    """What :func:`coco_to_dlc` wrote.

    Attributes:
        path: the CSV.
        images: rows written (every image, labelled or not).
        instances: annotations written.
        points: labelled points written.
        individuals: the individuals of a multi-animal table, else ``None``.
        skipped: annotations left out, by reason.
    """

    path: Path
    images: int
    instances: int
    points: int
    individuals: list[str] | None
    skipped: dict[str, int]


def _image_rows(coco: dict, source: str) -> tuple[list[str], dict[Any, int]]:
    """The images' file names and the row of each image id."""
    names: list[str] = []
    row_of: dict[Any, int] = {}
    for i, img in enumerate(coco.get('images') or []):
        if not isinstance(img, dict) or 'id' not in img or not img.get('file_name'):
            raise ConversionError(f'{source}: images[{i}]: needs "id" and "file_name"')
        if img['id'] in row_of:
            raise ConversionError(f'{source}: images[{i}]: duplicate image id {img["id"]}')
        row_of[img['id']] = len(names)
        names.append(str(img['file_name']).replace('\\', '/'))
    if not names:
        raise ConversionError(f'{source}: no images')
    return names, row_of


def _instances(coco: dict, cat: dict, row_of: dict[Any, int], source: str,
               skipped: dict[str, int]) -> dict[int, list[tuple[str | None, np.ndarray]]]:
    """Per row: (individual or None, (K, 3) keypoints) of each annotation, by id."""
    k = len(cat['keypoints'])
    per_row: dict[int, list[tuple[Any, str | None, np.ndarray]]] = {}
    for ann in coco.get('annotations') or []:
        where = f'{source}: annotation {ann.get("id")}'
        if ann.get('category_id', cat.get('id')) != cat.get('id'):
            skipped['other category'] = skipped.get('other category', 0) + 1
            continue
        if ann.get('iscrowd'):
            skipped['crowd'] = skipped.get('crowd', 0) + 1
            continue
        if ann.get('image_id') not in row_of:
            raise ConversionError(f'{where}, field "image_id": image {ann.get("image_id")!r} '
                                  'is not in "images"')
        try:
            kpts = np.asarray(ann['keypoints'], np.float64).reshape(k, 3)
        except (KeyError, TypeError, ValueError):
            raise ConversionError(f'{where}, field "keypoints": expected 3*K = {3 * k} '
                                  f'numbers (K={k})') from None
        ind = ann.get('individual')
        per_row.setdefault(row_of[ann['image_id']], []).append(
            (ann.get('id', 0), None if ind is None else str(ind), kpts))
    return {r: [(ind, kp) for _, ind, kp in sorted(anns, key=lambda a: a[0])]
            for r, anns in per_row.items()}


def _individual_slots(per_row: dict[int, list[tuple[str | None, np.ndarray]]]
                      ) -> tuple[list[str] | None, dict[int, list[int]]]:
    """The individuals (``None``: one animal per image) and each annotation's
    block: the annotations' own ``individual`` names when every one has a
    name unique in its image, else ``individual1``, ``individual2``, ... in
    annotation order."""
    anns = [a for group in per_row.values() for a in group]
    named = all(ind is not None for ind, _ in anns) and all(
        len({ind for ind, _ in g}) == len(g) for g in per_row.values())
    if not any(len(g) > 1 for g in per_row.values()) and not (anns and named):
        return None, {r: [0] * len(g) for r, g in per_row.items()}
    if named:
        order = list(dict.fromkeys(str(ind) for ind, _ in anns))
        slots = {r: [order.index(str(ind)) for ind, _ in g] for r, g in per_row.items()}
        return order, slots
    count = max(len(g) for g in per_row.values())
    return ([f'individual{i + 1}' for i in range(count)],
            {r: list(range(len(g))) for r, g in per_row.items()})


def coco_to_dlc(coco: dict, out_dir: str | Path, scorer: str = 'customkpt',
                source: str = 'annotation file') -> DlcExport:
    """Write a COCO-keypoint dataset as ``out_dir/CollectedData_<scorer>.csv``.

    Rows are the images in file order, indexed by ``file_name`` (relative to
    the dataset's image root: put the table there, or the images beside it,
    for DeepLabCut / Lightning Pose to find them). Points with ``v > 0`` are
    written (``v = 1`` and ``2`` alike: the table has no visibility), others
    are empty. Images with several instances, or instances carrying an
    ``individual`` (from a multi-animal conversion), give the multi-animal
    layout. Boxes are not written (DeepLabCut has none).

    Raises:
        ConversionError: not one keypoint category, an image without id or
            file name, keypoints of the wrong length (naming the record).
    """
    scorer = str(scorer)
    if not scorer or any(c in scorer for c in '/\\'):
        raise ConversionError(f'scorer {scorer!r}: needs a name without path separators')
    cat = single_keypoint_category(coco, source,
                                   ' (a DeepLabCut table holds one keypoint definition)')
    names = [str(n) for n in cat['keypoints']]
    index, row_of = _image_rows(coco, source)
    skipped: dict[str, int] = {}
    per_row = _instances(coco, cat, row_of, source, skipped)
    individuals, slots = _individual_slots(per_row)
    blocks = 1 if individuals is None else len(individuals)
    points = np.full((len(index), blocks, len(names), 2), np.nan)
    for r, group in per_row.items():
        for slot, (_, kpts) in zip(slots[r], group):
            labelled = kpts[:, 2] > 0
            points[r, slot, labelled] = kpts[labelled, :2]
    path = write_dlc_table(Path(out_dir) / f'CollectedData_{scorer}.csv', index,
                           points if individuals else points[:, 0], names, scorer=scorer,
                           individuals=individuals)
    return DlcExport(path=path, images=len(index), instances=sum(map(len, per_row.values())),
                     points=int(np.isfinite(points[..., 0]).sum()), individuals=individuals,
                     skipped=skipped)
