"""configs/hrnet_self5_finetune.py: the model starts from a 17-point
checkpoint by keypoint name; frozen stages, BN eval and the backbone LR."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.structures import InstanceData, PixelData

from customkpt.engine.config import load_config
from customkpt.registry import KEYPOINT_CODECS, MODELS
from customkpt.structures import PoseDataSample

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / 'configs' / 'hrnet_self5_finetune.py'
COCO = ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
        'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
        'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle']
SELF5_FROM = ['nose', 'left_wrist', 'right_wrist', 'left_ankle', 'right_ankle']


def tiny_cfg(checkpoint, **backbone):
    """The fine-tune config at the CPU test size (HRNet 'tiny')."""
    cfg = load_config(str(CONFIG))
    cfg.model.backbone.arch = 'tiny'
    cfg.model.backbone.update(backbone)
    cfg.model.head.in_channels = 16
    cfg.model.pretrained.checkpoint = str(checkpoint)
    return cfg


@pytest.fixture
def coco_ckpt(tmp_path):
    """A 17-point checkpoint in the MMPose/customkpt layout, COCO names in its meta."""
    torch.manual_seed(7)
    src = MODELS.build(dict(type='TopdownEstimator', backbone=dict(type='HRNet', arch='tiny'),
                            head=dict(type='HeatmapHead', in_channels=16, out_channels=17)))
    for p in src.parameters():
        torch.nn.init.normal_(p)
    sd = {k: v.clone() for k, v in src.state_dict().items()}
    path = tmp_path / 'coco_17.pth'
    torch.save(dict(state_dict=sd, meta=dict(dataset_meta=dict(keypoint_names=COCO))), path)
    return path, sd


def test_config_knobs():
    cfg = load_config(str(CONFIG))
    assert cfg.model.metainfo['keypoint_names'] == ['head', 'left_hand', 'right_hand',
                                                    'left_foot', 'right_foot']
    assert cfg.model.pretrained.keypoint_map['left_hand'] == 'left_wrist'
    base = load_config(str(ROOT / 'configs' / 'hrnet_self5.py'))
    ratio = base.optim_wrapper.optimizer.lr / cfg.optim_wrapper.optimizer.lr
    assert 2 <= ratio <= 5
    assert cfg.train_cfg.max_epochs < base.train_cfg.max_epochs
    assert cfg.param_scheduler[-1]['end'] == cfg.train_cfg.max_epochs
    assert max(cfg.param_scheduler[-1]['milestones']) < cfg.train_cfg.max_epochs


def test_head_channels_come_from_the_named_points(coco_ckpt):
    path, sd = coco_ckpt
    model = MODELS.build(tiny_cfg(path).model)
    model.init_weights()
    for i, name in enumerate(SELF5_FROM):
        j = COCO.index(name)
        assert torch.equal(model.head.final_layer.weight[i], sd['head.final_layer.weight'][j])
        assert torch.equal(model.head.final_layer.bias[i], sd['head.final_layer.bias'][j])
    assert torch.equal(model.backbone.stage3[0].branches[2][0].conv1.weight,
                       sd['backbone.stage3.0.branches.2.0.conv1.weight'])
    assert len(model.transfer_report.remapped) == 5


def test_optimizer_gives_the_backbone_a_lower_lr(coco_ckpt):
    path, _ = coco_ckpt
    cfg = tiny_cfg(path)
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lr = cfg.optim_wrapper.optimizer.lr
    ids = {id(p): n for n, p in model.named_parameters()}
    seen = 0
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            expected = lr * 0.1 if ids[id(p)].startswith('backbone.') else lr
            assert group['lr'] == pytest.approx(expected), ids[id(p)]
            seen += 1
    # frozen stages (stem + layer1) stay out of the optimizer
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert seen == len(trainable) < len(ids)
    assert 'backbone.conv1.weight' not in trainable


def _samples(n):
    """Top-down training samples for 64x48 crops with 16x12 target heatmaps."""
    codec = KEYPOINT_CODECS.build(dict(type='MSRAHeatmap', input_size=(48, 64),
                                       heatmap_size=(12, 16), sigma=2))
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(n):
        enc = codec.encode(rng.uniform(6, 42, (1, 5, 2)).astype(np.float32),
                           np.ones((1, 5), np.float32))
        sample = PoseDataSample()
        sample.gt_fields = PixelData(heatmaps=torch.from_numpy(enc['heatmaps']))
        sample.gt_instance_labels = InstanceData(
            keypoint_weights=torch.from_numpy(enc['keypoint_weights']))
        samples.append(sample)
    return samples


def test_frozen_stages_get_no_grad_and_bn_stays_eval(coco_ckpt):
    path, _ = coco_ckpt
    model = MODELS.build(tiny_cfg(path).model)
    model.init_weights()
    model.train()
    assert not model.backbone.bn1.training and not model.backbone.layer1[0].bn1.training
    assert model.backbone.stage2[0].branches[0][0].bn1.training
    losses = model.loss(torch.randn(2, 3, 64, 48), _samples(2))
    losses['loss_kpt'].backward()
    assert model.backbone.conv1.weight.grad is None
    assert model.backbone.layer1[0].conv2.weight.grad is None
    assert not model.backbone.layer1[0].conv2.weight.requires_grad
    assert model.backbone.transition1[0][0].weight.grad is not None
    assert model.head.final_layer.weight.grad is not None
    # norm_eval: every BatchNorm keeps its statistics
    model = MODELS.build(tiny_cfg(path, frozen_stages=-1, norm_eval=True).model)
    model.train()
    bns = [m for m in model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)
    before = model.backbone.stage2[0].branches[0][0].bn1.running_mean.clone()
    model(torch.randn(2, 3, 64, 48))
    assert torch.equal(model.backbone.stage2[0].branches[0][0].bn1.running_mean, before)


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    model = MODELS.build(tiny_cfg(tmp_path / 'nowhere' / 'best.pth').model)
    with pytest.raises(FileNotFoundError, match='nowhere/best.pth'):
        model.init_weights()
