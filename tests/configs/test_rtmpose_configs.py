"""The RTMPose configs: each builds its model, the sizes match the published
ones, both pipelines run and make SimCC targets, and the convention check
knows SimCC codecs and the switched pipeline."""
import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose

from customkpt.engine.config import ConfigConventionError, check_conventions, load_config
from customkpt.registry import HOOKS, MODELS


ROOT = Path(__file__).resolve().parents[2] / 'configs'
READY = ['rtmpose_t_self5.py', 'rtmpose_s_self5.py', 'rtmpose_m_self5.py',
         'rtmpose_t_self5_cpu.py', 'rtmpose_s_openfield_mouse.py',
         'rtmpose_m_openfield_mouse.py', 'rtmpose_m_coco_256x192.py']
# The published (deepen_factor, widen_factor) of each size.
PUBLISHED = dict(t=(0.167, 0.375), s=(0.33, 0.5), m=(0.67, 0.75), l=(1.0, 1.0))


def test_every_rtmpose_config_is_covered():
    assert sorted(p.name for p in ROOT.glob('rtmpose_*.py')) == sorted(READY)


@pytest.mark.parametrize('name', READY)
def test_each_ready_config_builds_its_model_and_passes_the_checks(name):
    cfg = load_config(str(ROOT / name))
    check_conventions(cfg)
    model = MODELS.build(cfg.model)
    backbone = cfg.model.backbone
    assert (backbone.deepen_factor, backbone.widen_factor) == PUBLISHED[cfg.rtmpose_size]
    assert model.head.decoder.to_dict()['type'] == 'SimCCLabel'
    hooks = [HOOKS.build(copy.deepcopy(h)) for h in cfg.custom_hooks]
    kinds = [type(h).__name__ for h in hooks]
    assert 'EMAHook' in kinds and 'PipelineSwitchHook' in kinds
    switch = hooks[kinds.index('PipelineSwitchHook')]
    assert switch.switch_epoch == cfg.max_epochs - cfg.stage2_num_epochs > 0


def test_rtmpose_m_at_17_points_has_the_published_size():
    cfg = load_config(str(ROOT / 'rtmpose_m_coco_256x192.py'))
    model = MODELS.build(cfg.model)
    params = sum(p.numel() for p in model.parameters())
    assert abs(params / 1e6 - 13.6) < 0.2          # 13.6 M published
    assert cfg.lr == 4e-3 and cfg.auto_scale_lr.base_batch_size == 1024
    assert cfg.max_epochs == 420 and cfg.custom_hooks[-1]['switch_epoch'] == 390


@pytest.mark.parametrize('size', sorted(PUBLISHED))
def test_the_head_takes_the_backbone_output_of_each_size(size):
    cfg = load_config(str(ROOT / 'rtmpose_t_self5_cpu.py'), dict(rtmpose_size=size))
    assert (cfg.model.backbone.deepen_factor, cfg.model.backbone.widen_factor) == PUBLISHED[size]
    assert cfg.model.head.in_channels == int(1024 * PUBLISHED[size][1])
    model = MODELS.build(cfg.model).eval()
    w, h = cfg.train_size
    with torch.no_grad():
        feats = model.extract_feat(torch.zeros(1, 3, h, w))
        simcc_x, simcc_y = model(torch.zeros(2, 3, h, w), mode='tensor')
    assert feats[-1].shape[1:] == (cfg.model.head.in_channels, h // 32, w // 32)
    assert simcc_x.shape == (2, 5, 2 * w) and simcc_y.shape == (2, 5, 2 * h)


def _sample():
    """A self5-like sample as the dataset and LoadImage make it."""
    img = np.random.default_rng(0).integers(0, 256, (160, 128, 3), dtype=np.uint8)
    kpts = np.array([[[60, 30], [40, 70], [85, 65], [50, 120], [75, 125]]], np.float32)
    return dict(img=img, img_shape=(160, 128), ori_shape=(160, 128),
                bbox=np.array([[30, 20, 95, 135]], np.float32), bbox_score=np.ones(1, np.float32),
                keypoints=kpts, keypoints_visible=np.ones((1, 5), np.float32),
                flip_indices=[0, 2, 1, 4, 3], img_id=1, id=7, img_path='x.png', category_id=1)


@pytest.mark.parametrize('key', ['train_pipeline', 'train_pipeline_stage2'])
def test_both_training_pipelines_make_simcc_targets(key):
    cfg = load_config(str(ROOT / 'rtmpose_t_self5_cpu.py'))
    pipeline = Compose(copy.deepcopy(cfg[key][1:]))      # the sample comes with its image
    np.random.seed(0)
    out = pipeline(_sample())
    labels = out['data_samples'].gt_instance_labels
    assert out['inputs'].shape == (3, 128, 96)
    assert tuple(labels.keypoint_x_labels.shape) == (1, 5, 192)
    assert tuple(labels.keypoint_y_labels.shape) == (1, 5, 256)


def test_the_stages_differ_as_the_recipe_says():
    cfg = load_config(str(ROOT / 'rtmpose_m_coco_256x192.py'))
    one = {s['type']: s for s in cfg.train_pipeline}
    two = {s['type']: s for s in cfg.train_pipeline_stage2}
    assert one['RandomBBoxTransform']['scale_factor'] == (0.6, 1.4)
    assert one['RandomBBoxTransform']['rotate_factor'] == 80.0
    assert two['RandomBBoxTransform']['shift_factor'] == 0.0
    assert two['RandomBBoxTransform']['scale_factor'] == (0.75, 1.25)
    assert two['RandomBBoxTransform']['rotate_factor'] == 60.0
    assert one['CoarseDropout']['prob'] == 1.0 and two['CoarseDropout']['prob'] == 0.5
    assert one['CoarseDropout']['hole_size'] == (0.2, 0.4)
    assert one['Blur']['prob'] == one['MedianBlur']['prob'] == 0.1


def _cpu_cfg():
    return load_config(str(ROOT / 'rtmpose_t_self5_cpu.py'))


def test_the_check_refuses_a_heatmap_target_under_a_simcc_decoder():
    cfg = _cpu_cfg()
    step = next(s for s in cfg.train_dataloader.dataset.pipeline if s['type'] == 'GenerateTarget')
    step['encoder'] = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32))
    with pytest.raises(ConfigConventionError, match='SimCCLabel.*MSRAHeatmap'):
        check_conventions(cfg)


def test_the_check_refuses_other_simcc_bins():
    cfg = _cpu_cfg()
    step = next(s for s in cfg.train_dataloader.dataset.pipeline if s['type'] == 'GenerateTarget')
    step['encoder'] = dict(step['encoder'], simcc_split_ratio=3.0)
    with pytest.raises(ConfigConventionError, match='simcc_split_ratio'):
        check_conventions(cfg)


def test_the_check_reads_the_switched_pipeline():
    cfg = _cpu_cfg()
    hook = next(h for h in cfg.custom_hooks if h['type'] == 'PipelineSwitchHook')
    step = next(s for s in hook['switch_pipeline'] if s['type'] == 'TopdownAffine')
    step['input_size'] = (192, 256)
    with pytest.raises(ConfigConventionError, match=r'custom_hooks\[\d\]\.switch_pipeline'):
        check_conventions(cfg)
