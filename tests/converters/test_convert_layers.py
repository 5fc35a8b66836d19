"""The converters' place in the layers: numpy/json only, boxes from customkpt.core."""
from __future__ import annotations

import subprocess
import sys

import numpy as np

from customkpt.converters import bbox_from_points
from customkpt.core.boxes import DERIVED_BOX_PADDING, boxes_from_points, clip_boxes


def test_converters_import_neither_torch_nor_mmengine():
    code = ('import sys, customkpt.converters; '
            'print(sorted(m for m in ("torch", "mmengine", "mmcv") if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == '[]'


def test_bbox_from_points_is_the_core_box_clipped_as_xywh():
    rng = np.random.default_rng(3)
    for _ in range(50):
        xy = rng.uniform(-20, 120, (int(rng.integers(1, 6)), 2))
        box = boxes_from_points(xy[None], np.ones((1, len(xy)), bool), DERIVED_BOX_PADDING,
                                8.0, dtype=np.float64)
        x0, y0, x1, y1 = clip_boxes(box, 100, 80, dtype=np.float64)[0]
        got = bbox_from_points(xy, 100, 80)
        if x1 > x0 and y1 > y0:
            assert got == [x0, y0, x1 - x0, y1 - y0]
        else:
            assert got is None
