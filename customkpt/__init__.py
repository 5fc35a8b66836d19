"""customkpt: keypoint detection on your own keypoint definitions.

Importing the package registers every dataset, transform, model, metric and
hook in customkpt's registries (scope ``customkpt``) and makes checkpoint
loading safe on torch >= 2.6 (see :mod:`customkpt.checkpoint`).
"""
from .checkpoint import install_mmengine_loader, register_safe_globals
from .version import __version__

register_safe_globals()
install_mmengine_loader()


def _register_all() -> None:
    """Import the modules that register classes (idempotent)."""
    import importlib
    for name in ('customkpt.codecs', 'customkpt.datasets', 'customkpt.datasets.transforms',
                 'customkpt.models', 'customkpt.evaluation', 'customkpt.engine',
                 'customkpt.visualization'):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not name.startswith(exc.name or "?"):  # TEMP until all subpackages land
                raise


_register_all()

__all__ = ['__version__']
