"""The RTMPose recipe's weight EMA (mmengine's EMAHook with ExpMomentumEMA,
as configs/_base_/schedules/adamw_cosine.py sets it up): validation runs on
the averaged weights and checkpoints carry them."""
import math
from pathlib import Path

import pytest
import torch

from mmengine.hooks import Hook

from customkpt.checkpoint import safe_load
from customkpt.engine.config import load_config

from .runner_kit import Recorder, build_runner, loader

ROOT = Path(__file__).resolve().parents[2]


class _Watch(Hook):
    """Records the raw and the averaged weight after each training epoch and
    the model's weight after each validation."""
    priority = 'LOWEST'

    def __init__(self):
        self.raw, self.ema, self.post_val = [], [], []

    def after_train_epoch(self, runner):
        ema_hook = next(h for h in runner.hooks if type(h).__name__ == 'EMAHook')
        self.raw.append(float(runner.model.weight.detach()))
        self.ema.append(float(ema_hook.ema_model.module.weight.detach()))

    def after_val_epoch(self, runner, metrics=None):
        self.post_val.append(float(runner.model.weight.detach()))


def _ema_hook(momentum=0.5):
    cfg = load_config(str(ROOT / 'configs/_base_/schedules/adamw_cosine.py'),
                      dict(ema_momentum=momentum))
    hook = dict(cfg.ema_hook)
    assert hook['type'] == 'EMAHook' and hook['ema_type'] == 'ExpMomentumEMA'
    return dict(hook, gamma=1)   # gamma 1: the momentum is `momentum` from the first steps


def test_the_base_sets_the_published_momentum():
    cfg = load_config(str(ROOT / 'configs/_base_/schedules/adamw_cosine.py'))
    assert cfg.ema_hook.momentum == 2e-4 and cfg.ema_hook.update_buffers is True


def test_validation_uses_the_averaged_weights_and_checkpoints_keep_them(tmp_path):
    model, watch = Recorder(), _Watch()
    runner = build_runner(tmp_path, model, loader([dict(type='TestStageTag', stage=1)]), 3,
                          [_ema_hook(), watch], val=True)
    runner.train()
    # The raw weight runs ahead towards 1; the average lags behind it.
    assert all(abs(r - e) > 1e-3 for r, e in zip(watch.raw, watch.ema))
    assert model.val_weights[::2] == model.val_weights[1::2]    # 2 val batches an epoch
    assert model.val_weights[::2] == watch.ema
    assert watch.post_val == watch.raw                         # swapped back after it
    ckpt = safe_load(str(tmp_path / 'epoch_3.pth'))
    assert set(ckpt['ema_state_dict']) >= {'module.weight', 'steps'}
    # The checkpoint's model weights are the averaged ones (for deployment);
    # the raw ones go to ema_state_dict, for resuming.
    assert float(ckpt['state_dict']['weight']) == watch.ema[-1]
    assert float(ckpt['ema_state_dict']['module.weight']) == watch.raw[-1]


def test_exp_momentum_ema_builds_from_a_config_dict_and_decays_its_momentum():
    from customkpt.registry import MODELS
    net = torch.nn.Linear(1, 1, bias=False)
    ema = MODELS.build(dict(type='ExpMomentumEMA', model=net, momentum=0.1, gamma=10))
    assert abs(ema.momentum_at(0) - (0.9 * math.exp(-0.1) + 0.1)) < 1e-12
    assert ema.momentum_at(10_000) == pytest.approx(0.1)
    with torch.no_grad():
        net.weight.fill_(1.0)
    ema.update_parameters(net)          # the first update copies the weights
    with torch.no_grad():
        net.weight.fill_(3.0)
    ema.update_parameters(net)          # the second one is update number 1
    expected = 1.0 + 2.0 * ema.momentum_at(1)
    assert float(ema.module.weight) == pytest.approx(expected)
    with pytest.raises(ValueError, match='gamma'):
        MODELS.build(dict(type='ExpMomentumEMA', model=net, gamma=0))
