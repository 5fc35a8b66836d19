"""The tiny model config and the demo clip's size shared by the video-based CLI tests."""
from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(REPO_ROOT / 'configs' / 'hrnet_self5_cpu.py')
SIZE = (160, 120)
FRAMES = 12
