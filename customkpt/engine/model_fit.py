"""Does a model fit the checkpoint it loads and the data it meets?

A checkpoint whose head was trained for another number of keypoints loads
into a model only partly: mmengine skips the tensors of the wrong shape, so
evaluation, fine-tuning (``load_from``) and export would run with a random
head. :func:`check_checkpoint_fits` refuses that, naming both numbers;
starting from a checkpoint with another keypoint definition is what
name-based transfer (``model.pretrained=dict(checkpoint=..., keypoint_map=...)``,
:func:`customkpt.models.pretrained.load_pretrained`) is for.
:func:`check_dataset_fits` compares the head with a dataset's definition.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from customkpt.registry import MODELS

__all__ = ['KeypointCountError', 'build_bare_model', 'weights_of', 'num_model_keypoints',
           'check_checkpoint_fits', 'check_checkpoint_fits_config', 'check_dataset_fits']

_TRANSFER_HINT = ('to start from a checkpoint of another keypoint definition, transfer the '
                  'head by keypoint name: model.pretrained=dict(checkpoint=..., keypoint_map=...)')


class KeypointCountError(ValueError):
    """A checkpoint's or a dataset's keypoint count differs from the model's."""


def build_bare_model(cfg: Config) -> torch.nn.Module:
    """The config's model, built in customkpt's scope without any pretrained
    weights (no ``pretrained``, no ``init_cfg``: nothing is downloaded)."""
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.pop('pretrained', None)
    model_cfg['init_cfg'] = None
    if hasattr(model_cfg.get('backbone'), 'get'):
        model_cfg['backbone'].pop('init_cfg', None)
    with DefaultScope.overwrite_default_scope('customkpt'):
        return MODELS.build(model_cfg)


def weights_of(ckpt: Any) -> dict[str, torch.Tensor]:
    """The tensors of a loaded checkpoint object by name (its ``state_dict``
    entry, else the object itself; a DDP ``module.`` prefix removed)."""
    raw = ckpt.get('state_dict', ckpt) if isinstance(ckpt, Mapping) else {}
    return {(k[len('module.'):] if k.startswith('module.') else k): v
            for k, v in raw.items() if isinstance(v, torch.Tensor)}


def num_model_keypoints(model: torch.nn.Module) -> int | None:
    """K of a model: its head's ``out_channels`` (``None`` when unknown)."""
    model = getattr(model, 'module', model)
    k = getattr(getattr(model, 'head', None), 'out_channels', None)
    return k if isinstance(k, int) else None


def _head_mismatch(model: torch.nn.Module,
                   weights: Mapping[str, torch.Tensor]) -> tuple[str, tuple, tuple] | None:
    """The first head tensor whose shape differs: (name, checkpoint shape, model shape)."""
    own = getattr(model, 'module', model).state_dict()
    for name, value in weights.items():
        if name.startswith('head.') and name in own and own[name].shape != value.shape:
            return name, tuple(value.shape), tuple(own[name].shape)
    return None


def check_checkpoint_fits(model: torch.nn.Module, weights: Mapping[str, torch.Tensor],
                          source: str, meta: Mapping | None = None) -> None:
    """Refuse a checkpoint whose head was made for another keypoint count.

    Args:
        model: the model the weights are (to be) loaded into.
        weights: the checkpoint's tensors by name (see :func:`weights_of`).
        source: how the message names the checkpoint.
        meta: the checkpoint's ``dataset_meta`` (its ``keypoint_names``
            count is named when it differs from the model's).

    Raises:
        KeypointCountError: naming the checkpoint's and the model's K.
    """
    k_model = num_model_keypoints(model)
    names = (meta or {}).get('keypoint_names') or []
    mismatch = _head_mismatch(model, weights)
    if mismatch is None:
        if names and k_model is not None and len(names) != k_model:
            raise KeypointCountError(
                f'checkpoint {source} names {len(names)} keypoints but the model has '
                f'{k_model} (model.head.out_channels); {_TRANSFER_HINT}')
        return
    name, ckpt_shape, model_shape = mismatch
    if k_model is not None and model_shape[0] == k_model and ckpt_shape[0] != k_model:
        what = (f'its head is for {ckpt_shape[0]} keypoints but the model has {k_model} '
                '(model.head.out_channels)')
    else:
        what = f'its head does not fit the model ({name}: {ckpt_shape} vs {model_shape})'
    raise KeypointCountError(f'checkpoint {source}: {what}; {_TRANSFER_HINT}')


def check_checkpoint_fits_config(cfg: Config, checkpoint: str, resume: bool = False) -> None:
    """Read ``checkpoint`` (``weights_only`` rules) and check that it fits the
    config's model, before a Runner is built: a missing, unreadable or
    unsafe file, a head for another keypoint count and, with ``resume``, a
    file without training progress each fail here with their own error."""
    from customkpt.errors import UserError
    from customkpt.models.pretrained import read_checkpoint
    weights, meta = read_checkpoint(checkpoint)
    check_checkpoint_fits(build_bare_model(cfg), weights, str(checkpoint),
                          meta.get('dataset_meta'))
    if resume and not ('epoch' in meta and 'iter' in meta):
        raise UserError(f'cannot resume from {checkpoint}: it holds weights but no training '
                        "progress (meta has no 'epoch' / 'iter'); start from its weights with "
                        f'load_from={checkpoint!r} (no --resume) instead')


def check_dataset_fits(model: torch.nn.Module, dataset_meta: Mapping | None,
                       stage: str) -> None:
    """Refuse a model whose head predicts another number of keypoints than
    the ``stage`` dataset defines.

    Raises:
        KeypointCountError: naming both numbers.
    """
    k_model = num_model_keypoints(model)
    meta = dataset_meta or {}
    k_data = meta.get('num_keypoints') or len(meta.get('keypoint_names') or []) or None
    if k_model is not None and k_data is not None and k_model != k_data:
        raise KeypointCountError(
            f'the model predicts {k_model} keypoints (model.head.out_channels={k_model}) but '
            f'the {stage} dataset defines {k_data}: set model.head.out_channels to {k_data} '
            '(or the num_joints knob)')
