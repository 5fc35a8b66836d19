"""What :func:`~customkpt.converters.dlc.convert_dlc` reads: the kinds of
input it accepts, their label tables and image root, and each row's image.

Inputs:

* a DeepLabCut project: a folder with ``config.yaml`` (or that file itself)
  and ``labeled-data/<folder>/CollectedData_<scorer>.csv``; the image root is
  the project folder;
* a folder without ``config.yaml`` that holds ``CollectedData*.csv`` tables
  itself (a Lightning Pose project, or any folder with such tables): every
  such table is read; the image root is that folder;
* a DeepLabCut project folder without ``config.yaml``: its
  ``labeled-data/*/CollectedData_*.csv`` tables; body parts come from them;
* one table, ``.csv`` or ``.h5``: the image root is the project it lies in
  when it sits in ``<project>/labeled-data/<folder>/`` (whose
  ``config.yaml``, if any, is read), else the table's folder.

A row's image path is tried relative to the image root (a DeepLabCut
project root), then relative to the table's folder (Lightning Pose), then by
its file name beside the table (a moved project); the error names each place
that failed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from .common import ConversionError, natural_key
from .dlc_tables import (TABLE_SUFFIXES, LabelTable, find_tables, h5_available, read_table)

__all__ = ['DlcSource', 'open_source', 'resolve_image']

_CONFIG = 'config.yaml'
_LABELED = 'labeled-data'


@dataclass
class DlcSource:
    """The label tables of one input.

    Attributes:
        root: the image root (``file_name`` entries are relative to it).
        tables: the tables, in natural order of their folders / names.
        cfg: the project's ``config.yaml`` ({} when there is none).
        cfg_src: that file, or ``None``.
        notes: remarks for the conversion summary.
    """

    root: Path
    tables: list[LabelTable]
    cfg: dict = field(default_factory=dict)
    cfg_src: Path | None = None
    notes: list[str] = field(default_factory=list)


def _load_config(cfg_path: Path) -> dict:
    try:
        with open(cfg_path, encoding='utf-8') as fh:
            cfg = yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        raise ConversionError(f'{cfg_path}: invalid YAML: {exc}') from exc
    if not isinstance(cfg, dict):
        raise ConversionError(f'{cfg_path}: expected a mapping at the top level')
    return cfg


def _pick_table(folder: Path, scorer: str | None) -> Path | None:
    """The labelled-data table of a folder: the scorer's CSV, else the only
    CSV, else the h5 file. ``None`` when the folder has none."""
    found = find_tables(folder, 'CollectedData_*')
    if not found:
        return None
    preferred = folder / f'CollectedData_{scorer}{found[0].suffix}'
    if scorer and preferred in found:
        return preferred
    if len(found) == 1:
        return found[0]
    why = (f'none is {preferred.name} (config scorer)' if scorer
           else f'there is no {_CONFIG} whose scorer picks one')
    raise ConversionError(f'{folder}: several label tables {[p.name for p in found]} and {why}')


def _labeled_data_tables(labeled: Path, scorer: str | None
                         ) -> tuple[list[LabelTable], list[str]]:
    """The label table of every folder under ``labeled-data`` (natural order),
    and the notes on folders skipped for holding only an unreadable .h5 table."""
    tables: list[LabelTable] = []
    skipped_h5: list[str] = []
    for folder in sorted((p for p in labeled.iterdir() if p.is_dir()),
                         key=lambda p: natural_key(p.name)):
        path = _pick_table(folder, scorer)
        if path is None:
            continue
        if path.suffix == '.h5' and not h5_available():
            skipped_h5.append(folder.name)
            continue
        tables.append(read_table(path))
    if not tables:
        why = (f' (folders with only .h5 tables, skipped because pandas/PyTables are not '
               f'installed: {skipped_h5})' if skipped_h5 else '')
        raise ConversionError(f'{labeled}: no CollectedData_*.csv tables found{why}')
    notes = [f'{_LABELED}/{folder}: only an .h5 table, skipped (install pandas and tables '
             'to read it)' for folder in skipped_h5]
    return tables, notes


def _project(project: Path, cfg_path: Path | None) -> DlcSource:
    """A DeepLabCut project folder, with or without ``config.yaml``."""
    labeled = project / _LABELED
    if not labeled.is_dir():
        raise ConversionError(f'{project}: no {_LABELED} folder')
    cfg = _load_config(cfg_path) if cfg_path else {}
    scorer = str(cfg['scorer']) if cfg.get('scorer') else None
    tables, notes = _labeled_data_tables(labeled, scorer)
    if cfg_path is None:
        notes.insert(0, f'no {_CONFIG} in {project}: body parts and individuals are those '
                        'of the tables, in their order; no skeleton')
    return DlcSource(root=project, tables=tables, cfg=cfg, cfg_src=cfg_path, notes=notes)


def _folder_tables(folder: Path, found: list[Path]) -> DlcSource:
    """A folder holding its tables itself (Lightning Pose)."""
    readable = [p for p in found if p.suffix != '.h5' or h5_available()]
    if not readable:
        raise ConversionError(f'{folder}: only .h5 label tables ({[p.name for p in found]}); '
                              'reading them needs pandas and PyTables (pip install pandas '
                              'tables)')
    return DlcSource(root=folder, tables=[read_table(p) for p in readable])


def _single_table(path: Path) -> DlcSource:
    """One table file; inside a DeepLabCut project its root is the image root."""
    table = read_table(path)
    folder = path.parent
    if folder.parent.name != _LABELED:
        return DlcSource(root=folder, tables=[table])
    root = folder.parent.parent
    cfg_path = root / _CONFIG
    if not cfg_path.is_file():
        return DlcSource(root=root, tables=[table])
    return DlcSource(root=root, tables=[table], cfg=_load_config(cfg_path), cfg_src=cfg_path)


def open_source(src: str | Path) -> DlcSource:
    """The tables and image root of a project folder, a table folder, a
    ``config.yaml`` or a table file (see the module docstring).

    Raises:
        ConversionError: the path does not exist or holds no label table.
    """
    path = Path(src)
    if not path.exists():
        raise ConversionError(f'{path} not found: expected a DeepLabCut project folder '
                              f'(with {_CONFIG}), a folder with CollectedData*.csv tables, '
                              'or a .csv / .h5 label table')
    if path.is_file():
        if path.name == _CONFIG:
            return _project(path.parent, path)
        if path.suffix.lower() not in TABLE_SUFFIXES:
            raise ConversionError(f'{path}: not a label table (expected a .csv or .h5 file, '
                                  f'a {_CONFIG} or a folder)')
        return _single_table(path)
    if (path / _CONFIG).is_file():
        return _project(path, path / _CONFIG)
    found = find_tables(path)
    if found:
        return _folder_tables(path, found)
    if (path / _LABELED).is_dir():
        return _project(path, None)
    raise ConversionError(f'{path}: neither a DeepLabCut project ({_CONFIG} not found) nor a '
                          f'folder with CollectedData*.csv tables')


def resolve_image(root: Path, table: LabelTable, parts: tuple[str, ...], line: int) -> Path:
    """The image of one table row.

    Raises:
        ConversionError: no candidate exists; the message lists each place
            tried and what it assumed.
    """
    rel = '/'.join(p.replace('\\', '/').strip('/') for p in parts if p)
    if not rel:
        raise ConversionError(f'{table.source}: line {line}: empty image path')
    here = table.source.parent
    tried: dict[Path, list[str]] = {}
    for cand, why in ((root / rel, f'relative to the project root {root}'),
                      (here / rel, f"relative to the table's folder {here}"),
                      (here / PurePosixPath(rel).name, 'by file name beside the table')):
        if cand.is_file():
            return cand
        tried.setdefault(cand, []).append(why)
    looked = '; '.join(f'{cand} ({" = ".join(whys)})' for cand, whys in tried.items())
    raise ConversionError(f'{table.source}: line {line}: image {rel!r} not found (looked for '
                          f'{looked})')
