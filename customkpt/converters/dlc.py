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

CSV layout: header rows ``scorer``, [``individuals``], ``bodyparts``,
``coords``; then one row per image whose first cell is the image path
(``labeled-data/m4s1/img0000.png``) or, in newer DeepLabCut versions, whose
first three cells are ``labeled-data``, the folder and the file name. Empty
(or NaN) cells are unlabelled points; ``likelihood`` columns are ignored.
A folder with only the ``.h5`` table is read when pandas and PyTables are
installed, and skipped with a note otherwise.

Images are looked up relative to the project folder (then, for projects that
were moved, in the CSV's own folder by file name). ``file_name`` is relative
to the project folder, which is the image root; images are written in
natural order of ``file_name`` (``img2`` before ``img10``), so ids do not
depend on the order of rows or folders. Each image records ``folder`` and
``video`` (both the labelled-data folder name) for folder/video splits.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml
from tqdm import tqdm

from .common import (DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, CocoBuilder, ConversionError,
                     ConversionResult, image_size, make_category, natural_key,
                     skeleton_from_names, to_posix_relpath)

#: Individual name DeepLabCut uses for unique (non-animal) body parts.
UNIQUE_INDIVIDUAL = 'single'
_HEADER_LABELS = ('scorer', 'individuals', 'bodyparts', 'coords')


@dataclass
class LabelTable:
    """One labelled-data table, format independent.

    Attributes:
        source: the file read (for messages).
        columns: ``(individual or None, bodypart)`` -> ``(x column, y column)``
            positions among the value cells.
        rows: ``(image path parts, value cells, line)`` per image; cells are
            floats (NaN = unlabelled) or raw strings (CSV).
        column_offset: 0-based file column of the first value cell (CSV).
        multi_animal: whether the table has an ``individuals`` level.
        order: the ``(individual, bodypart)`` keys in column order.
    """

    source: Path
    columns: dict[tuple[str | None, str], tuple[int, int]]
    rows: list[tuple[tuple[str, ...], list[Any], int]]
    column_offset: int = 1
    multi_animal: bool = False
    order: list[tuple[str | None, str]] = field(default_factory=list)


def _map_columns(source: Path, individuals: Sequence[str | None], bodyparts: Sequence[str],
                 coords: Sequence[str], offset: int, header_line: int
                 ) -> tuple[dict[tuple[str | None, str], tuple[int, int]],
                            list[tuple[str | None, str]]]:
    """Pair the x and y columns of each (individual, bodypart)."""
    found: dict[tuple[str | None, str], dict[str, int]] = {}
    order: list[tuple[str | None, str]] = []
    for j, (ind, bp, coord) in enumerate(zip(individuals, bodyparts, coords)):
        coord = coord.strip().lower()
        if coord not in ('x', 'y'):
            continue  # likelihood columns of machine labels
        key = (ind, bp.strip())
        if not key[1]:
            raise ConversionError(f'{source}: line {header_line}, column {j + offset + 1}: '
                                  'empty body-part name')
        if key not in found:
            found[key] = {}
            order.append(key)
        if coord in found[key]:
            raise ConversionError(f'{source}: column {j + offset + 1}: second {coord!r} column '
                                  f'for body part {key[1]!r}'
                                  + (f' of {key[0]!r}' if key[0] else ''))
        found[key][coord] = j
    columns = {}
    for key, cols in found.items():
        if set(cols) != {'x', 'y'}:
            raise ConversionError(f'{source}: body part {key[1]!r}'
                                  + (f' of {key[0]!r}' if key[0] else '')
                                  + f' has a {"/".join(cols)} column but no '
                                  + ('y' if 'x' in cols else 'x') + ' column')
        columns[key] = (cols['x'], cols['y'])
    if not columns:
        raise ConversionError(f'{source}: no x/y columns in the header')
    return columns, order


def read_csv_table(path: str | Path) -> LabelTable:
    """Parse a ``CollectedData_*.csv`` (3- or 4-row header, 1 or 3 index
    columns).

    Raises:
        ConversionError: a malformed header, naming the file and line.
    """
    path = Path(path)
    with open(path, newline='', encoding='utf-8-sig') as fh:
        reader = csv.reader(fh)
        header: dict[str, tuple[list[str], int]] = {}
        for row in reader:
            label = row[0].strip().lower() if row else ''
            if not header and label != 'scorer':
                raise ConversionError(
                    f'{path}: line {reader.line_num}: expected a DeepLabCut header row starting '
                    f'with "scorer", got {row[:3]!r}')
            if label not in _HEADER_LABELS:
                raise ConversionError(
                    f'{path}: line {reader.line_num}: unexpected header row {label!r} '
                    f'(expected one of {list(_HEADER_LABELS)})')
            header[label] = (row, reader.line_num)
            if label == 'coords':
                break
        if 'coords' not in header or 'bodyparts' not in header:
            raise ConversionError(f'{path}: incomplete header: needs "bodyparts" and "coords" '
                                  f'rows, found {list(header)}')
        coords, coords_line = header['coords']
        offset = next((j for j in range(1, len(coords)) if coords[j].strip()), None)
        if offset is None:
            raise ConversionError(f'{path}: line {coords_line}: the coords row names no column')
        width = max(len(r) for r, _ in header.values())

        def level(name: str) -> list[str]:
            cells = header[name][0][offset:]
            return cells + [''] * (width - offset - len(cells))

        multi = 'individuals' in header
        individuals: list[str | None] = ([c.strip() for c in level('individuals')] if multi
                                         else [None] * (width - offset))
        columns, order = _map_columns(path, individuals, level('bodyparts'), level('coords'),
                                      offset, header['bodyparts'][1])
        rows = []
        for row in reader:
            if not any(c.strip() for c in row):
                continue
            index = tuple(c.strip() for c in row[:offset])
            values = row[offset:] + [''] * max(0, width - len(row))
            rows.append((index, values, reader.line_num))
    return LabelTable(source=path, columns=columns, rows=rows, column_offset=offset,
                      multi_animal=multi, order=order)


def h5_available() -> bool:
    """Whether pandas and PyTables can read DeepLabCut's ``.h5`` tables."""
    try:
        import pandas  # noqa: F401
        import tables  # noqa: F401
    except ImportError:
        return False
    return True


def read_h5_table(path: str | Path) -> LabelTable:
    """Read a ``CollectedData_*.h5`` table with pandas (must be installed)."""
    import pandas as pd
    path = Path(path)
    frame = pd.read_hdf(path)
    names = [str(n) for n in (frame.columns.names or [])]
    levels = {n: [str(v) for v in frame.columns.get_level_values(i)]
              for i, n in enumerate(names)}
    if 'bodyparts' not in levels or 'coords' not in levels:
        raise ConversionError(f'{path}: columns need "bodyparts" and "coords" levels, '
                              f'found {names}')
    multi = 'individuals' in levels
    individuals = levels['individuals'] if multi else [None] * frame.shape[1]
    columns, order = _map_columns(path, individuals, levels['bodyparts'], levels['coords'],
                                  0, 0)
    rows = []
    for pos, (idx, values) in enumerate(zip(frame.index, frame.to_numpy(dtype=float))):
        parts = tuple(str(p) for p in idx) if isinstance(idx, tuple) else (str(idx),)
        rows.append((parts, list(values), pos + 1))
    return LabelTable(source=path, columns=columns, rows=rows, column_offset=0,
                      multi_animal=multi, order=order)


def _cell(table: LabelTable, values: list[Any], col: int, line: int, what: str) -> float:
    """One coordinate; NaN when unlabelled."""
    raw = values[col]
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return math.nan
        try:
            return float(text)
        except ValueError:
            raise ConversionError(
                f'{table.source}: line {line}, column {col + table.column_offset + 1} '
                f'({what}): {text!r} is not a number') from None
    value = float(raw)
    return value


def _point(table: LabelTable, values: list[Any], key: tuple[str | None, str], line: int
           ) -> tuple[float, float] | None:
    """The labelled (x, y) of ``key`` in a row, ``None`` when unlabelled."""
    xcol, ycol = table.columns[key]
    who = key[1] + (f' of {key[0]}' if key[0] else '')
    x = _cell(table, values, xcol, line, f'{who} x')
    y = _cell(table, values, ycol, line, f'{who} y')
    fx, fy = math.isfinite(x), math.isfinite(y)
    if fx != fy:
        col = (ycol if fx else xcol) + table.column_offset + 1
        raise ConversionError(f'{table.source}: line {line}, column {col}: {who} has '
                              f'{"x" if fx else "y"} but no {"y" if fx else "x"}')
    return (x, y) if fx else None


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
    if project.name == 'config.yaml':
        project = project.parent
    cfg = _load_config(project)
    labeled = project / 'labeled-data'
    if not labeled.is_dir():
        raise ConversionError(f'{project}: no labeled-data folder')
    scorer = str(cfg['scorer']) if cfg.get('scorer') else None

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

    multi = bool(cfg.get('multianimalproject')) or any(t.multi_animal for t in tables)
    if multi and not all(t.multi_animal for t in tables):
        flat = [str(t.source) for t in tables if not t.multi_animal]
        raise ConversionError(f'multi-animal project but these tables have no individuals '
                              f'header row: {flat}')

    animal_keys = [k for t in tables for k in t.order if k[0] != UNIQUE_INDIVIDUAL]
    csv_parts = list(dict.fromkeys(bp for _, bp in animal_keys))
    names = _name_list(cfg.get('multianimalbodyparts' if multi else 'bodyparts')) or csv_parts
    cfg_src = project / 'config.yaml'
    for t in tables:
        unknown = sorted({bp for ind, bp in t.order
                          if ind != UNIQUE_INDIVIDUAL and bp not in names})
        if unknown:
            key = 'multianimalbodyparts' if multi else 'bodyparts'
            raise ConversionError(f'{t.source}: body parts {unknown} are not in {key} of '
                                  f'{cfg_src} ({names})')
    if multi:
        individuals = _name_list(cfg.get('individuals')) or []
        extra = list(dict.fromkeys(ind for ind, _ in animal_keys if ind not in individuals))
        individuals = individuals + extra
    else:
        individuals = [None]

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

    # Gather every row first so that ids follow the sorted file names.
    entries: list[tuple[str, Path, LabelTable, list[Any], int]] = []
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

    unique_points = 0
    k = len(names)
    index = {n: i for i, n in enumerate(names)}
    for rel, img_path, t, values, line in tqdm(entries, desc='dlc', unit='img',
                                               disable=not progress):
        width, height = image_size(img_path)
        folder = t.source.parent.name
        img_id = builder.add_image(rel, width, height, folder=folder, video=folder)
        for ind in individuals:
            if not any((ind, bp) in t.columns for bp in names):
                continue  # this table has no columns for this individual
            kpts = np.zeros((k, 3), dtype=np.float64)
            for bp in names:
                key = (ind, bp)
                if key not in t.columns:
                    continue
                xy = _point(t, values, key, line)
                if xy is not None:
                    kpts[index[bp]] = (xy[0], xy[1], 2)
            extra_fields = {'individual': ind} if multi else {}
            builder.add_instance(img_id, kpts, **extra_fields)
        if multi:
            for key in t.columns:
                if key[0] == UNIQUE_INDIVIDUAL and _point(t, values, key, line) is not None:
                    unique_points += 1
    if unique_points:
        builder.note(f'{unique_points} labelled unique body-part points (individual '
                     f'{UNIQUE_INDIVIDUAL!r}) not converted: they belong to no animal')
    return builder.finish(project, 'dlc')


__all__ = ['LabelTable', 'convert_dlc', 'h5_available', 'read_csv_table', 'read_h5_table']
