"""The error every keypoint-definition check raises, and its one-line warnings."""
from __future__ import annotations

import warnings

__all__ = ['KeypointMetaError', 'KeypointMetaWarning', 'warn_meta']


class KeypointMetaError(ValueError):
    """A keypoint definition is inconsistent or malformed."""


class KeypointMetaWarning(UserWarning):
    """A keypoint definition was read, but something in it was guessed or fixed."""


# Which messages were shown: the 'default' warnings filter shows each once.
_SHOWN: dict = {}


def warn_meta(message: str) -> None:
    """Issue ``message`` as a :class:`KeypointMetaWarning` that prints as one
    line, ``customkpt.meta: KeypointMetaWarning: <message>``, without the
    Python source line a plain ``warnings.warn`` shows. Warning filters
    (``-W``, ``pytest.warns``) apply as usual."""
    warnings.warn_explicit(message, KeypointMetaWarning, filename='customkpt.meta', lineno=0,
                           module='customkpt.meta', registry=_SHOWN)
