"""Reading HDF5 label files (SLEAP, DeepPoseKit) with h5py, imported on use.

h5py is an optional dependency (``pip install customkpt[hdf5]``); every
function here turns a missing h5py, a missing file, a missing dataset or a
missing field into a :class:`ConversionError` naming the file and the item.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .common import ConversionError

__all__ = ['require_h5py', 'open_hdf5', 'get_dataset', 'read_table', 'decode_text',
           'parse_json_text']


def require_h5py(what: str) -> Any:
    """The ``h5py`` module; a ConversionError saying how to install it when
    it is missing (``what`` names the file kind)."""
    try:
        import h5py
    except ImportError:
        raise ConversionError(f'{what} files are HDF5 and reading them needs h5py: '
                              'pip install h5py (or pip install "customkpt[hdf5]")') from None
    return h5py


@contextmanager
def open_hdf5(path: str | Path, what: str) -> Iterator[Any]:
    """``h5py.File(path, 'r')`` as a context manager, with clear errors."""
    h5py = require_h5py(what)
    path = Path(path)
    if not path.is_file():
        raise ConversionError(f'{what} file not found: {path}')
    try:
        fh = h5py.File(path, 'r')
    except OSError as exc:
        raise ConversionError(f'{path}: not a readable HDF5 file ({exc})') from None
    with fh:
        yield fh


def get_dataset(fh: Any, name: str, path: Path, hint: str = '') -> Any:
    """The dataset ``name`` of the open file ``fh``; a ConversionError naming
    the file and listing its top-level items when it is absent."""
    import h5py
    item = fh.get(name)
    if not isinstance(item, h5py.Dataset):
        found = sorted(fh.keys())
        raise ConversionError(f'{path}: no dataset {name!r} (the file holds {found})'
                              + (f'; {hint}' if hint else ''))
    return item


def read_table(fh: Any, name: str, path: Path, fields: tuple[str, ...]) -> np.ndarray:
    """A compound (structured) dataset read whole, checked to have ``fields``."""
    table = get_dataset(fh, name, path)[()]
    names = table.dtype.names or ()
    missing = [f for f in fields if f not in names]
    if missing:
        raise ConversionError(f'{path}: dataset {name!r} lacks the field(s) {missing} '
                              f'(it has {list(names)})')
    return table


def decode_text(value: Any) -> str:
    """An HDF5 string (bytes, numpy bytes or str) as ``str``."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode('utf-8')
    return str(value)


def parse_json_text(value: Any, where: str) -> Any:
    """Parse a json string stored in an attribute or dataset row."""
    try:
        return json.loads(decode_text(value))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConversionError(f'{where}: invalid json: {exc}') from None
