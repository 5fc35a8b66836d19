"""The semi_supervised config switch, the ramp, SemiSupervisedHook, and a
short semi-supervised training run on the demo data."""
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from customkpt.core.boxes import boxes_from_points
from customkpt.core.pose_subspace import fit
from customkpt.demo import make_self5_dataset
from customkpt.engine.config import load_config, load_run_config
from customkpt.engine.semi_supervised import (SemiSupervisedConfigError, SemiSupervisedHook,
                                              apply_semi_supervised, ramp_weight)
from customkpt.models.losses import PoseSubspaceLoss, TemporalDifferenceLoss
from customkpt.models.semi_supervised import UnlabelledLosses

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
SWITCH = """
semi_supervised = dict(videos=['clips/*.mp4'], clip_length=3, num_clips=7,
                       losses=dict(temporal=dict(weight=0.01, dead_zone=4.0),
                                   pca=dict(weight=0.5, variance=0.95), shape=dict(weight=2.0)),
                       ramp_epochs=3)
"""


def _config(tmp_path, base='hrnet_self5_cpu.py', text=SWITCH, name='semi.py'):
    path = tmp_path / name
    path.write_text(f"_base_ = ['{CONFIGS / base}']\n{text}")
    return path


def test_the_ramp_rises_linearly_then_stays_at_one():
    assert [ramp_weight(e, 4) for e in (0, 1, 2.5, 4, 9)] == [0.0, 0.25, 0.625, 1.0, 1.0]
    assert ramp_weight(0, 0) == 1.0


def test_the_switch_edits_model_loader_and_hooks(tmp_path):
    plain = load_config(CONFIGS / 'hrnet_self5_cpu.py')
    cfg = load_run_config(str(_config(tmp_path)))          # also checks the conventions
    assert cfg.model.semi_supervised.losses == dict(
        temporal=dict(type='TemporalDifferenceLoss', dead_zone=4.0, loss_weight=0.01),
        pca=dict(type='PoseSubspaceLoss', variance=0.95, loss_weight=0.5),
        shape=dict(type='HeatmapShapeLoss', loss_weight=2.0))
    dataset = cfg.train_dataloader.dataset
    assert dataset.type == 'SemiSupervisedDataset' and dataset.clips_per_sample == 1.0
    assert dataset.dataset == plain.train_dataloader.dataset   # the labelled set as it was
    clips = dataset.clips
    assert (clips.type, clips.videos, clips.clip_length, clips.num_clips) == (
        'VideoClipDataset', ['clips/*.mp4'], 3, 7)
    assert clips.pipeline == plain.val_dataloader.dataset.pipeline   # the test-time crop
    assert cfg.train_dataloader.collate_fn == dict(type='customkpt.semi_supervised_collate')
    assert cfg.custom_hooks == plain.custom_hooks + [
        dict(type='SemiSupervisedHook', ramp_epochs=3)]
    for key in ('val_dataloader', 'test_dataloader', 'optim_wrapper', 'param_scheduler'):
        assert cfg[key] == plain[key]
    before = cfg.to_dict()
    assert apply_semi_supervised(cfg).to_dict() == before    # applying twice changes nothing


def test_without_the_switch_a_config_is_unchanged(tmp_path):
    plain = load_config(CONFIGS / 'hrnet_self5_cpu.py').to_dict()
    off = load_config(str(_config(tmp_path, text='semi_supervised = None\n'))).to_dict()
    off.pop('semi_supervised')
    assert off == plain


def test_a_simcc_head_gets_the_simcc_shape_loss(tmp_path):
    cfg = load_run_config(str(_config(tmp_path, 'rtmpose_t_self5_cpu.py')))
    assert cfg.model.semi_supervised.losses.shape.type == 'SimCCShapeLoss'


@pytest.mark.parametrize('base', ['hrnet_self5_cpu.py', 'rtmpose_t_self5_cpu.py'])
def test_the_flip_name_turns_on_flip_consistency(tmp_path, base):
    text = SWITCH.replace('shape=dict(weight=2.0)', 'flip=dict(weight=0.5)')
    cfg = load_run_config(str(_config(tmp_path, base, text=text)))
    assert cfg.model.semi_supervised.losses.flip == dict(type='FlipConsistencyLoss',
                                                         loss_weight=0.5)


@pytest.mark.parametrize('text, match', [
    ("semi_supervised = dict(videos=['a.mp4'], losses=dict(temporal={}), clip=3)\n",
     'unknown keys'),
    ('semi_supervised = dict(videos=[], losses=dict(temporal={}))\n', 'videos is empty'),
    ("semi_supervised = dict(videos=['a.mp4'], losses=dict(mine=dict(weight=1)))\n",
     'losses.mine: give its type'),
    ("semi_supervised = dict(videos=['a.mp4'], losses=dict(temporal=dict(weight=0)))\n",
     'every loss is off'),
    ("semi_supervised = dict(videos=['a.mp4'], losses=dict(temporal={}))\n"
     "train_dataloader = dict(collate_fn=dict(type='default_collate'))\n", 'collate_fn'),
])
def test_bad_switches_say_which_key(tmp_path, text, match):
    with pytest.raises(SemiSupervisedConfigError, match=match):
        load_config(str(_config(tmp_path, text=text)))


# ---------------------------------------------------------------- the hook
class _Labelled:
    def __init__(self, poses):
        self.poses = poses

    def labelled_poses(self):
        visible = np.ones(self.poses.shape[:2], np.float32)
        return self.poses, visible, boxes_from_points(self.poses, visible > 0, 0.5)


def _runner(losses, poses, iters_per_epoch=4):
    model = SimpleNamespace(unlabelled=losses)
    logged = {}
    hub = SimpleNamespace(update_scalar=lambda key, value: logged.__setitem__(key, value))
    return SimpleNamespace(model=model, train_dataloader=_LenLoader(_Labelled(poses),
                                                                    iters_per_epoch),
                           iter=0, message_hub=hub, logger=SimpleNamespace(info=print),
                           logged=logged)


class _LenLoader:
    def __init__(self, dataset, length):
        self.dataset, self.length = dataset, length

    def __len__(self):
        return self.length


def test_the_hook_fits_the_subspace_on_the_poses_own_boxes_and_ramps():
    rng = np.random.default_rng(0)
    poses = (rng.normal(size=(30, 3, 2)) * 20 + 100).astype(np.float32)
    losses = UnlabelledLosses(dict(pca=dict(type='PoseSubspaceLoss', variance=0.9),
                                   temporal=dict(type='TemporalDifferenceLoss')))
    runner = _runner(losses, poses)
    hook = SemiSupervisedHook(ramp_epochs=2)
    hook.before_train(runner)
    want = fit(poses, boxes_from_points(poses, np.ones((30, 3), bool), 0.0),
               np.ones((30, 3)), variance=0.9)
    pca = losses.losses['pca']
    np.testing.assert_allclose(pca.components.numpy(), want.components, atol=1e-6)
    np.testing.assert_allclose(pca.mean.numpy(), want.mean, atol=1e-6)
    weights = []
    for it in (0, 2, 4, 8, 12):
        runner.iter = it
        hook.before_train_iter(runner, it)
        weights.append(losses.weight)
    assert weights == [0.0, 0.25, 0.5, 1.0, 1.0]
    assert runner.logged['train/unlabelled_weight'] == 1.0


def test_the_hook_needs_a_model_with_unlabelled_losses():
    runner = _runner(None, np.zeros((2, 3, 2), np.float32))
    with pytest.raises(TypeError, match='semi_supervised'):
        SemiSupervisedHook().before_train(runner)


# ---------------------------------------------------------------- training
TRAIN = """
data_root = '{root}/'
train_size = (48, 64)
batch_size = 4
max_epochs = 1
val_interval = 100
warmup_iters = 2
train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = val_cfg = val_evaluator = None        # training only
test_dataloader = test_cfg = test_evaluator = None
default_hooks = dict(logger=dict(interval=1), checkpoint=None)
semi_supervised = dict(videos=['${{data_root}}video/*.mp4'], num_clips=3, clips_per_sample=0.5,
                       cache_dir='{cache}', pipeline='${{val_pipeline}}',
                       losses=dict(temporal=dict(weight=0.01, dead_zone=2.0),
                                   pca=dict(weight=0.1), shape=dict(weight=1.0)))
"""


def test_two_iterations_of_semi_supervised_training(tmp_path):
    torch.set_num_threads(1)
    root = make_self5_dataset(tmp_path / 'self5', num_train=2, num_val=1, video_frames=12,
                              progress=False)
    text = TRAIN.format(root=root, cache=tmp_path / 'cache')
    cfg = load_run_config(str(_config(tmp_path, text=text)), work_dir=str(tmp_path / 'work'))
    runner = Runner.from_cfg(cfg)
    assert len(runner.train_dataloader) == 2               # 8 figures in batches of 4
    seen = []
    original = runner.model.unlabelled.loss

    def spy(model, inputs, samples):
        seen.append(sum(bool(s.metainfo.get('unlabelled')) for s in samples))
        return original(model, inputs, samples)

    runner.model.unlabelled.loss = spy
    runner.train()
    assert seen and all(n % 3 == 0 for n in seen) and sum(seen) > 0
    hub = runner.message_hub
    for key in ('loss_kpt', 'loss_temporal', 'loss_pca', 'loss_shape'):
        value = hub.get_scalar(f'train/{key}').current()
        assert math.isfinite(value), key
    assert runner.model.unlabelled.losses['pca'].fitted
    assert isinstance(runner.model.unlabelled.losses['temporal'], TemporalDifferenceLoss)
    assert isinstance(runner.model.unlabelled.losses['pca'], PoseSubspaceLoss)


@pytest.mark.parametrize('base, size', [('hrnet_self5_cpu.py', (48, 64)),
                                        ('rtmpose_t_self5_cpu.py', (64, 64))])
def test_the_augment_loss_trains_heatmap_and_simcc_models(tmp_path, base, size):
    """Its transformed crops go through the model beside the others, for
    either head type; every logged loss stays finite."""
    torch.set_num_threads(1)
    root = make_self5_dataset(tmp_path / 'self5', num_train=2, num_val=1, video_frames=12,
                              progress=False)
    text = TRAIN.format(root=root, cache=tmp_path / 'cache').replace(
        'train_size = (48, 64)', f'train_size = {size}').replace(
        'pca=dict(weight=0.1), shape=dict(weight=1.0)',
        'augment=dict(weight=1.0, score_thr=0.0)') + 'stage2_num_epochs = 0\n'  # RTMPose's
    cfg = load_run_config(str(_config(tmp_path, base, text=text)), work_dir=str(tmp_path / 'w'))
    runner = Runner.from_cfg(cfg)
    crops = []
    augment = runner.model.unlabelled.losses['augment']
    original = augment.make_view

    def spy(inputs):
        crops.append(inputs.shape[0])
        return original(inputs)

    augment.make_view = spy
    runner.train()
    assert crops and all(n % 3 == 0 for n in crops) and sum(crops) > 0
    for key in ('loss_kpt', 'loss_temporal', 'loss_augment'):
        assert math.isfinite(runner.message_hub.get_scalar(f'train/{key}').current()), key
