"""Reading HDF5 label files (SLEAP, DeepPoseKit) with h5py, imported on use.

h5py is an optional dependency (``pip install customkpt[hdf5]``); every
function here turns a missing h5py, a missing file, a missing dataset or a
missing field into a :class:`ConversionError` naming the file and the item.
"""
from __future__ import annotations

import itertools
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from .common import ConversionError

__all__ = ['require_h5py', 'open_hdf5', 'get_dataset', 'read_table', 'read_rows',
           'decode_text', 'parse_json_text']

#: Largest block :func:`read_rows` reads at once (bytes).
ROW_BLOCK_BYTES = 64 << 20


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


def read_rows(data: Any, rows: Sequence[int], block_bytes: int = ROW_BLOCK_BYTES
              ) -> Iterator[tuple[int, np.ndarray]]:
    """``(row, data[row])`` for the sorted ``rows`` of a dataset, read in
    blocks of whole chunks (at most about ``block_bytes``, at least one chunk
    of rows), skipping blocks without a wanted row.

    Reading an image dataset row by row reads every chunk once per row it
    spans (DeepPoseKit's files are chunked across several images and
    channels); whole chunks are read once each. One-byte data stored without
    filters (DeepPoseKit's images) is copied from the stored chunks as they
    are (:func:`_block_from_chunks`), much faster than HDF5's selection of
    chunks that split the channels; the values are the same.
    """
    if not rows:
        return
    row_bytes = max(1, int(np.prod(data.shape[1:], dtype=np.int64)) * data.dtype.itemsize)
    step = max(1, block_bytes // row_bytes)
    if data.chunks:
        step = max(1, step // data.chunks[0]) * data.chunks[0]
    raw = _raw_chunks(data)
    wanted = np.asarray(rows, dtype=np.int64)
    for start in range(0, len(data), step):
        inside = wanted[(wanted >= start) & (wanted < start + step)]
        if inside.size:
            stop = min(start + step, len(data))
            block = _block_from_chunks(data, start, stop) if raw else data[start:stop]
            for row in inside.tolist():
                yield row, block[row - start]


def _raw_chunks(data: Any) -> bool:
    """Whether the stored chunks of ``data`` are its values as they are:
    chunked, no filter (compression, shuffle, checksum, ...), one-byte values
    (no byte order) and every chunk written (no fill values to make up)."""
    if not data.chunks or data.dtype.itemsize != 1 or data.id.get_create_plist().get_nfilters():
        return False
    grid = [-(-size // chunk) for size, chunk in zip(data.shape, data.chunks)]
    return data.id.get_num_chunks() == int(np.prod(grid, dtype=np.int64))


def _block_from_chunks(data: Any, start: int, stop: int) -> np.ndarray:
    """``data[start:stop]`` assembled from its stored chunks (``start`` on a
    chunk boundary; see :func:`_raw_chunks`)."""
    chunks = data.chunks
    shape = (stop - start, *data.shape[1:])
    out = np.empty(shape, data.dtype)
    origins = [range(start, stop, chunks[0])] + [range(0, n, c) for n, c in
                                                  zip(data.shape[1:], chunks[1:])]
    for offset in itertools.product(*origins):
        _, stored = data.id.read_direct_chunk(offset)
        tile = np.frombuffer(stored, data.dtype).reshape(chunks)
        local = (offset[0] - start, *offset[1:])
        part = tuple(slice(0, min(c, n - o)) for o, c, n in zip(local, chunks, shape))
        out[tuple(slice(o, o + p.stop) for o, p in zip(local, part))] = tile[part]
    return out


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
