"""customkpt.core.arrays: numpy arrays from arrays, lists and tensors."""
from __future__ import annotations

import numpy as np
import torch

from customkpt.core.arrays import to_numpy, to_numpy_or_none


def test_tensors_are_detached_and_moved_to_numpy():
    t = torch.tensor([[1.0, 2.0]], requires_grad=True) * 2
    out = to_numpy(t)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, [[2.0, 4.0]])


def test_arrays_lists_and_scalars():
    a = np.arange(3)
    assert to_numpy(a) is a
    np.testing.assert_array_equal(to_numpy([1, 2]), [1, 2])
    assert to_numpy(3.5).shape == ()


def test_none_stays_none_only_in_the_optional_form():
    assert to_numpy_or_none(None) is None
    assert to_numpy(None).dtype == object
    np.testing.assert_array_equal(to_numpy_or_none(torch.ones(2)), [1.0, 1.0])
