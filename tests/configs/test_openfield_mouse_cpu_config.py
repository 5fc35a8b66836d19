"""configs/openfield_mouse_cpu.py: the tiny mouse model, optionally started
from a checkpoint of another definition (the snout from its `head`)."""
from pathlib import Path

import torch

from customkpt.engine.config import load_config
from customkpt.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / 'configs' / 'openfield_mouse_cpu.py'
SELF5 = ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot']


def test_builds_tiny_and_starts_from_a_self5_checkpoint(tmp_path):
    cfg = load_config(str(CONFIG))
    assert cfg.model.backbone.arch == 'tiny' and cfg.model.head.in_channels == 16
    assert cfg.model.pretrained.checkpoint is None  # from scratch unless asked
    MODELS.build(cfg.model).init_weights()

    torch.manual_seed(3)
    src = MODELS.build(dict(type='TopdownEstimator', backbone=dict(type='HRNet', arch='tiny'),
                            head=dict(type='HeatmapHead', in_channels=16, out_channels=5)))
    for p in src.parameters():
        torch.nn.init.normal_(p)
    ckpt = tmp_path / 'self5.pth'
    torch.save(dict(state_dict=src.state_dict(), meta=dict(dataset_meta=dict(
        keypoint_names=SELF5))), ckpt)
    cfg.model.pretrained.checkpoint = str(ckpt)
    model = MODELS.build(cfg.model)
    model.init_weights()
    weight = model.head.final_layer.weight
    assert torch.equal(weight[0], src.head.final_layer.weight[0])  # snout <- head
    assert not torch.equal(weight[1], src.head.final_layer.weight[1])  # leftear: fresh
    assert torch.equal(model.backbone.conv1.weight, src.backbone.conv1.weight)
