"""A light top-down feature pyramid: the backbone's maps fused into one map
at the finest given stride, for the dense one-stage head."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from customkpt.registry import MODELS

from ..layers import ConvBNAct

__all__ = ['LiteFPN']


@MODELS.register_module()
class LiteFPN(BaseModule):
    """Top-down fusion of backbone maps whose strides double from one to the
    next (e.g. CSPNeXt ``out_indices=(1, 2, 3, 4)``: strides 4, 8, 16, 32).

    Each map goes through a 1x1 ``lateral`` conv to ``out_channels``; from
    the coarsest one down, the running map is upsampled 2x (nearest) and
    added to the next lateral; a 3x3 ``fuse`` conv ends. The output has the
    stride of map ``start_level``: with CSPNeXt stages 1-4, 0 for stride 4,
    1 for stride 8 (the finer maps are not used).

    Args:
        in_channels: channels of each backbone map, finest first.
        out_channels: channels of the fused map.
        start_level: the first map used.
        norm_cfg, act_cfg: see :class:`~customkpt.models.layers.ConvBNAct`
            (BN and SiLU by default).
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int = 64,
                 start_level: int = 0, norm_cfg: dict | None = None,
                 act_cfg: dict | None = None, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not 0 <= start_level < len(in_channels):
            raise ValueError(f'LiteFPN: start_level {start_level} must index one of the '
                             f'{len(in_channels)} backbone maps')
        conv = dict(norm_cfg=norm_cfg or dict(type='BN'), act_cfg=act_cfg or dict(type='SiLU'))
        self.in_channels = [int(c) for c in in_channels]
        self.out_channels = int(out_channels)
        self.start_level = int(start_level)
        self.laterals = nn.ModuleList(ConvBNAct(c, self.out_channels, 1, **conv)
                                      for c in self.in_channels[self.start_level:])
        self.fuse = ConvBNAct(self.out_channels, self.out_channels, 3, **conv)

    def forward(self, feats: Sequence[torch.Tensor]) -> tuple[torch.Tensor]:
        """Backbone maps, finest first -> ``(fused map,)`` at the stride of
        map ``start_level``."""
        if len(feats) != len(self.in_channels):
            raise ValueError(f'LiteFPN was built for {len(self.in_channels)} maps, got '
                             f'{len(feats)}')
        feats = list(feats[self.start_level:])
        x = self.laterals[-1](feats[-1])
        for lateral, feat in zip(reversed(self.laterals[:-1]), reversed(feats[:-1])):
            x = F.interpolate(x, scale_factor=2.0, mode='nearest') + lateral(feat)
        return (self.fuse(x), )
