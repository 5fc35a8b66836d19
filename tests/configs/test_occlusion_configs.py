"""The occlusion configs are their clean twins plus occlusion after the crop."""
from pathlib import Path

import pytest

from customkpt.engine.config import load_config
from customkpt.registry import TRANSFORMS

ROOT = Path(__file__).resolve().parents[2] / 'configs'


@pytest.mark.parametrize('clean, occluded', [
    ('hrnet_self5_cpu.py', 'hrnet_self5_cpu_occlusion.py'),
    ('openfield_mouse.py', 'openfield_mouse_occlusion.py')])
def test_twin_plus_occlusion(clean, occluded):
    a, b = load_config(str(ROOT / clean)), load_config(str(ROOT / occluded))
    base = a.train_dataloader.dataset.pipeline
    steps = b.train_dataloader.dataset.pipeline
    at = [t['type'] for t in base].index('TopdownAffine') + 1
    assert steps[:at] == base[:at] and steps[at + len(b.occlusion):] == base[at:]
    assert steps[at:at + len(b.occlusion)] == b.occlusion
    assert a.model == b.model and a.val_dataloader == b.val_dataloader
    assert a.param_scheduler == b.param_scheduler
    for step in b.occlusion:
        TRANSFORMS.build(step)
