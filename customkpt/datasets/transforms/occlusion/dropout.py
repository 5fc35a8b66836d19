"""Dropout of random regions of the crop: holes, a grid and an erased box."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from customkpt.registry import TRANSFORMS

from .common import MaskedFill, box_mask, check_count, check_range, check_size_range, draw_size

__all__ = ['CoarseDropout', 'GridDropout', 'RandomErasing']


@TRANSFORMS.register_module()
class CoarseDropout(MaskedFill):
    """Fill a random number of random rectangles.

    With probability ``prob``: draw a hole count from ``num_holes``, then for
    each hole a width and a height from ``hole_size`` (independently) and a
    position that keeps it inside the crop. Sizes are pixels when given as
    ints, fractions of the crop width / height when given as floats.

    The draws, in order: one uniform for ``prob``, then :meth:`sample_holes`.

    Keys: those every occlusion transform shares (see
    :mod:`customkpt.datasets.transforms.occlusion`).

    Args:
        num_holes: (min, max) number of holes.
        hole_size: (min, max) hole side, ints in pixels or floats in (0, 1].
        fill, value, prob, record_mask: as in :class:`~.common.MaskedFill`.
    """

    repr_fields = ('num_holes', 'hole_size') + MaskedFill.repr_fields

    def __init__(self, num_holes: Sequence[int] = (1, 8), hole_size: Sequence[float] = (10, 40),
                 fill: str = 'constant', value: float | Sequence[float] = 0, prob: float = 0.5,
                 record_mask: bool = False) -> None:
        super().__init__(prob, fill, value, record_mask)
        self.num_holes = check_range(num_holes, 'num_holes', 'CoarseDropout', lowest=1, integer=True)
        self.hole_size = check_size_range(hole_size, 'hole_size', 'CoarseDropout')

    def sample_holes(self, h: int, w: int) -> np.ndarray:
        """Draw the holes for an (h, w) crop from the global RNG.

        Returns:
            int64 (M, 4) boxes x0, y0, x1, y1 (x1, y1 exclusive), inside the crop.
        """
        count = int(np.random.randint(self.num_holes[0], self.num_holes[1] + 1))
        boxes = np.zeros((count, 4), np.int64)
        for i in range(count):
            hole_w = min(draw_size(np.random, self.hole_size, w), w)
            hole_h = min(draw_size(np.random, self.hole_size, h), h)
            x0 = int(np.random.randint(0, w - hole_w + 1))
            y0 = int(np.random.randint(0, h - hole_h + 1))
            boxes[i] = x0, y0, x0 + hole_w, y0 + hole_h
        return boxes

    def _mask(self, results, shape, pixels, labelled):
        return box_mask(shape, self.sample_holes(*shape))


@TRANSFORMS.register_module()
class GridDropout(MaskedFill):
    """Fill square holes on a regular grid.

    With probability ``prob``: draw a grid unit ``d`` from ``unit_size``
    (pixels as ints, fractions of the crop's shorter side as floats); each
    ``d x d`` cell gets a square hole of side ``round(d * ratio)`` (at least
    1), at the same place in every cell. With ``random_offset`` the grid is
    shifted by a random amount in [0, d - hole] along each axis, otherwise
    holes start at the top-left corner. About ``ratio ** 2`` of the crop is
    filled.

    Keys: those every occlusion transform shares (see
    :mod:`customkpt.datasets.transforms.occlusion`).

    Args:
        unit_size: (min, max) grid unit, ints in pixels or floats in (0, 1].
        ratio: hole side / unit side, in (0, 1].
        random_offset: shift the grid randomly.
        fill, value, prob, record_mask: as in :class:`~.common.MaskedFill`.
    """

    repr_fields = ('unit_size', 'ratio', 'random_offset') + MaskedFill.repr_fields

    def __init__(self, unit_size: Sequence[float] = (10, 40), ratio: float = 0.5,
                 random_offset: bool = True, fill: str = 'constant',
                 value: float | Sequence[float] = 0, prob: float = 0.5,
                 record_mask: bool = False) -> None:
        super().__init__(prob, fill, value, record_mask)
        self.unit_size = check_size_range(unit_size, 'unit_size', 'GridDropout')
        if not 0 < float(ratio) <= 1:
            raise ValueError(f'GridDropout: ratio must be in (0, 1], got {ratio}')
        self.ratio = float(ratio)
        self.random_offset = bool(random_offset)

    def _mask(self, results, shape, pixels, labelled):
        h, w = shape
        unit = max(2, draw_size(np.random, self.unit_size, min(h, w)))
        hole = min(max(1, int(round(unit * self.ratio))), unit)
        if self.random_offset:
            off_x, off_y = (int(v) for v in np.random.randint(0, unit - hole + 1, 2))
        else:
            off_x = off_y = 0
        rows = (np.arange(h) >= off_y) & ((np.arange(h) - off_y) % unit < hole)
        cols = (np.arange(w) >= off_x) & ((np.arange(w) - off_x) % unit < hole)
        return rows[:, None] & cols[None, :]


@TRANSFORMS.register_module()
class RandomErasing(MaskedFill):
    """Fill one random rectangle of random area and aspect ratio.

    With probability ``prob``: up to ``max_attempts`` times, draw an area
    fraction from ``area_range`` (of the crop area) and an aspect ratio
    (height / width) log-uniformly from ``aspect_range``; the first rectangle
    that fits inside the crop is placed uniformly at random and filled. When
    none fits, the sample is left alone.

    Keys: those every occlusion transform shares (see
    :mod:`customkpt.datasets.transforms.occlusion`).

    Args:
        area_range: (min, max) fraction of the crop area, in (0, 1].
        aspect_range: (min, max) height / width, > 0.
        max_attempts: draws before giving up.
        fill, value, prob, record_mask: as in :class:`~.common.MaskedFill`
            (``fill`` is random noise by default, as in the original method).
    """

    repr_fields = ('area_range', 'aspect_range', 'max_attempts') + MaskedFill.repr_fields

    def __init__(self, area_range: Sequence[float] = (0.02, 0.33),
                 aspect_range: Sequence[float] = (0.3, 3.3), fill: str = 'noise',
                 value: float | Sequence[float] = 0, prob: float = 0.5, max_attempts: int = 10,
                 record_mask: bool = False) -> None:
        super().__init__(prob, fill, value, record_mask)
        self.area_range = check_range(area_range, 'area_range', 'RandomErasing')
        if not (0 < self.area_range[0] and self.area_range[1] <= 1):
            raise ValueError(f'RandomErasing: area_range must lie in (0, 1], got {area_range}')
        self.aspect_range = check_range(aspect_range, 'aspect_range', 'RandomErasing')
        if self.aspect_range[0] <= 0:
            raise ValueError(f'RandomErasing: aspect_range must be > 0, got {aspect_range}')
        self.max_attempts = check_count(max_attempts, 'max_attempts', 'RandomErasing')

    def _mask(self, results, shape, pixels, labelled):
        h, w = shape
        log_low, log_high = math.log(self.aspect_range[0]), math.log(self.aspect_range[1])
        for _ in range(self.max_attempts):
            area = np.random.uniform(*self.area_range) * h * w
            aspect = math.exp(np.random.uniform(log_low, log_high))
            box_h = int(round(math.sqrt(area * aspect)))
            box_w = int(round(math.sqrt(area / aspect)))
            if 0 < box_w <= w and 0 < box_h <= h:
                x0 = int(np.random.randint(0, w - box_w + 1))
                y0 = int(np.random.randint(0, h - box_h + 1))
                return box_mask(shape, np.array([[x0, y0, x0 + box_w, y0 + box_h]]))
        return None
