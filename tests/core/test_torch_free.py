"""customkpt.core and customkpt.codecs import, and work, with torch and
mmengine unavailable."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import sys
for name in ('torch', 'mmengine', 'mmcv'):
    sys.modules[name] = None  # any import of them raises ImportError
import numpy as np
import customkpt.core
from customkpt.core import boxes, flip, geometry, peaks, presets
import customkpt.codecs
from customkpt.codecs import build_codec

codec = build_codec(dict(type='UDPHeatmap', input_size=(48, 64), heatmap_size=(12, 16)))
target = codec.encode(np.array([[[20.0, 30.0]]], np.float32))
kpts, scores = codec.decode(target['heatmaps'])
assert np.abs(kpts - [20.0, 30.0]).max() < 0.1 and scores[0, 0] > 0.9
assert build_codec(codec.to_dict()).to_dict() == codec.to_dict()
loaded = sorted(m for m in sys.modules if sys.modules[m] is not None
                and m.split('.')[0] in ('torch', 'mmengine', 'mmcv'))
assert not loaded, loaded
print('ok')
'''


def test_core_and_codecs_import_without_torch_and_mmengine():
    result = subprocess.run([sys.executable, '-c', SCRIPT], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'ok'
