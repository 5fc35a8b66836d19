"""DeepLabCut project -> COCO-keypoint json.

Input: a project folder holding ``config.yaml`` and
``labeled-data/<folder>/CollectedData_<scorer>.csv`` for any number of
folders (DeepLabCut names each folder after the video its frames come from).

* Single-animal projects: keypoints are ``bodyparts`` of ``config.yaml``;
  one instance per labelled image.
* Multi-animal projects (``multianimalproject: true``, or a CSV with an
  ``individuals`` header row): keypoints are ``multianimalbodyparts``; one
  instance per individual per image, in the order of ``individuals`` (the
  annotation records the name in ``individual``). Unique body parts
  (individual ``single``) belong to no animal and are not converted; the
  summary says how many labelled points that leaves out.
* When ``config.yaml`` lists no body parts, the CSV's order is used.
* ``skeleton`` (pairs of body-part names) becomes the COCO skeleton; links
  naming unknown points are dropped with a note. Flip pairs come from
  left/right words in the names.

The label tables are read by :mod:`customkpt.converters.dlc_tables`; a
folder with only the ``.h5`` table is read when pandas and PyTables are
installed, and skipped with a note otherwise.

Images are looked up relative to the project folder (then, for projects that
were moved, in the CSV's own folder by file name). ``file_name`` is relative
to the project folder, which is the image root; images are written in
natural order of ``file_name`` (``img2`` before ``img10``), so ids do not
depend on the order of rows or folders. Each image records ``folder`` and
``video`` (both the labelled-data folder name) for folder/video splits.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml
from tqdm import tqdm

from .builder import CocoBuilder, ConversionResult
from .category import make_category, skeleton_from_names
from .common import (DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, ConversionError, natural_key,
                     to_posix_relpath)
from .dlc_tables import LabelTable, h5_available, labelled_point, read_csv_table, read_h5_table
from .images import image_size

__all__ = ['UNIQUE_INDIVIDUAL', 'convert_dlc']

#: Individual name DeepLabCut uses for unique (non-animal) body parts.
UNIQUE_INDIVIDUAL = 'single'

# One labelled image: (file_name, image path, its table, the row's cells, line).
_Entry = tuple[str, Path, LabelTable, list[Any], int]


def _load_config(project: Path) -> dict:
    cfg_path = project / 'config.yaml'
    if not cfg_path.is_file():
        raise ConversionError(f'not a DeepLabCut project: {cfg_path} not found')
    try:
        with open(cfg_path, encoding='utf-8') as fh:
            cfg = yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        raise ConversionError(f'{cfg_path}: invalid YAML: {exc}') from exc
    if not isinstance(cfg, dict):
        raise ConversionError(f'{cfg_path}: expected a mapping at the top level')
    return cfg


def _name_list(value: Any) -> list[str] | None:
    """A list of names from config.yaml, ``None`` when absent or a placeholder."""
    if isinstance(value, (list, tuple)) and value:
        return [str(v) for v in value]
    return None


def _pick_table(folder: Path, scorer: str | None) -> Path | None:
    """The labelled-data table of a folder: the scorer's CSV, else the only
    CSV, else the h5 file. ``None`` when the folder has none."""
    for ext in ('csv', 'h5'):
        found = sorted(folder.glob(f'CollectedData_*.{ext}'))
        if not found:
            continue
        preferred = folder / f'CollectedData_{scorer}.{ext}'
        if scorer and preferred in found:
            return preferred
        if len(found) == 1:
            return found[0]
        raise ConversionError(f'{folder}: several label tables {[p.name for p in found]} and '
                              f'none is CollectedData_{scorer}.{ext} (config scorer)')
    return None


def _resolve_image(project: Path, table: LabelTable, parts: tuple[str, ...], line: int
                   ) -> Path:
    rel = '/'.join(p.replace('\\', '/').strip('/') for p in parts if p)
    if not rel:
        raise ConversionError(f'{table.source}: line {line}: empty image path')
    candidates = [project / rel, table.source.parent / rel.rsplit('/', 1)[-1]]
    for cand in candidates:
        if cand.is_file():
            return cand
    raise ConversionError(f'{table.source}: line {line}: image {rel!r} not found (looked for '
                          f'{candidates[0]} and {candidates[1]})')

def convert_dlc(project_dir: str | Path, bbox_pad: float = DEFAULT_BBOX_PAD,
                min_margin: float = DEFAULT_MIN_MARGIN, category_name: str | None = None,
                progress: bool = True) -> ConversionResult:
    """Convert a DeepLabCut project.

    Args:
        project_dir: the folder with ``config.yaml`` and ``labeled-data``
            (a path to ``config.yaml`` itself is accepted too).
        bbox_pad: padding of the boxes derived from the points.
        min_margin: smallest box margin in pixels.
        category_name: category (and dataset) name; defaults to the
            project's ``Task``.
        progress: show a progress bar.

    Returns:
        The converted dataset; its image root is the project folder.

    Raises:
        ConversionError: missing config or tables, malformed CSV (naming file,
            line and column), unknown body parts, missing images.
    """
    project = Path(project_dir)
    project = Path(project_dir)
    if project.name == 'config.yaml':
        project = project.parent
    cfg = _load_config(project)
    labeled = project / 'labeled-data'
    if not labeled.is_dir():
        raise ConversionError(f'{project}: no labeled-data folder')
    scorer = str(cfg['scorer']) if cfg.get('scorer') else None
    tables, skipped_h5 = _read_tables(labeled, scorer)
    multi = bool(cfg.get('multianimalproject')) or any(t.multi_animal for t in tables)
    if multi and not all(t.multi_animal for t in tables):
        flat = [str(t.source) for t in tables if not t.multi_animal]
        raise ConversionError(f'multi-animal project but these tables have no individuals '
                              f'header row: {flat}')
    cfg_src = project / 'config.yaml'
    names = _body_parts(cfg, tables, multi, cfg_src)
    individuals, extra = _individuals(cfg, tables, multi)
    skeleton, unknown_links = skeleton_from_names(cfg.get('skeleton') or [], names)
    name = category_name or str(cfg.get('Task') or 'animal')
    category = make_category(name, names, skeleton, supercategory='animal', source=str(cfg_src))
    builder = CocoBuilder(category, bbox_pad=bbox_pad, min_margin=min_margin)
    if unknown_links:
        builder.note(f'skeleton links naming unknown body parts dropped: {unknown_links}')
    if multi and extra:
        builder.note(f'individuals not listed in config.yaml, appended: {extra}')
    for folder in skipped_h5:
        builder.note(f'labeled-data/{folder}: only an .h5 table, skipped (install pandas and '
                     'tables to read it)')
    unique_points = 0
    for entry in tqdm(_gather_rows(project, tables), desc='dlc', unit='img',
                      disable=not progress):
        unique_points += _add_entry(builder, entry, names, individuals, multi)
    if unique_points:
        builder.note(f'{unique_points} labelled unique body-part points (individual '
                     f'{UNIQUE_INDIVIDUAL!r}) not converted: they belong to no animal')
    return builder.finish(project, 'dlc')


def _read_tables(labeled: Path, scorer: str | None) -> tuple[list[LabelTable], list[str]]:
    """The label table of every folder under ``labeled-data`` (natural order),
    and the folders skipped for holding only an unreadable .h5 table."""
    tables: list[LabelTable] = []
    skipped_h5: list[str] = []
    for folder in sorted((p for p in labeled.iterdir() if p.is_dir()),
                         key=lambda p: natural_key(p.name)):
        path = _pick_table(folder, scorer)
        if path is None:
            continue
        if path.suffix == '.h5':
            if not h5_available():
                skipped_h5.append(folder.name)
                continue
            tables.append(read_h5_table(path))
        else:
            tables.append(read_csv_table(path))
    if not tables:
        why = (f' (folders with only .h5 tables, skipped because pandas/PyTables are not '
               f'installed: {skipped_h5})' if skipped_h5 else '')
        raise ConversionError(f'{labeled}: no CollectedData_*.csv tables found{why}')
    return tables, skipped_h5


def _animal_keys(tables: Sequence[LabelTable]) -> list[tuple[str | None, str]]:
    """The (individual, bodypart) columns of every table, unique parts left out."""
    return [k for t in tables for k in t.order if k[0] != UNIQUE_INDIVIDUAL]


def _body_parts(cfg: dict, tables: Sequence[LabelTable], multi: bool, cfg_src: Path
                ) -> list[str]:
    """The keypoint names: config.yaml's body parts, else the tables' order."""
    csv_parts = list(dict.fromkeys(bp for _, bp in _animal_keys(tables)))
    names = _name_list(cfg.get('multianimalbodyparts' if multi else 'bodyparts')) or csv_parts
    for t in tables:
        unknown = sorted({bp for ind, bp in t.order
                          if ind != UNIQUE_INDIVIDUAL and bp not in names})
        if unknown:
            key = 'multianimalbodyparts' if multi else 'bodyparts'
            raise ConversionError(f'{t.source}: body parts {unknown} are not in {key} of '
                                  f'{cfg_src} ({names})')
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


def _gather_rows(project: Path, tables: Sequence[LabelTable]) -> list[_Entry]:
    """Every labelled row, sorted by file name so that ids follow the names."""
    entries: list[_Entry] = []
    seen: dict[str, str] = {}
    for t in tables:
        for parts, values, line in t.rows:
            img_path = _resolve_image(project, t, parts, line)
            rel = to_posix_relpath(img_path, project)
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
    folder = t.source.parent.name
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
