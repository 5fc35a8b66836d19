"""DeepLabCut label tables (``CollectedData_<scorer>.csv`` / ``.h5``), read into
one format-independent :class:`LabelTable`.

CSV layout: header rows ``scorer``, [``individuals``], ``bodyparts``,
``coords``; then one row per image whose first cell is the image path
(``labeled-data/m4s1/img0000.png``) or, in newer DeepLabCut versions, whose
first three cells are ``labeled-data``, the folder and the file name. Empty
(or NaN) cells are unlabelled points; ``likelihood`` columns are ignored.
The ``.h5`` table needs pandas and PyTables (:func:`h5_available`).
Lightning Pose writes the same layout (``CollectedData.csv`` at the top of its
project, image paths relative to it).
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .common import ConversionError, natural_key

__all__ = ['LabelTable', 'TABLE_SUFFIXES', 'find_tables', 'read_csv_table', 'h5_available',
           'read_h5_table', 'read_table', 'labelled_point']

#: File endings of label tables, the preferred one first.
TABLE_SUFFIXES = ('.csv', '.h5')

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


def read_table(path: str | Path) -> LabelTable:
    """Read a ``.csv`` or ``.h5`` label table (by its ending).

    Raises:
        ConversionError: another ending, or an ``.h5`` table without pandas
            and PyTables.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == '.csv':
        return read_csv_table(path)
    if suffix != '.h5':
        raise ConversionError(f'{path}: not a label table (expected a .csv or .h5 file)')
    if not h5_available():
        raise ConversionError(f'{path}: reading .h5 tables needs pandas and PyTables '
                              '(pip install pandas tables), or give the .csv table')
    return read_h5_table(path)


def find_tables(folder: Path, pattern: str = 'CollectedData*') -> list[Path]:
    """The label tables ``pattern`` matches in ``folder``, in natural order:
    every CSV, or when there is none every ``.h5`` file."""
    for suffix in TABLE_SUFFIXES:
        found = [p for p in folder.glob(pattern + suffix) if p.is_file()]
        if found:
            return sorted(found, key=lambda p: natural_key(p.name))
    return []


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


def labelled_point(table: LabelTable, values: list[Any], key: tuple[str | None, str], line: int
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
