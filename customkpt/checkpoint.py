"""Checkpoint loading that never executes code from the file.

Since torch 2.6, ``torch.load`` unpickles with ``weights_only=True``: only
tensors, containers and allow-listed types are rebuilt. Checkpoints written by
mmengine's Runner also hold its ``HistoryBuffer`` (logged scalars) and numpy
arrays and scalars; those data-only types are allow-listed here, nothing else.
A file that asks for any other global (for example ``os.system``) is refused
with :class:`UnsafeCheckpointError`; a file that is cut short, empty or not a
checkpoint at all raises :class:`CheckpointReadError` naming it.

:func:`install_mmengine_loader` makes :func:`load_local` mmengine's loader for
local paths and routes every remote scheme mmengine knows (``http(s)://``,
``torchvision://``, ``open-mmlab://``, ``mmcls://``, ``pavi://``, ``s3://``
...) through the same reading (see :mod:`customkpt.checkpoint_remote`), so
``load_from``, ``--resume``, ``init_cfg=dict(type='Pretrained', ...)`` and
``Runner.load_checkpoint`` all go through it.

A checkpoint's ``meta`` is data as well: :func:`checkpoint_meta` hands out
its ``dataset_meta`` without the keys that would make a reader open (and, for
``.py`` files, execute) another file.
"""
from __future__ import annotations

import copy
import importlib
import json
import logging
import pickle
import re
import struct
import zipfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

# (module, name) of every allow-listed global, as pickles name them.
_DATA_GLOBALS = [
    ('mmengine.logging.history_buffer', 'HistoryBuffer'),
    ('numpy', 'ndarray'),
    ('numpy', 'dtype'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', 'scalar'),
    ('numpy.core.multiarray', '_reconstruct'),  # files written under numpy 1
    ('numpy.core.multiarray', 'scalar'),
]


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint asked to rebuild a type that is not plain data."""


class CheckpointReadError(ValueError):
    """A checkpoint file is truncated, corrupted or not a checkpoint."""


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stand-in for the builtin ``getattr`` inside checkpoints.

    mmengine pickles a log buffer's statistics (``HistoryBuffer.min`` ...) as
    ``getattr(HistoryBuffer, 'min')``. The real ``getattr`` would reach any
    attribute of any object, and from there arbitrary code; this one answers
    only those statistics methods.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = {'min', 'max', 'mean', 'current'} | set(HistoryBuffer._statistics_methods)
    is_buffer = obj is HistoryBuffer or isinstance(obj, HistoryBuffer)
    if not (is_buffer and isinstance(name, str) and name in allowed):
        raise UnsafeCheckpointError(
            f'checkpoint asks for getattr({type(obj).__name__}, {name!r}); only '
            f'HistoryBuffer statistics {sorted(allowed)} may be looked up')
    return getattr(obj, name)


def _numpy_dtype_classes() -> list[tuple[type, str]]:
    """numpy's per-dtype classes (``numpy.dtypes.Float64DType``, ...)."""
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is None:
        return []
    out = []
    for name in dir(dtypes):
        cls = getattr(dtypes, name)
        if isinstance(cls, type) and issubclass(cls, np.dtype):
            out.append((cls, f'numpy.dtypes.{name}'))
    return out


def safe_globals() -> list[tuple[Any, str]]:
    """The allow-list, as ``(object, 'module.name')`` pairs."""
    out = []
    for module, name in _DATA_GLOBALS:
        try:
            obj = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        out.append((obj, f'{module}.{name}'))
    out += [(_history_buffer_getattr, 'builtins.getattr'),
            (_history_buffer_getattr, '__builtin__.getattr')]
    return out + _numpy_dtype_classes()


def register_safe_globals() -> None:
    """Allow-list the data-only types found in mmengine checkpoints."""
    torch.serialization.add_safe_globals(safe_globals())


# What torch.load raises on a file that is not a readable checkpoint (an
# UnpicklingError is a refused global instead, see safe_load).
_READ_ERRORS = (RuntimeError, EOFError, ValueError, LookupError, TypeError, ArithmeticError,
                MemoryError, struct.error, zipfile.BadZipFile)


def _what_is_wrong(path: Path) -> str:
    """A short diagnosis of a file that ``torch.load`` could not read."""
    size = path.stat().st_size
    if size == 0:
        return 'the file is empty'
    with open(path, 'rb') as f:
        head = f.read(2)
    if head == b'PK' and not zipfile.is_zipfile(path):
        return f'a zip archive without its central directory ({size} bytes; cut short?)'
    if head == b'PK':
        return 'its zip archive is corrupted or declares more data than it holds'
    if head[:1] != b'\x80':
        return 'neither a zip archive nor a pickle'
    return 'its pickle is cut short or corrupted'


def safe_load(path: str | Path, map_location: Any = 'cpu', source: str | None = None) -> Any:
    """``torch.load`` with ``weights_only=True`` and a clear refusal.

    Args:
        path: the local file.
        map_location: as for ``torch.load``.
        source: how error messages name the file (default: ``path``), e.g.
            the URL it was downloaded from.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeCheckpointError: the file needs a global outside the
            allow-list; nothing from it was executed.
        CheckpointReadError: the file is truncated, empty, corrupted or not
            a torch checkpoint.
    """
    path = Path(path)
    source = str(path) if source is None else source
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint not found: {source}')
    register_safe_globals()
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.findall(r'GLOBAL ([\w.]+)', str(exc))
        what = f'it asks for {found[0]!r}, ' if found else ''
        raise UnsafeCheckpointError(
            f'refusing to load checkpoint {source}: {what}which is not plain data '
            '(tensors, numbers, strings, containers, numpy arrays, mmengine log '
            'buffers). Loading it could execute code. If you wrote this file yourself '
            'with custom objects, re-save it with only tensors and plain values.'
        ) from None
    except _READ_ERRORS as exc:
        if 'map_location' in str(exc):  # e.g. CUDA tensors on a CPU-only machine
            raise
        said = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''
        raise CheckpointReadError(
            f'cannot read checkpoint {source}: truncated, corrupted or not a torch '
            f'checkpoint ({_what_is_wrong(path)}; {type(exc).__name__}: {said})') from None


# Where a ``.safetensors`` checkpoint keeps its meta (JSON): in the header
# under this key, or in a ``<stem>.meta.json`` file beside it.
SAFETENSORS_META_KEY = 'customkpt_meta'
SIDECAR_SUFFIX = '.meta.json'


def _safetensors_meta(path: Path, header: Mapping[str, str], source: str) -> dict:
    """The JSON meta of a ``.safetensors`` file (header key, else sidecar)."""
    sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
    try:
        if SAFETENSORS_META_KEY in header:
            return json.loads(header[SAFETENSORS_META_KEY])
        if sidecar.is_file():
            return json.loads(sidecar.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointReadError(
            f'cannot read checkpoint {source}: its meta ({SAFETENSORS_META_KEY} header '
            f'entry or {sidecar.name}) is not valid JSON ({exc})') from None
    return {}


def read_safetensors(path: str | Path, source: str | None = None) -> dict[str, Any]:
    """A ``.safetensors`` file as ``{'state_dict': ..., 'meta': ...}``.

    The meta is the JSON stored under ``customkpt_meta`` in the file header,
    else the sidecar ``<stem>.meta.json`` next to it, else empty.

    Args:
        path: the local file.
        source: how error messages name the file (default: ``path``).

    Raises:
        ImportError: the ``safetensors`` package is not installed.
        FileNotFoundError: the file does not exist.
        CheckpointReadError: the header or the meta is malformed, or the file
            is cut short.
    """
    try:
        from safetensors import SafetensorError, safe_open
        from safetensors.torch import load_file
    except ImportError as exc:
        raise ImportError(f'reading {path} needs the safetensors package: '
                          'pip install safetensors') from exc
    path = Path(path)
    source = str(path) if source is None else source
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint not found: {source}')
    try:
        state_dict = load_file(str(path), device='cpu')
        with safe_open(str(path), framework='pt') as f:
            header = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointReadError(
            f'cannot read checkpoint {source}: truncated or not a safetensors file '
            f'({exc})') from None
    return dict(state_dict=state_dict, meta=_safetensors_meta(path, header, source))


def load_local(filename: str, map_location: Any = None) -> Any:
    """mmengine checkpoint-loader scheme for local files (see module doc):
    ``.safetensors`` through :func:`read_safetensors`, anything else through
    :func:`safe_load`."""
    if str(filename).endswith('.safetensors'):
        return read_safetensors(filename)
    return safe_load(filename, map_location=map_location)


# dataset_meta keys that name other files (a metainfo .py/.yaml file, an
# annotation file, a data folder); reading them could execute code.
FILE_REFERENCE_KEYS = frozenset({'from_file', 'metainfo', 'ann_file', 'data_root',
                                 'data_prefix', 'file', 'filename', 'path'})
_FILE_REFERENCE_SUFFIXES = ('_file', '_path', '_dir', '_root', '_prefix')


def checkpoint_meta(ckpt: Any, source: str) -> dict:
    """A checkpoint's ``meta['dataset_meta']`` as plain data, safe to resolve.

    Keys that reference files (``from_file``, ``ann_file``, ... see
    :data:`FILE_REFERENCE_KEYS`, and any ``*_file`` / ``*_path`` / ``*_dir``
    / ``*_root`` / ``*_prefix``) are removed with a logged warning, so that
    turning the result into a ``KeypointMeta`` never opens, let alone runs,
    a file the checkpoint names.

    Args:
        ckpt: the loaded checkpoint (``{'meta': {'dataset_meta': ...}, ...}``).
        source: the checkpoint's path or URL, for the warning.

    Returns:
        A deep copy of the ``dataset_meta`` dict without file references;
        ``{}`` when the checkpoint has none (or it is not a dict).
    """
    meta = ckpt.get('meta') if isinstance(ckpt, Mapping) else None
    dataset_meta = meta.get('dataset_meta') if isinstance(meta, Mapping) else None
    if dataset_meta is None:
        return {}
    if not isinstance(dataset_meta, Mapping):
        _warn(f'checkpoint {source}: meta dataset_meta is a {type(dataset_meta).__name__}, '
              'not a dict; ignored')
        return {}
    dropped = sorted(str(k) for k in dataset_meta
                     if k in FILE_REFERENCE_KEYS or str(k).endswith(_FILE_REFERENCE_SUFFIXES))
    if dropped:
        _warn(f'checkpoint {source}: ignoring file references in its meta dataset_meta '
              f'{dropped}; a checkpoint may not make the reader open other files')
    return {k: copy.deepcopy(v) for k, v in dataset_meta.items() if str(k) not in dropped}


def _warn(message: str) -> None:
    from mmengine.logging import print_log
    print_log(message, logger='current', level=logging.WARNING)


def install_mmengine_loader() -> None:
    """Route all of mmengine's checkpoint loading through the weights-only
    reading: :func:`load_local` for local paths, and
    :func:`customkpt.checkpoint_remote.install_remote_loaders` for every
    other scheme."""
    from mmengine.runner.checkpoint import CheckpointLoader

    from customkpt.checkpoint_remote import install_remote_loaders
    CheckpointLoader.register_scheme(prefixes='', loader=load_local, force=True)
    install_remote_loaders()
