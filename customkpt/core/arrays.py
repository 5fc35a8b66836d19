"""Numpy arrays out of whatever a sample field holds: numpy arrays, lists,
scalars or torch tensors (recognised by their ``detach`` method, so torch is
never imported here)."""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ['to_numpy', 'to_numpy_or_none']


def to_numpy(value: Any) -> np.ndarray:
    """A numpy array from a numpy array, a tensor (detached, on the CPU), a
    list or a scalar."""
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def to_numpy_or_none(value: Any) -> np.ndarray | None:
    """:func:`to_numpy`, except that None (a field that is absent) stays None."""
    return None if value is None else to_numpy(value)
