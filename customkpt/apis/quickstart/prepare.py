"""Turning a recognised dataset into the COCO-keypoint train / val files a
config reads: converting DeepLabCut and Labelme data, splitting a file
without a val split, and finding the folder image names are relative to."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from customkpt.converters import (CONVERTERS, DEFAULT_VAL_FRACTION, SplitSpec, format_summary,
                                  split_image_ids, subset, write_json, write_splits)
from customkpt.errors import UserError

from .sources import DataSource

__all__ = ['PreparedData', 'CocoSplit', 'prepare_data', 'find_image_root', 'split_coco_file']

#: The seed of every split this command makes.
SPLIT_SEED = 0


@dataclass
class PreparedData:
    """The files training reads.

    Attributes:
        train_file: COCO-keypoint json of the training split.
        val_file: COCO-keypoint json of the validation split.
        train_images: the folder the train file's ``file_name`` entries are relative to.
        val_images: the same for the val file.
        lines: what was done, for the report.
        train_coco: the content of ``train_file`` when this run holds it
            already (read or written here), else None.
    """

    train_file: Path
    val_file: Path
    train_images: Path
    val_images: Path
    lines: list[str] = field(default_factory=list)
    train_coco: dict | None = field(default=None, repr=False)


@dataclass
class CocoSplit:
    """What :func:`split_coco_file` wrote.

    Attributes:
        train_file: ``out_dir/train.json``.
        val_file: ``out_dir/val.json``.
        line: what was done, for the report.
        train: the content of ``train_file``.
    """

    train_file: Path
    val_file: Path
    line: str
    train: dict = field(repr=False)


def _read_coco(path: Path, coco: dict | None) -> dict:
    """``coco`` when the caller has read ``path`` already, else its content."""
    if coco is not None:
        return coco
    with open(path, encoding='utf-8') as fh:
        return json.load(fh)


def find_image_root(ann_file: Path, images: str | Path | None = None,
                    coco: dict | None = None) -> Path:
    """The folder the ``file_name`` entries of ``ann_file`` are relative to.

    ``images`` (``--images``) when given, else the first of the file's
    folder, its ``images/``, the parent folder and the parent's ``images/``
    that holds the file's first images. ``coco``: the file's content, when
    the caller has read it.

    Raises:
        UserError: no candidate holds them; the message names the image and
            every folder tried.
    """
    names = [img.get('file_name') for img in _read_coco(ann_file, coco).get('images', [])[:5]]
    names = [n for n in names if isinstance(n, str)]
    folder = ann_file.resolve().parent
    candidates = ([Path(images)] if images is not None else
                  [folder, folder / 'images', folder.parent, folder.parent / 'images'])
    for root in candidates:
        if all((root / n).is_file() for n in names):
            return root.resolve()
    if not names:
        raise UserError(f'{ann_file}: no images with a "file_name" are listed')
    tried = ', '.join(str(c) for c in candidates)
    hint = '' if images is not None else '; pass --images ROOT, the folder file_name is relative to'
    raise UserError(f'{ann_file}: cannot find the images: image {names[0]!r} is not under '
                    f'{tried}{hint}')


def split_coco_file(ann_file: Path, out_dir: Path, val_fraction: float,
                    coco: dict | None = None) -> CocoSplit:
    """Split a COCO-keypoint file into ``out_dir/train.json`` and ``val.json``
    (seeded, at image level, among images with a labelled instance; the others
    stay in train). ``coco``: the file's content, when the caller has read it."""
    coco = _read_coco(ann_file, coco)
    labelled = {a.get('image_id') for a in coco.get('annotations', [])
                if any(v > 0 for v in (a.get('keypoints') or [])[2::3])}
    images = [img for img in coco['images'] if img.get('id') in labelled]
    _check_enough(len(images), str(ann_file))
    train, val = split_image_ids(images, SplitSpec(val_fraction=val_fraction, seed=SPLIT_SEED))
    train_ids = set(train) | {img['id'] for img in coco['images'] if img.get('id') not in labelled}
    train_coco = subset(coco, train_ids)
    train_file = write_json(train_coco, out_dir / 'train.json')
    val_file = write_json(subset(coco, val), out_dir / 'val.json')
    line = (f'split {ann_file} (no val split given): {len(val)} of {len(images)} labelled '
            f'images to val (fraction {val_fraction}, seed {SPLIT_SEED}) -> {out_dir}')
    return CocoSplit(train_file, val_file, line, train_coco)


def _check_enough(num_images: int, where: str) -> None:
    if num_images < 2:
        raise UserError(f'{where}: {num_images} labelled image(s); training needs at least 2, '
                        'one of them held out for validation')


def _check_fraction(val_fraction: float) -> None:
    if not 0.0 < val_fraction < 1.0:
        raise UserError(f'--val-fraction must be between 0 and 1, got {val_fraction}')


def _prepare_coco(source: DataSource, out_dir: Path, images: str | Path | None,
                  val_fraction: float | None) -> PreparedData:
    if source.val_path is not None and val_fraction is not None:
        raise UserError(f'--val-fraction: {source.given} already has a val split '
                        f'({source.val_path}); drop the option, or give the train file alone '
                        'to have it split')
    root = find_image_root(source.path, images, source.coco)
    if source.val_path is not None:
        val_root = find_image_root(source.val_path, images, source.val_coco)
        data = PreparedData(source.path, source.val_path, root, val_root,
                            train_coco=source.coco)
        data.lines.append(f'COCO-keypoint data: train {source.path}, val {source.val_path}')
    else:
        fraction = DEFAULT_VAL_FRACTION if val_fraction is None else val_fraction
        _check_fraction(fraction)
        split = split_coco_file(source.path, out_dir, fraction, source.coco)
        data = PreparedData(split.train_file, split.val_file, root, root,
                            [f'COCO-keypoint data: {source.path}', split.line],
                            train_coco=split.train)
    data.lines.append(f'images: {data.train_images}' + (
        '' if data.val_images == data.train_images else f' (val: {data.val_images})'))
    return data


def _prepare_converted(source: DataSource, out_dir: Path, images: str | Path | None,
                       val_fraction: float | None, exclude: Path) -> PreparedData:
    if images is not None:
        raise UserError(f'--images is for COCO-keypoint files; the {source.kind} data in '
                        f'{source.path} names its own images')
    fraction = DEFAULT_VAL_FRACTION if val_fraction is None else val_fraction
    _check_fraction(fraction)
    kwargs = dict(exclude=[exclude]) if source.kind == 'labelme' else {}
    result = CONVERTERS[source.kind](source.path, progress=False, **kwargs)
    _check_enough(result.stats.num_images, str(source.path))
    spec = SplitSpec(val_fraction=fraction, seed=SPLIT_SEED)
    outcome = write_splits(result, out_dir, spec)
    root = Path(result.image_root).resolve()
    lines = [f'converted the {source.kind} data in {source.path}:']
    lines += ['  ' + line for line in format_summary(result, outcome, spec).splitlines()]
    return PreparedData(outcome.paths['train'], outcome.paths['val'], root, root, lines)


def prepare_data(source: DataSource, work_dir: str | Path, images: str | Path | None = None,
                 val_fraction: float | None = None) -> PreparedData:
    """The train and val files of ``source``, written under ``work_dir/data``
    when they had to be converted or split.

    Args:
        source: what :func:`~.sources.recognise` found.
        work_dir: the run's folder.
        images: ``--images``, the image root of a COCO-keypoint file.
        val_fraction: share of images for val when a split is made
            (default :data:`customkpt.converters.DEFAULT_VAL_FRACTION`);
            refused for data that has a val split.

    Raises:
        UserError: contradicting options, too few images, images not found.
        ConversionError: the converter's errors, naming file and record.
    """
    out_dir = Path(work_dir).resolve() / 'data'
    if source.kind == 'coco':
        return _prepare_coco(source, out_dir, images, val_fraction)
    return _prepare_converted(source, out_dir, images, val_fraction, Path(work_dir).resolve())
