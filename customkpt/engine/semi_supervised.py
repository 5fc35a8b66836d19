"""Semi-supervised training from a config switch (docs/semi_supervised.md).

A config turns it on with one top-level dict::

    semi_supervised = dict(
        videos=['videos/*.mp4'], clip_length=3,
        losses=dict(temporal=dict(weight=0.0002, dead_zone=8.0),
                    pca=dict(weight=0.01), shape=dict(weight=0.1)),
        ramp_epochs=10)

:func:`apply_semi_supervised` (called by
:func:`customkpt.engine.config.load_config` after the references are
resolved) turns it into the parts mmengine builds: the model's
``semi_supervised`` losses, the training loader's
``SemiSupervisedDataset`` (labelled dataset + ``VideoClipDataset``) with
``semi_supervised_collate``, and a :class:`SemiSupervisedHook`, which fits
the pose subspace on the labelled poses before training and ramps the
unsupervised losses in. A config without the switch is left untouched.
"""
from __future__ import annotations

import copy
from typing import Any

from mmengine.config import Config, ConfigDict
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from customkpt.core.boxes import boxes_from_points
from customkpt.core.pose_subspace import fit
from customkpt.errors import UserError
from customkpt.models.losses import PoseSubspaceLoss
from customkpt.registry import HOOKS

__all__ = ['apply_semi_supervised', 'SemiSupervisedHook', 'SemiSupervisedConfigError',
           'ramp_weight', 'SWITCH_KEYS']

#: The keys of ``semi_supervised`` and their defaults (``videos`` is required).
SWITCH_KEYS = dict(videos=None, clip_length=3, num_clips=100, frame_stride=1, boxes=None,
                   clips_per_sample=1.0, pipeline=None, seed=0,
                   cache_dir='work_dirs/.video_frames', losses=None, ramp_epochs=0,
                   beta=None, window=None)
#: Loss names with a default type; ``shape`` depends on the head.
LOSS_TYPES = dict(temporal='TemporalDifferenceLoss', pca='PoseSubspaceLoss',
                  shape=('HeatmapShapeLoss', 'SimCCShapeLoss'), flip='FlipConsistencyLoss',
                  augment='AugmentedPseudoLabelLoss')


class SemiSupervisedConfigError(UserError, ValueError):
    """A bad ``semi_supervised`` setting; the message names the key."""


def ramp_weight(epochs_done: float, ramp_epochs: float) -> float:
    """The unsupervised losses' factor: rising linearly from 0 to 1 over
    the first ``ramp_epochs`` epochs (fractional epochs count), then 1."""
    if ramp_epochs <= 0:
        return 1.0
    return float(min(max(epochs_done / ramp_epochs, 0.0), 1.0))


def _switch(cfg: Config) -> dict | None:
    semi = cfg.get('semi_supervised')
    if semi is None or semi is False:
        return None
    if not isinstance(semi, dict):
        raise SemiSupervisedConfigError(f'semi_supervised must be a dict (or None), got {semi!r}')
    unknown = sorted(set(semi) - set(SWITCH_KEYS))
    if unknown:
        raise SemiSupervisedConfigError(f'semi_supervised has unknown keys {unknown}; known: '
                                        f'{sorted(SWITCH_KEYS)}')
    out = {k: copy.deepcopy(semi.get(k, v)) for k, v in SWITCH_KEYS.items()}
    if not out['videos']:
        raise SemiSupervisedConfigError('semi_supervised.videos is empty: list the unlabelled '
                                        'videos (paths or glob patterns)')
    return out


def _loss_configs(losses: Any, head: dict) -> dict:
    """``semi_supervised.losses`` -> ``name -> loss config`` (``weight`` as
    ``loss_weight``; entries that are None or weigh 0 are left out)."""
    if not isinstance(losses, dict) or not losses:
        raise SemiSupervisedConfigError('semi_supervised.losses must name at least one loss, '
                                        'e.g. dict(temporal=dict(weight=0.01, dead_zone=4.0))')
    simcc = str(head.get('type', '')).split('.')[-1] == 'RTMCCHead'
    out = {}
    for name, entry in losses.items():
        if entry is None:
            continue
        if not isinstance(entry, dict):
            raise SemiSupervisedConfigError(f'semi_supervised.losses.{name} must be a dict, '
                                            f'got {entry!r}')
        entry = dict(entry)
        weight = float(entry.pop('weight', 1.0))
        if weight == 0:
            continue
        kind = LOSS_TYPES.get(name)
        if isinstance(kind, tuple):
            kind = kind[1] if simcc else kind[0]
        entry.setdefault('type', kind)
        if entry['type'] is None:
            raise SemiSupervisedConfigError(
                f'semi_supervised.losses.{name}: give its type (known names with a default '
                f'type: {sorted(LOSS_TYPES)})')
        out[name] = dict(entry, loss_weight=weight)
    if not out:
        raise SemiSupervisedConfigError('semi_supervised.losses: every loss is off (None or '
                                        'weight 0)')
    return out


def _clip_pipeline(cfg: Config, given: Any) -> list:
    if given is not None:
        return list(copy.deepcopy(given))
    pipeline = (((cfg.get('val_dataloader') or {}).get('dataset') or {}).get('pipeline'))
    if not pipeline:
        raise SemiSupervisedConfigError('semi_supervised.pipeline is not set and the config has '
                                        'no val_dataloader.dataset.pipeline to crop the clip '
                                        'frames with')
    return list(copy.deepcopy(pipeline))


def apply_semi_supervised(cfg: Config) -> Config:
    """Edit ``cfg`` in place (and return it) for ``semi_supervised``; see
    the module docstring. A config without the switch, or one already
    edited (its training dataset is a ``SemiSupervisedDataset``), is
    returned unchanged.

    Raises:
        SemiSupervisedConfigError: a bad ``semi_supervised`` entry (named).
    """
    semi = _switch(cfg)
    loader = cfg.get('train_dataloader')
    if semi is None:
        return cfg
    if not isinstance(loader, dict) or not isinstance(loader.get('dataset'), dict):
        raise SemiSupervisedConfigError('semi_supervised needs a train_dataloader with a dataset')
    if str(loader.dataset.get('type', '')).split('.')[-1] == 'SemiSupervisedDataset':
        return cfg
    collate = loader.get('collate_fn')
    if collate is not None and str(collate.get('type', '')).split('.')[-1] != 'pseudo_collate':
        raise SemiSupervisedConfigError(
            f'semi_supervised replaces train_dataloader.collate_fn, which is '
            f'{collate.get("type")!r}; remove it')
    model = cfg.get('model')
    if not isinstance(model, dict) or not isinstance(model.get('head'), dict):
        raise SemiSupervisedConfigError('semi_supervised needs a top-down model with a head')
    model.semi_supervised = ConfigDict(losses=_loss_configs(semi['losses'], model.head),
                                       beta=semi['beta'], window=semi['window'])
    clips = dict(type='VideoClipDataset', videos=semi['videos'],
                 clip_length=semi['clip_length'], num_clips=semi['num_clips'],
                 frame_stride=semi['frame_stride'], boxes=semi['boxes'],
                 pipeline=_clip_pipeline(cfg, semi['pipeline']), seed=semi['seed'],
                 cache_dir=semi['cache_dir'])
    loader.dataset = ConfigDict(type='SemiSupervisedDataset', dataset=loader.dataset,
                                clips=clips, clips_per_sample=semi['clips_per_sample'])
    loader.collate_fn = ConfigDict(type='customkpt.semi_supervised_collate')
    hooks = list(cfg.get('custom_hooks') or [])
    hooks.append(dict(type='SemiSupervisedHook', ramp_epochs=semi['ramp_epochs']))
    cfg.custom_hooks = hooks
    return cfg


def _losses_of(runner) -> Any:
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    losses = getattr(model, 'unlabelled', None)
    if losses is None:
        raise TypeError('SemiSupervisedHook needs a TopdownEstimator built with '
                        'semi_supervised=dict(losses=...) (the config switch sets it)')
    return losses


@HOOKS.register_module()
class SemiSupervisedHook(Hook):
    """Fit the pose subspace before training; ramp the unsupervised losses.

    Before training, every :class:`PoseSubspaceLoss` of the model gets the
    subspace of the labelled training poses
    (:func:`customkpt.core.pose_subspace.fit` with the loss's ``variance``,
    on its normalisation boxes). Before each iteration the unsupervised
    losses' factor is set to :func:`ramp_weight` of the epochs done so far
    and logged as ``unlabelled_weight``.

    Args:
        ramp_epochs: epochs over which the factor rises from 0 to 1.
    """

    priority = 'NORMAL'

    def __init__(self, ramp_epochs: float = 0) -> None:
        if ramp_epochs < 0:
            raise ValueError(f'SemiSupervisedHook: ramp_epochs must be >= 0, got {ramp_epochs}')
        self.ramp_epochs = float(ramp_epochs)

    def before_train(self, runner) -> None:
        losses = _losses_of(runner)
        subspace_losses = [m for m in losses.losses.values() if isinstance(m, PoseSubspaceLoss)]
        if not subspace_losses:
            return
        dataset = runner.train_dataloader.dataset
        if not hasattr(dataset, 'labelled_poses'):
            raise TypeError(f'PoseSubspaceLoss needs the labelled poses: the training dataset '
                            f'{type(dataset).__name__} is not a SemiSupervisedDataset')
        poses, visible, boxes = dataset.labelled_poses()
        for loss in subspace_losses:
            frame = boxes if loss.normalise == 'box' else boxes_from_points(
                poses, visible > 0, padding=0.0)
            subspace = fit(poses, frame, visible, variance=loss.variance)
            loss.set_subspace(subspace.mean, subspace.components)
            runner.logger.info(
                f'pose subspace: {len(subspace.components)} of {subspace.mean.size} '
                f'directions keep {loss.variance:.0%} of the variance of '
                f'{subspace.num_samples} complete labelled poses')

    def before_train_iter(self, runner, batch_idx: int, data_batch: Any = None) -> None:
        per_epoch = max(len(runner.train_dataloader), 1)
        weight = ramp_weight(runner.iter / per_epoch, self.ramp_epochs)
        _losses_of(runner).weight = weight
        runner.message_hub.update_scalar('train/unlabelled_weight', weight)
