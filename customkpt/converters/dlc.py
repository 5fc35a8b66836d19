"""DeepLabCut / Lightning Pose labels -> COCO-keypoint json.

Input (see :mod:`customkpt.converters.dlc_sources`): a DeepLabCut project
folder holding ``config.yaml`` and
``labeled-data/<folder>/CollectedData_<scorer>.csv`` for any number of
folders (DeepLabCut names each folder after the video its frames come from);
a Lightning Pose project or any folder with ``CollectedData*.csv`` tables and
no ``config.yaml``; or one ``.csv`` / ``.h5`` table.

* Single-animal tables: one instance per labelled image with every body
  part (a frame showing one animal in several views, as Lightning Pose's
  mirror-mouse with its ``*_top`` and ``*_bot`` points, is one instance).
* Multi-animal projects (``multianimalproject: true``, or a table with an
  ``individuals`` header row): keypoints are ``multianimalbodyparts``; one
  instance per individual per image, in the order of ``individuals`` (the
  annotation records the name in ``individual``). Unique body parts
  (individual ``single``) belong to no animal and are not converted; the
  summary says how many labelled points that leaves out.
* Without ``config.yaml``, or when it lists no body parts, the tables'
  order is used (body parts and individuals).
* ``skeleton`` (pairs of body-part names) becomes the COCO skeleton; links
  naming unknown points are dropped with a note. Flip pairs come from
  left/right words in the names (:mod:`customkpt.converters.flip_names`:
  ambiguous names give none, with a note).

The label tables are read by :mod:`customkpt.converters.dlc_tables`; a
folder with only the ``.h5`` table is read when pandas and PyTables are
installed, and skipped with a note otherwise.

``file_name`` is relative to the image root (the project folder, or the
folder of the tables); images are written in natural order of
``file_name`` (``img2`` before ``img10``), so ids do not depend on the order
of rows or tables. Each image records ``folder`` and ``video`` (both the
name of the folder holding the image: the labelled-data folder) for
folder/video splits.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any, Sequence

import numpy as np
from tqdm import tqdm

from .builder import CocoBuilder, ConversionResult
from .category import make_category, skeleton_from_names
from .common import (DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, ConversionError, natural_key,
                     to_posix_relpath)
from .dlc_sources import DlcSource, open_source, resolve_image
from .dlc_tables import LabelTable, labelled_point
from .flip_names import flip_pairs_from_names
from .images import image_size

__all__ = ['UNIQUE_INDIVIDUAL', 'convert_dlc']

#: Individual name DeepLabCut uses for unique (non-animal) body parts.
UNIQUE_INDIVIDUAL = 'single'

# One labelled image: (file_name, image path, its table, the row's cells, line).
_Entry = tuple[str, Path, LabelTable, list[Any], int]


def _name_list(value: Any) -> list[str] | None:
    """A list of names from config.yaml, ``None`` when absent or a placeholder."""
    if isinstance(value, (list, tuple)) and value:
        return [str(v) for v in value]
    return None


def convert_dlc(src: str | Path, bbox_pad: float = DEFAULT_BBOX_PAD,
                min_margin: float = DEFAULT_MIN_MARGIN, category_name: str | None = None,
                progress: bool = True) -> ConversionResult:
    """Convert a DeepLabCut project, a Lightning Pose project or a label table.

    Args:
        src: the project folder with ``config.yaml`` and ``labeled-data``
            (or ``config.yaml`` itself), a folder with ``CollectedData*.csv``
            tables, or a ``.csv`` / ``.h5`` table.
        bbox_pad: padding of the boxes derived from the points.
        min_margin: smallest box margin in pixels.
        category_name: category (and dataset) name; defaults to the
            project's ``Task``, else ``animal``.
        progress: show a progress bar.

    Returns:
        The converted dataset; its image root is the project folder (the
        tables' folder for Lightning Pose and lone tables).

    Raises:
        ConversionError: missing config or tables, malformed table (naming
            file, line and column), unknown body parts, missing images.
    """
    source = open_source(src)
    cfg, tables = source.cfg, source.tables
    multi = bool(cfg.get('multianimalproject')) or any(t.multi_animal for t in tables)
    if multi and not all(t.multi_animal for t in tables):
        flat = [str(t.source) for t in tables if not t.multi_animal]
        raise ConversionError(f'multi-animal project but these tables have no individuals '
                              f'header row: {flat}')
    names = _body_parts(source, multi)
    individuals, extra = _individuals(cfg, tables, multi)
    builder = _builder(source, names, category_name, bbox_pad, min_margin)
    if multi and extra and source.cfg_src is not None:
        builder.note(f'individuals not listed in config.yaml, appended: {extra}')
    unique_points = 0
    for entry in tqdm(_gather_rows(source), desc='dlc', unit='img', disable=not progress):
        unique_points += _add_entry(builder, entry, names, individuals, multi)
    if unique_points:
        builder.note(f'{unique_points} labelled unique body-part points (individual '
                     f'{UNIQUE_INDIVIDUAL!r}) not converted: they belong to no animal')
    return builder.finish(source.root, 'dlc')


def _builder(source: DlcSource, names: list[str], category_name: str | None,
             bbox_pad: float, min_margin: float) -> CocoBuilder:
    """The builder with the category (skeleton, flip pairs) and the notes on them."""
    cfg = source.cfg
    skeleton, unknown_links = skeleton_from_names(cfg.get('skeleton') or [], names)
    flip_pairs, flip_notes = flip_pairs_from_names(names)
    name = category_name or str(cfg.get('Task') or 'animal')
    category = make_category(name, names, skeleton, supercategory='animal',
                             flip_pairs=flip_pairs,
                             source=str(source.cfg_src or source.tables[0].source))
    builder = CocoBuilder(category, bbox_pad=bbox_pad, min_margin=min_margin)
    if unknown_links:
        builder.note(f'skeleton links naming unknown body parts dropped: {unknown_links}')
    for note in source.notes + flip_notes:
        builder.note(note)
    return builder


def _animal_keys(tables: Sequence[LabelTable]) -> list[tuple[str | None, str]]:
    """The (individual, bodypart) columns of every table, unique parts left out."""
    return [k for t in tables for k in t.order if k[0] != UNIQUE_INDIVIDUAL]


def _body_parts(source: DlcSource, multi: bool) -> list[str]:
    """The keypoint names: config.yaml's body parts, else the tables' order."""
    key = 'multianimalbodyparts' if multi else 'bodyparts'
    csv_parts = list(dict.fromkeys(bp for _, bp in _animal_keys(source.tables)))
    names = _name_list(source.cfg.get(key)) or csv_parts
    for t in source.tables:
        unknown = sorted({bp for ind, bp in t.order
                          if ind != UNIQUE_INDIVIDUAL and bp not in names})
        if unknown:
            raise ConversionError(f'{t.source}: body parts {unknown} are not in {key} of '
                                  f'{source.cfg_src} ({names})')
    return names


def _individuals(cfg: dict, tables: Sequence[LabelTable], multi: bool
                 ) -> tuple[list[str | None], list[str | None]]:
    """The individuals in instance order (``[None]`` for single-animal
    projects), and those appended because config.yaml does not list them."""
    if not multi:
        return [None], []
    listed: list[str | None] = list(_name_list(cfg.get('individuals')) or [])
    extra = list(dict.fromkeys(ind for ind, _ in _animal_keys(tables) if ind not in listed))
    return listed + extra, extra


def _gather_rows(source: DlcSource) -> list[_Entry]:
    """Every labelled row, sorted by file name so that ids follow the names."""
    entries: list[_Entry] = []
    seen: dict[str, str] = {}
    for t in source.tables:
        for parts, values, line in t.rows:
            img_path = resolve_image(source.root, t, parts, line)
            rel = to_posix_relpath(img_path, source.root)
            where = f'{t.source}: line {line}'
            if rel in seen:
                raise ConversionError(f'{where}: image {rel!r} is labelled twice '
                                      f'(first at {seen[rel]})')
            seen[rel] = where
            entries.append((rel, img_path, t, values, line))
    entries.sort(key=lambda e: natural_key(e[0]))
    return entries


def _add_entry(builder: CocoBuilder, entry: _Entry, names: Sequence[str],
               individuals: Sequence[str | None], multi: bool) -> int:
    """Add one image and an instance per individual; the number of labelled
    unique body-part points it leaves out."""
    rel, img_path, t, values, line = entry
    width, height = image_size(img_path)
    folder = PurePosixPath(rel).parent.name or img_path.parent.name
    img_id = builder.add_image(rel, width, height, folder=folder, video=folder)
    index = {n: i for i, n in enumerate(names)}
    for ind in individuals:
        if not any((ind, bp) in t.columns for bp in names):
            continue  # this table has no columns for this individual
        kpts = np.zeros((len(names), 3), dtype=np.float64)
        for bp in names:
            key = (ind, bp)
            if key not in t.columns:
                continue
            xy = labelled_point(t, values, key, line)
            if xy is not None:
                kpts[index[bp]] = (xy[0], xy[1], 2)
        extra_fields = {'individual': ind} if multi else {}
        builder.add_instance(img_id, kpts, **extra_fields)
    if not multi:
        return 0
    return sum(1 for key in t.columns
               if key[0] == UNIQUE_INDIVIDUAL and labelled_point(t, values, key, line) is not None)
