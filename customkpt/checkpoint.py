"""Checkpoint loading that never executes code from the file.

Since torch 2.6, ``torch.load`` unpickles with ``weights_only=True``: only
tensors, containers and allow-listed types are rebuilt. Checkpoints written by
mmengine's Runner also hold its ``HistoryBuffer`` (logged scalars) and numpy
arrays and scalars; those data-only types are allow-listed here, nothing else.
A file that asks for any other global (for example ``os.system``) is refused
with :class:`UnsafeCheckpointError`.

Importing :mod:`customkpt` calls :func:`register_safe_globals` and installs
:func:`load_local` as mmengine's loader for local paths, so ``load_from``,
``--resume`` and ``Runner.load_checkpoint`` all go through it.
"""
from __future__ import annotations

import importlib
import json
import pickle
import re
from pathlib import Path
from typing import Any

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


def safe_load(path: str | Path, map_location: Any = 'cpu') -> Any:
    """``torch.load`` with ``weights_only=True`` and a clear refusal.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeCheckpointError: the file needs a global outside the
            allow-list; nothing from it was executed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint not found: {path}')
    register_safe_globals()
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.findall(r'GLOBAL ([\w.]+)', str(exc))
        what = f'it asks for {found[0]!r}, ' if found else ''
        raise UnsafeCheckpointError(
            f'refusing to load checkpoint {path}: {what}which is not plain data '
            '(tensors, numbers, strings, containers, numpy arrays, mmengine log '
            'buffers). Loading it could execute code. If you wrote this file yourself '
            'with custom objects, re-save it with only tensors and plain values.'
        ) from None


# Where a ``.safetensors`` checkpoint keeps its meta (JSON): in the header
# under this key, or in a ``<stem>.meta.json`` file beside it.
SAFETENSORS_META_KEY = 'customkpt_meta'
SIDECAR_SUFFIX = '.meta.json'


def read_safetensors(path: str | Path) -> dict[str, Any]:
    """A ``.safetensors`` file as ``{'state_dict': ..., 'meta': ...}``.

    The meta is the JSON stored under ``customkpt_meta`` in the file header,
    else the sidecar ``<stem>.meta.json`` next to it, else empty.

    Raises:
        ImportError: the ``safetensors`` package is not installed.
    """
    try:
        from safetensors import safe_open
        from safetensors.torch import load_file
    except ImportError as exc:
        raise ImportError(f'reading {path} needs the safetensors package: '
                          'pip install safetensors') from exc
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint not found: {path}')
    state_dict = load_file(str(path), device='cpu')
    with safe_open(str(path), framework='pt') as f:
        header = f.metadata() or {}
    meta: dict = {}
    if SAFETENSORS_META_KEY in header:
        meta = json.loads(header[SAFETENSORS_META_KEY])
    else:
        sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
        if sidecar.is_file():
            meta = json.loads(sidecar.read_text())
    return dict(state_dict=state_dict, meta=meta)


def load_local(filename: str, map_location: Any = None) -> Any:
    """mmengine checkpoint-loader scheme for local files (see module doc):
    ``.safetensors`` through :func:`read_safetensors`, anything else through
    :func:`safe_load`."""
    if str(filename).endswith('.safetensors'):
        return read_safetensors(filename)
    return safe_load(filename, map_location=map_location)


def install_mmengine_loader() -> None:
    """Route mmengine's local-path checkpoint loading through :func:`safe_load`."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=load_local, force=True)
