"""What keypoint names tell: body halves by part word and the default palette."""
from __future__ import annotations

import subprocess
import sys

from customkpt.meta import KeypointMeta, palette
from customkpt.meta.naming import LOWER_PARTS, UPPER_PARTS, body_part_ids


def test_body_part_ids_by_part_word_case_insensitive():
    names = ['Nose', 'left_shoulder', 'tail', 'right_Knee', 'L_Foot', 'withers']
    upper, lower = body_part_ids(names)
    assert upper == [0, 1]
    assert lower == [3, 4]
    assert body_part_ids([]) == ([], [])


def test_body_parts_from_names_uses_the_part_words():
    meta = KeypointMeta.from_config(dict(keypoint_names=['head', 'left_hand', 'left_hip', 'toe'],
                                         sigmas=[0.05] * 4, body_parts_from_names=True))
    assert meta.upper_body_ids == [0, 1]
    assert meta.lower_body_ids == [2, 3]
    assert not set(UPPER_PARTS) & set(LOWER_PARTS)


def test_palette_is_deterministic_distinct_rgb():
    colours = palette(12)
    assert colours == palette(12)
    assert len({tuple(c) for c in colours}) == 12
    assert all(len(c) == 3 and all(0 <= v <= 255 for v in c) for c in colours)
    assert palette(3, offset=0.3) != palette(3)
    assert palette(0) == []


def test_meta_imports_neither_torch_nor_mmengine():
    code = ('import sys, customkpt.meta; '
            'print(sorted(m for m in ("torch", "mmengine", "mmcv") if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == '[]'
