"""customkpt: keypoint detection on your own keypoint definitions.

Importing the package registers every codec, dataset, transform, metric, hook
and visualizer in customkpt's registries (scope ``customkpt``) and makes
checkpoint loading safe on torch >= 2.6 (see :mod:`customkpt.checkpoint`).
"""
from . import codecs, datasets, engine, evaluation, models, smoothing, visualization  # noqa: F401
from .checkpoint import install_mmengine_loader, register_safe_globals
from .datasets import transforms  # noqa: F401 (registration)
from .version import __version__

register_safe_globals()
install_mmengine_loader()

__all__ = ['__version__']
