"""CSPNeXt: the real-time backbone of RTMPose-style models.

A stem of three 3x3 convolutions (the first with stride 2), then four (P5)
or five (P6) stages, each a stride-2 3x3 convolution followed by a
cross-stage-partial layer (:class:`CSPLayer`) of CSPNeXt blocks; the last
stage has a spatial-pyramid-pooling layer (:class:`SPPBottleneck`) before
its CSP layer. Output strides: stem 2, stages 4, 8, 16, 32 (and 64 for P6).

Model sizes (deepen_factor, widen_factor), see :data:`SIZES`:
t (0.167, 0.375), s (0.33, 0.5), m (0.67, 0.75), l (1.0, 1.0); the P5 output
has ``int(1024 * widen_factor)`` channels (768 for m).

Module names follow the published RTMPose checkpoints: ``stem.{0,1,2}``,
``stage{i}.0`` (the downsampling conv), ``stage4.1`` (the pyramid pooling,
``conv1``/``conv2``), ``stage{i}.{1|2}`` (the CSP layer: ``main_conv``,
``short_conv``, ``final_conv``, ``blocks.{j}.conv1``,
``blocks.{j}.conv2.{depthwise_conv,pointwise_conv}``, ``attention.fc``).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from customkpt.registry import MODELS

from ..layers import ConvBNAct, DepthwiseSeparableConv, freeze_batchnorms

__all__ = ['ARCHS', 'SIZES', 'CSPNeXt', 'CSPLayer', 'CSPNeXtBlock', 'ChannelAttention',
           'SPPBottleneck']

#: Stage settings per arch: (in_channels, out_channels, num_blocks,
#: add_identity, use_spp) before widening/deepening.
ARCHS = {
    'P5': [(64, 128, 3, True, False), (128, 256, 6, True, False),
           (256, 512, 6, True, False), (512, 1024, 3, False, True)],
    'P6': [(64, 128, 3, True, False), (128, 256, 6, True, False),
           (256, 512, 6, True, False), (512, 768, 3, True, False),
           (768, 1024, 3, False, True)],
}

#: Model size -> (deepen_factor, widen_factor).
SIZES = {'t': (0.167, 0.375), 's': (0.33, 0.5), 'm': (0.67, 0.75), 'l': (1.0, 1.0)}


class ChannelAttention(nn.Module):
    """Squeeze-and-excite without reduction: global average pool, a 1x1
    conv ``fc`` (with bias), hard sigmoid, times the input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc = nn.Conv2d(channels, channels, 1, bias=True)
        self.act = nn.Hardsigmoid(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.act(self.fc(x.float().mean(dim=(2, 3), keepdim=True).to(x.dtype)))
        return x * weight


class CSPNeXtBlock(nn.Module):
    """3x3 conv then a 5x5 depthwise-separable conv, with an identity
    shortcut when ``add_identity`` and the channels agree."""

    def __init__(self, in_channels: int, out_channels: int, expansion: float = 0.5,
                 add_identity: bool = True, kernel_size: int = 5,
                 norm_cfg: dict | None = None, act_cfg: dict | None = None) -> None:
        super().__init__()
        hidden = int(out_channels * expansion)
        self.conv1 = ConvBNAct(in_channels, hidden, 3, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv2 = DepthwiseSeparableConv(hidden, out_channels, kernel_size,
                                            norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.add_identity = add_identity and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.conv1(x))
        return out + x if self.add_identity else out


class CSPLayer(nn.Module):
    """Cross-stage partial layer: a 1x1 ``main_conv`` branch through the
    blocks and a 1x1 ``short_conv`` branch, concatenated, optionally
    re-weighted by :class:`ChannelAttention`, fused by a 1x1 ``final_conv``.

    Args:
        in_channels, out_channels: channels.
        expand_ratio: branch width = ``int(out_channels * expand_ratio)``.
        num_blocks: CSPNeXt blocks in the main branch.
        add_identity: residual shortcuts inside the blocks.
        channel_attention: add ``attention`` before ``final_conv``.
        norm_cfg, act_cfg: see :class:`ConvBNAct`.
    """

    def __init__(self, in_channels: int, out_channels: int, expand_ratio: float = 0.5,
                 num_blocks: int = 1, add_identity: bool = True,
                 channel_attention: bool = False, norm_cfg: dict | None = None,
                 act_cfg: dict | None = None) -> None:
        super().__init__()
        mid = int(out_channels * expand_ratio)
        self.main_conv = ConvBNAct(in_channels, mid, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.short_conv = ConvBNAct(in_channels, mid, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.final_conv = ConvBNAct(2 * mid, out_channels, 1, norm_cfg=norm_cfg,
                                    act_cfg=act_cfg)
        self.blocks = nn.Sequential(*[
            CSPNeXtBlock(mid, mid, 1.0, add_identity, norm_cfg=norm_cfg, act_cfg=act_cfg)
            for _ in range(num_blocks)])
        self.attention = ChannelAttention(2 * mid) if channel_attention else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat((self.blocks(self.main_conv(x)), self.short_conv(x)), dim=1)
        if self.attention is not None:
            out = self.attention(out)
        return self.final_conv(out)


class SPPBottleneck(nn.Module):
    """Spatial pyramid pooling: 1x1 ``conv1`` to half the channels, max
    pools of each kernel size (stride 1, same size) concatenated with their
    input, 1x1 ``conv2`` to ``out_channels``."""

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_sizes: Sequence[int] = (5, 9, 13), norm_cfg: dict | None = None,
                 act_cfg: dict | None = None) -> None:
        super().__init__()
        mid = in_channels // 2
        self.conv1 = ConvBNAct(in_channels, mid, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.poolings = nn.ModuleList(nn.MaxPool2d(k, stride=1, padding=k // 2)
                                      for k in kernel_sizes)
        self.conv2 = ConvBNAct(mid * (len(kernel_sizes) + 1), out_channels, 1,
                               norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        return self.conv2(torch.cat([x] + [pool(x) for pool in self.poolings], dim=1))


@MODELS.register_module()
class CSPNeXt(BaseModule):
    """CSPNeXt backbone.

    Args:
        arch: 'P5' (4 stages, stride 32) or 'P6' (5 stages, stride 64).
        deepen_factor: blocks per stage = ``max(round(n * deepen_factor), 1)``.
        widen_factor: channels = ``int(c * widen_factor)``.
        expand_ratio: CSP branch width ratio.
        out_indices: outputs to return: 0 the stem, i the i-th stage.
        channel_attention: channel attention in every CSP layer.
        spp_kernel_sizes: max-pool kernels of the last stage's pyramid
            pooling.
        frozen_stages: stop gradients for the stem (0) and stages
            1 .. frozen_stages and keep them in eval mode; -1 freezes none.
        norm_eval: keep every BatchNorm in eval mode while training.
        norm_cfg: ``dict(type='BN')`` by default (momentum 0.1, eps 1e-5).
        act_cfg: ``dict(type='SiLU')`` by default.
        init_cfg: mmengine init config; PyTorch's default init when None.

    Raises:
        ValueError: an unknown arch or an out index beyond the stages.
    """

    def __init__(self, arch: str = 'P5', deepen_factor: float = 1.0,
                 widen_factor: float = 1.0, expand_ratio: float = 0.5,
                 out_indices: Sequence[int] = (2, 3, 4), channel_attention: bool = True,
                 spp_kernel_sizes: Sequence[int] = (5, 9, 13), frozen_stages: int = -1,
                 norm_eval: bool = False, norm_cfg: dict | None = None,
                 act_cfg: dict | None = None, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if arch not in ARCHS:
            raise ValueError(f'unknown CSPNeXt arch {arch!r}; known: {sorted(ARCHS)}')
        settings = ARCHS[arch]
        self.out_indices = tuple(int(i) for i in out_indices)
        if any(i < 0 or i > len(settings) for i in self.out_indices):
            raise ValueError(f'out_indices {self.out_indices} must lie in 0..{len(settings)}')
        if not -1 <= frozen_stages <= len(settings):
            raise ValueError(f'frozen_stages must lie in -1..{len(settings)}, got {frozen_stages}')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        conv = dict(norm_cfg=norm_cfg or dict(type='BN'), act_cfg=act_cfg or dict(type='SiLU'))
        stem = int(settings[0][0] * widen_factor)
        self.stem = nn.Sequential(
            ConvBNAct(3, int(settings[0][0] * widen_factor // 2), 3, stride=2, **conv),
            ConvBNAct(int(settings[0][0] * widen_factor // 2),
                      int(settings[0][0] * widen_factor // 2), 3, **conv),
            ConvBNAct(int(settings[0][0] * widen_factor // 2), stem, 3, **conv))
        self.layers = ['stem']
        for i, (cin, cout, blocks, add_identity, use_spp) in enumerate(settings, 1):
            cin, cout = int(cin * widen_factor), int(cout * widen_factor)
            stage: list[nn.Module] = [ConvBNAct(cin, cout, 3, stride=2, **conv)]
            if use_spp:
                stage.append(SPPBottleneck(cout, cout, spp_kernel_sizes, **conv))
            stage.append(CSPLayer(cout, cout, expand_ratio,
                                  max(round(blocks * deepen_factor), 1), add_identity,
                                  channel_attention, **conv))
            self.add_module(f'stage{i}', nn.Sequential(*stage))
            self.layers.append(f'stage{i}')
        self.out_channels = [stem] + [int(s[1] * widen_factor) for s in settings]
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        for name in self.layers[:self.frozen_stages + 1]:
            module = getattr(self, name)
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, 3, h, w) -> the feature maps of ``out_indices``."""
        outs = []
        for i, name in enumerate(self.layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> 'CSPNeXt':
        """Train mode, keeping frozen stages (and with ``norm_eval`` every
        BatchNorm) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            freeze_batchnorms(self)
        return self
