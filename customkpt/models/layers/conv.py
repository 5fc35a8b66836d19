"""Convolution + normalisation + activation units.

The sub-module names (``conv``, ``bn``; ``depthwise_conv``,
``pointwise_conv``) are part of the checkpoint layout: the CSPNeXt state
dict keys ``...conv.weight`` / ``...bn.running_mean`` come from them.
"""
from __future__ import annotations

from typing import Mapping

import torch
import torch.nn as nn

__all__ = ['ConvBNAct', 'DepthwiseSeparableConv', 'build_activation', 'build_norm',
           'freeze_batchnorms']

_ACTIVATIONS = {
    'SiLU': nn.SiLU, 'Swish': nn.SiLU, 'ReLU': nn.ReLU, 'ReLU6': nn.ReLU6,
    'LeakyReLU': nn.LeakyReLU, 'Hardswish': nn.Hardswish, 'GELU': nn.GELU,
}
_NORMS = {'BN': nn.BatchNorm2d, 'BN2d': nn.BatchNorm2d, 'SyncBN': nn.SyncBatchNorm}


def build_activation(cfg: Mapping | None) -> nn.Module:
    """An activation from ``dict(type='SiLU' | 'ReLU' | ..., **kwargs)``;
    ``None`` gives the identity.

    Raises:
        ValueError: an unknown ``type`` (the message lists the known ones).
    """
    if cfg is None:
        return nn.Identity()
    kwargs = dict(cfg)
    name = kwargs.pop('type')
    if name not in _ACTIVATIONS:
        raise ValueError(f'unknown activation {name!r}; known: {sorted(_ACTIVATIONS)}')
    if name in ('SiLU', 'Swish', 'ReLU', 'ReLU6', 'LeakyReLU', 'Hardswish'):
        kwargs.setdefault('inplace', True)
    return _ACTIVATIONS[name](**kwargs)


def build_norm(cfg: Mapping, channels: int) -> nn.Module:
    """A 2-D normalisation layer from ``dict(type='BN' | 'SyncBN',
    momentum=..., eps=...)`` (``requires_grad`` is accepted and applied).

    Raises:
        ValueError: an unknown ``type``.
    """
    kwargs = dict(cfg)
    name = kwargs.pop('type')
    requires_grad = kwargs.pop('requires_grad', True)
    if name not in _NORMS:
        raise ValueError(f'unknown norm {name!r}; known: {sorted(_NORMS)}')
    layer = _NORMS[name](channels, **kwargs)
    for param in layer.parameters():
        param.requires_grad = requires_grad
    return layer


def freeze_batchnorms(module: nn.Module) -> None:
    """Put every BatchNorm inside ``module`` in eval mode (running
    statistics fixed; its affine parameters stay trainable)."""
    for child in module.modules():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            child.eval()


class ConvBNAct(nn.Module):
    """``conv`` (no bias) -> ``bn`` -> activation.

    Args:
        in_channels, out_channels: channels.
        kernel_size: square kernel; padding ``kernel_size // 2`` unless given.
        stride: stride.
        padding: explicit padding.
        groups: convolution groups (``in_channels`` for a depthwise conv).
        norm_cfg: ``dict(type='BN', ...)``.
        act_cfg: ``dict(type='SiLU')``, or None for no activation.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int | None = None, groups: int = 1,
                 norm_cfg: Mapping | None = None, act_cfg: Mapping | None = None) -> None:
        super().__init__()
        if padding is None:
            padding = kernel_size // 2
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                              groups=groups, bias=False)
        self.bn = build_norm(norm_cfg or dict(type='BN'), out_channels)
        self.activate = build_activation(act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activate(self.bn(self.conv(x)))


class DepthwiseSeparableConv(nn.Module):
    """``depthwise_conv`` (k x k, one filter per channel) then
    ``pointwise_conv`` (1 x 1), each a :class:`ConvBNAct`."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, norm_cfg: Mapping | None = None,
                 act_cfg: Mapping | None = None) -> None:
        super().__init__()
        self.depthwise_conv = ConvBNAct(in_channels, in_channels, kernel_size, stride,
                                        groups=in_channels, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.pointwise_conv = ConvBNAct(in_channels, out_channels, 1, norm_cfg=norm_cfg,
                                        act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise_conv(self.depthwise_conv(x))
