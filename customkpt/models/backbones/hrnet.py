"""HRNet: parallel high-to-low resolution branches with repeated fusion.

Module and parameter names follow the layout of the published top-down HRNet
checkpoints (``conv1``, ``layer1``, ``transition1``, ``stage2`` ...), so
their weights load by name. Only the highest-resolution branch is returned.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from customkpt.registry import MODELS

# width, stem/layer1 planes, layer1 blocks, (modules, blocks per branch) of stages 2-4
ARCHS = {
    'tiny': dict(width=16, planes=32, layer1_blocks=1, stages=((1, 1), (1, 1), (1, 1))),
    'w18': dict(width=18, planes=64, layer1_blocks=4, stages=((1, 4), (4, 4), (3, 4))),
    'w32': dict(width=32, planes=64, layer1_blocks=4, stages=((1, 4), (4, 4), (3, 4))),
    'w48': dict(width=48, planes=64, layer1_blocks=4, stages=((1, 4), (4, 4), (3, 4))),
}


def conv_bn(cin: int, cout: int, kernel: int = 3, stride: int = 1, relu: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, planes: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (conv_bn(cin, planes, 1, relu=False) if cin != planes else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, planes: int) -> None:
        super().__init__()
        cout = planes * self.expansion
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = conv_bn(cin, cout, 1, relu=False) if cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class HRModule(nn.Module):
    """Branches of BasicBlocks, then every output branch sums all inputs,
    resampled to its resolution (1x1 conv + upsampling from lower
    resolutions, strided 3x3 convs from higher ones)."""

    def __init__(self, channels: Sequence[int], num_blocks: int, multiscale_output: bool = True
                 ) -> None:
        super().__init__()
        n = len(channels)
        self.branches = nn.ModuleList(
            nn.Sequential(*[BasicBlock(c, c) for _ in range(num_blocks)]) for c in channels)
        self.fuse_layers = nn.ModuleList()
        for i in range(n if multiscale_output else 1):
            row = nn.ModuleList()
            for j in range(n):
                if j > i:
                    row.append(conv_bn(channels[j], channels[i], 1, relu=False))
                elif j == i:
                    row.append(None)
                else:
                    steps = [conv_bn(channels[j], channels[j], 3, 2) for _ in range(i - j - 1)]
                    steps.append(conv_bn(channels[j], channels[i], 3, 2, relu=False))
                    row.append(nn.Sequential(*steps))
            self.fuse_layers.append(row)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = xs[i]
            for j, layer in enumerate(row):
                if j == i:
                    continue
                z = layer(xs[j])
                if j > i:
                    z = F.interpolate(z, size=xs[i].shape[-2:], mode='nearest')
                y = y + z
            out.append(self.relu(y))
        return out


def _transition(prev: Sequence[int], cur: Sequence[int]) -> nn.ModuleList:
    """Adapt existing branches whose width changes; make each new branch by
    strided convs from the lowest-resolution existing one."""
    layers = nn.ModuleList()
    for i, c in enumerate(cur):
        if i < len(prev):
            layers.append(conv_bn(prev[i], c) if prev[i] != c else None)
        else:
            steps = []
            for k in range(i + 1 - len(prev)):
                out = c if k == i - len(prev) else prev[-1]
                steps.append(conv_bn(prev[-1], out, 3, 2))
            layers.append(nn.Sequential(*steps))
    return layers


@MODELS.register_module()
class HRNet(BaseModule):
    """HRNet backbone for top-down keypoint heatmaps.

    Args:
        arch: 'tiny', 'w18', 'w32' or 'w48' (see ``ARCHS``); the output has
            ``width`` channels at 1/4 of the input resolution.
        in_channels: image channels.
        frozen_stages: freeze the stem (0), layer1 (1), stage 2..4 (2..4)
            and everything before; -1 freezes nothing.
        norm_eval: keep BatchNorm layers in eval mode while training
            (useful with small batches when fine-tuning).
    """

    def __init__(self, arch: str = 'w32', in_channels: int = 3, frozen_stages: int = -1,
                 norm_eval: bool = False, init_cfg: dict | list | None = None) -> None:
        if arch not in ARCHS:
            raise ValueError(f'unknown HRNet arch {arch!r}; choose from {sorted(ARCHS)}')
        if init_cfg is None:
            init_cfg = [dict(type='Kaiming', layer='Conv2d'),
                        dict(type='Constant', val=1, layer='BatchNorm2d')]
        super().__init__(init_cfg=init_cfg)
        spec = ARCHS[arch]
        self.arch = arch
        self.width = spec['width']
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        planes = spec['planes']
        self.conv1 = nn.Conv2d(in_channels, planes, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        layer1_out = planes * Bottleneck.expansion
        self.layer1 = nn.Sequential(*[Bottleneck(planes if b == 0 else layer1_out, planes)
                                      for b in range(spec['layer1_blocks'])])
        prev = [layer1_out]
        for s, (modules, blocks) in enumerate(spec['stages'], start=2):
            cur = [self.width * 2 ** b for b in range(s)]
            setattr(self, f'transition{s - 1}', _transition(prev, cur))
            last = s == 4
            setattr(self, f'stage{s}', nn.Sequential(*[
                HRModule(cur, blocks, multiscale_output=not (last and m == modules - 1))
                for m in range(modules)]))
            prev = cur
        self._freeze()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        ys = [self.layer1(x)]
        for s in (2, 3, 4):
            transition = getattr(self, f'transition{s - 1}')
            xs = []
            for i, layer in enumerate(transition):
                source = ys[i] if i < len(ys) else ys[-1]
                xs.append(source if layer is None else layer(source))
            ys = getattr(self, f'stage{s}')(xs)
        return (ys[0],)

    def _frozen_modules(self) -> list[nn.Module]:
        groups = [[self.conv1, self.bn1, self.conv2, self.bn2], [self.layer1]]
        for s in (2, 3, 4):
            groups.append([getattr(self, f'transition{s - 1}'), getattr(self, f'stage{s}')])
        return [m for g in groups[:self.frozen_stages + 1] for m in g]

    def _freeze(self) -> None:
        for module in self._frozen_modules():
            module.eval()
            for p in module.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True) -> 'HRNet':
        super().train(mode)
        self._freeze()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self
