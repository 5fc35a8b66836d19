"""customkpt: keypoint detection on your own keypoint definitions.

Importing the package is cheap: it loads no torch and no mmengine. The
subpackages load on first use (``customkpt.deploy``, ``customkpt.codecs``
...), either by importing them or as attributes of the package.

The registries live in :mod:`customkpt.registry`; mmengine imports that
module when a config names the ``customkpt`` scope (``default_scope =
'customkpt'`` or ``type='customkpt.ClassName'``), and each registry imports
the modules that fill it the first time a class is built from it. Importing
:mod:`customkpt.registry` also makes checkpoint loading safe on torch >= 2.6
(see :mod:`customkpt.checkpoint`).
"""
from __future__ import annotations

import importlib
from types import ModuleType

from .version import __version__

#: Subpackages and modules reachable as ``customkpt.<name>`` without an import.
_SUBMODULES = frozenset({
    'apis', 'checkpoint', 'cli', 'codecs', 'converters', 'core', 'datasets', 'demo',
    'deploy', 'engine', 'evaluation', 'meta', 'models', 'registry', 'smoothing',
    'structures', 'visualization'})

__all__ = ['__version__']


def __getattr__(name: str) -> ModuleType:
    """Import a subpackage on first attribute access (``customkpt.deploy``)."""
    if name in _SUBMODULES:
        return importlib.import_module(f'{__name__}.{name}')
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
