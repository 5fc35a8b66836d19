"""Random blur of the crop: a box filter or a median filter of random size.

Both change only ``img``; keypoints, boxes and targets are untouched.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.registry import TRANSFORMS

from .settings import SettingsRepr

__all__ = ['Blur', 'MedianBlur']


class _RandomKernelBlur(SettingsRepr, BaseTransform):
    """With probability ``prob``, filter ``img`` with an odd square kernel
    whose side is drawn uniformly from the odd numbers in ``kernel_range``.

    The draws, every call: one uniform for ``prob`` and one integer for the
    kernel, from numpy's global RNG.

    Required keys:
        img: (h, w) or (h, w, C) image; uint8 is expected, other dtypes are
            clipped to [0, 255] for the filter and cast back.
    Modified keys:
        img (same shape and dtype).

    Args:
        kernel_range: (min, max) kernel side, odd integers >= 3 (an even
            bound is rounded inwards).
        prob: probability of the transform.
    """

    repr_fields = ('kernel_range', 'prob')

    def __init__(self, kernel_range: Sequence[int] = (3, 7), prob: float = 0.1) -> None:
        low, high = (int(v) for v in kernel_range)
        low, high = low + (low % 2 == 0), high - (high % 2 == 0)
        if low < 3 or high < low:
            raise ValueError(f'{type(self).__name__}: kernel_range must hold an odd size >= 3, '
                             f'got {tuple(kernel_range)}')
        self.kernel_range = (low, high)
        self.prob = float(prob)

    def filter(self, img: np.ndarray, size: int) -> np.ndarray:
        """Filter a uint8 image with a ``size`` x ``size`` kernel."""
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        """Blur ``img``; see the class docstring."""
        apply = np.random.rand() < self.prob
        size = 2 * int(np.random.randint(self.kernel_range[0] // 2,
                                         self.kernel_range[1] // 2 + 1)) + 1
        if not apply:
            return results
        img = results['img']
        dtype = img.dtype
        work = img if dtype == np.uint8 else np.clip(img, 0, 255).astype(np.uint8)
        work = self.filter(np.ascontiguousarray(work), size).reshape(img.shape)
        results['img'] = work if dtype == np.uint8 else work.astype(dtype)
        return results



@TRANSFORMS.register_module()
class Blur(_RandomKernelBlur):
    """Box-filter blur (each pixel the mean of its kernel window), borders
    reflected. Arguments and keys: :class:`_RandomKernelBlur`."""

    def filter(self, img: np.ndarray, size: int) -> np.ndarray:
        return cv2.blur(img, (size, size))


@TRANSFORMS.register_module()
class MedianBlur(_RandomKernelBlur):
    """Median-filter blur (each pixel the median of its kernel window), borders
    replicated. Arguments and keys: :class:`_RandomKernelBlur`."""

    def filter(self, img: np.ndarray, size: int) -> np.ndarray:
        return cv2.medianBlur(img, size)
