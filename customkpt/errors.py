"""The errors a ``customkpt`` command reports as one line instead of a traceback.

:class:`UserError` is for a problem with what the user gave (a file, an
option, a config value) that its message explains fully. The library's own
checks raise their specific errors (``KeypointMetaError``,
``ConfigConventionError``, ``CheckpointReadError``, ...); :data:`USER_ERRORS`
lists them all, so the command line knows which exceptions are the user's to
fix and which are bugs (those keep their traceback).

Numpy-free and torch-free: importing this module loads nothing else.
"""
from __future__ import annotations

import sys

__all__ = ['UserError', 'USER_ERRORS', 'user_error_types']


class UserError(Exception):
    """Something the user gave is wrong; the message says what and where."""


#: ``(module, class name)`` of every exception that is the user's to fix.
USER_ERRORS: tuple[tuple[str, str], ...] = (
    ('customkpt.errors', 'UserError'),
    ('customkpt.meta.errors', 'KeypointMetaError'),
    ('customkpt.engine.references', 'ConfigReferenceError'),
    ('customkpt.engine.config', 'ConfigConventionError'),
    ('customkpt.engine.model_fit', 'KeypointCountError'),
    ('customkpt.checkpoint', 'CheckpointReadError'),
    ('customkpt.checkpoint', 'UnsafeCheckpointError'),
    ('customkpt.checkpoint_remote', 'CheckpointDownloadError'),
    ('customkpt.checkpoint_remote', 'UnsupportedCheckpointScheme'),
    ('customkpt.datasets.validation.report', 'DatasetValidationError'),
    ('customkpt.converters.common', 'ConversionError'),
    ('customkpt.visualization.curves', 'CurveKeyError'),
    ('customkpt.models.convert_paddle', 'PdparamsError'),
    ('mmengine.config.utils', 'ConfigParsingError'),
    ('builtins', 'FileNotFoundError'),
    ('builtins', 'IsADirectoryError'),
    ('builtins', 'NotADirectoryError'),
    ('builtins', 'PermissionError'),
)


def user_error_types() -> tuple[type[BaseException], ...]:
    """The classes of :data:`USER_ERRORS` whose modules are loaded.

    A module that was never imported raised nothing, so none is imported
    here (the command line stays as light as the command that ran).
    """
    found = []
    for module, name in USER_ERRORS:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)
