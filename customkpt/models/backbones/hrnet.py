"""HRNet: parallel high-to-low resolution branches with repeated fusion.

Module and parameter names follow the layout of the published top-down HRNet
checkpoints (``conv1``, ``bn1``, ``layer1``, ``transition1``, ``stage2`` ...),
so their weights load by name. Only the highest-resolution branch is returned.

An architecture is a dict in the ``extra`` style of those checkpoints' configs::

    dict(stem_channels=64,
         stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                     num_blocks=(4,), num_channels=(64,)),
         stage2=dict(num_modules=1, num_branches=2, block='BASIC',
                     num_blocks=(4, 4), num_channels=(32, 64)),
         stage3=..., stage4=...)

``ARCHS`` holds the presets ('tiny', 'w18', 'w32', 'w48').
"""
from __future__ import annotations

import copy
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from customkpt.registry import MODELS

from ..layers import freeze_batchnorms

__all__ = ['HRNet', 'ARCHS', 'BasicBlock', 'Bottleneck', 'HRModule']


def _arch(width: int, stem: int = 64, layer1_blocks: int = 4,
          modules: Sequence[int] = (1, 4, 3), blocks: int = 4) -> dict:
    """An HRNet spec with widths (W, 2W, 4W, 8W) and ``blocks`` BasicBlocks
    per branch in stages 2-4."""
    spec = dict(stem_channels=stem,
                stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                            num_blocks=(layer1_blocks,), num_channels=(stem,)))
    for s, num_modules in zip((2, 3, 4), modules):
        spec[f'stage{s}'] = dict(num_modules=num_modules, num_branches=s, block='BASIC',
                                 num_blocks=(blocks,) * s,
                                 num_channels=tuple(width * 2 ** b for b in range(s)))
    return spec


ARCHS: dict[str, dict] = {
    # CPU-sized: one module per stage, one block per branch, width 16.
    'tiny': _arch(16, stem=32, layer1_blocks=1, modules=(1, 1, 1), blocks=1),
    'w18': _arch(18),
    'w32': _arch(32),
    'w48': _arch(48),
}


def conv_bn(cin: int, cout: int, kernel: int = 3, stride: int = 1,
            relu: bool = True) -> nn.Sequential:
    """Conv (no bias, 'same' padding) + BatchNorm (+ ReLU) as indices 0, 1 (, 2)."""
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
              nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual connection."""

    expansion = 1

    def __init__(self, cin: int, planes: int) -> None:
        super().__init__()
        cout = planes * self.expansion
        self.conv1 = nn.Conv2d(cin, planes, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = conv_bn(cin, cout, 1, relu=False) if cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4) with a residual connection."""

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


BLOCKS = {'BASIC': BasicBlock, 'BOTTLENECK': Bottleneck}


def make_blocks(block: type, cin: int, planes: int, num_blocks: int) -> nn.Sequential:
    """``num_blocks`` residual blocks; the first adapts ``cin`` if needed."""
    layers = []
    for _ in range(num_blocks):
        layers.append(block(cin, planes))
        cin = planes * block.expansion
    return nn.Sequential(*layers)


class HRModule(nn.Module):
    """One exchange unit: a stack of blocks per branch, then fusion.

    Every output branch ``i`` sums all branches resampled to its resolution:
    lower-resolution inputs (``j > i``) pass a 1x1 conv + BN and nearest
    upsampling; higher-resolution ones (``j < i``) pass ``i - j`` strided 3x3
    conv + BN steps (ReLU after all but the last). Fuse layer ``[i][i]`` is
    empty.

    Args:
        in_channels: input channels per branch.
        block: residual block class.
        num_blocks: blocks per branch.
        num_channels: block planes per branch (output = planes * expansion).
        multiscale_output: fuse into every branch; False keeps branch 0 only.
    """

    def __init__(self, in_channels: Sequence[int], block: type, num_blocks: Sequence[int],
                 num_channels: Sequence[int], multiscale_output: bool = True) -> None:
        super().__init__()
        n = len(in_channels)
        if not (len(num_blocks) == len(num_channels) == n):
            raise ValueError(f'branch counts differ: in_channels {len(in_channels)}, '
                             f'num_blocks {len(num_blocks)}, num_channels {len(num_channels)}')
        self.branches = nn.ModuleList(
            make_blocks(block, in_channels[b], num_channels[b], num_blocks[b]) for b in range(n))
        channels = [c * block.expansion for c in num_channels]
        self.out_channels = channels if multiscale_output else channels[:1]
        self.fuse_layers = nn.ModuleList()
        if n > 1:
            for i in range(n if multiscale_output else 1):
                row = nn.ModuleList()
                for j in range(n):
                    if j > i:
                        row.append(conv_bn(channels[j], channels[i], 1, relu=False))
                    elif j == i:
                        row.append(None)
                    else:
                        steps = [conv_bn(channels[j], channels[j], 3, 2)
                                 for _ in range(i - j - 1)]
                        steps.append(conv_bn(channels[j], channels[i], 3, 2, relu=False))
                        row.append(nn.Sequential(*steps))
                self.fuse_layers.append(row)
        self.relu = nn.ReLU()

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        if len(self.fuse_layers) == 0:
            return xs
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = xs[i]
            for j, layer in enumerate(row):
                if j == i:
                    continue
                z = layer(xs[j])
                if j > i:
                    # Upsample to the exact size, so odd input sizes work too.
                    z = F.interpolate(z, size=xs[i].shape[-2:], mode='nearest')
                y = y + z
            out.append(self.relu(y))
        return out


def make_transition(prev: Sequence[int], cur: Sequence[int]) -> nn.ModuleList:
    """Adapt the branches of one stage to the next.

    Existing branches whose width changes get a 3x3 conv + BN + ReLU (else
    ``None``); each new branch is a Sequential of stride-2 conv + BN + ReLU
    steps from the previous lowest-resolution branch.
    """
    layers = nn.ModuleList()
    for i, c in enumerate(cur):
        if i < len(prev):
            layers.append(conv_bn(prev[i], c) if prev[i] != c else None)
        else:
            num_steps = i + 1 - len(prev)
            steps = [conv_bn(prev[-1], c if k == num_steps - 1 else prev[-1], 3, 2)
                     for k in range(num_steps)]
            layers.append(nn.Sequential(*steps))
    return layers


def _check_spec(spec: dict) -> dict:
    spec = copy.deepcopy(dict(spec))
    spec.setdefault('stem_channels', 64)
    for s in (1, 2, 3, 4):
        if f'stage{s}' not in spec:
            raise ValueError(f"HRNet spec needs 'stage1' .. 'stage4'; missing 'stage{s}'")
        st = spec[f'stage{s}']
        for key in ('num_branches', 'block', 'num_blocks', 'num_channels'):
            if key not in st:
                raise ValueError(f'HRNet stage{s} spec needs {key!r}')
        st.setdefault('num_modules', 1)
        if st['block'] not in BLOCKS:
            raise ValueError(f"stage{s} block must be one of {sorted(BLOCKS)}, got {st['block']!r}")
        if not len(st['num_blocks']) == len(st['num_channels']) == st['num_branches']:
            raise ValueError(f'stage{s}: num_blocks and num_channels need num_branches '
                             f"({st['num_branches']}) entries")
        if st['num_modules'] < 1:
            raise ValueError(f'stage{s}: num_modules must be >= 1')
    if spec['stage1']['num_branches'] != 1 or spec['stage1']['num_modules'] != 1:
        raise ValueError('stage1 is layer1: one module with one branch')
    for s in (2, 3, 4):
        if spec[f'stage{s}']['num_branches'] < spec[f'stage{s - 1}']['num_branches']:
            raise ValueError(f'stage{s} has fewer branches than stage{s - 1}')
    return spec


@MODELS.register_module()
class HRNet(BaseModule):
    """HRNet backbone for top-down keypoint heatmaps.

    Args:
        arch: a preset name, 'tiny', 'w18', 'w32' or 'w48' (see ``ARCHS``),
            or a spec dict in the ``extra`` layout of the module docstring.
        in_channels: image channels.
        frozen_stages: freeze the stem (0), layer1 (1), transition{s-1} and
            stage{s} (s = 2..4), and everything before; -1 freezes nothing.
            Frozen parts get ``requires_grad=False`` and stay in eval mode.
        norm_eval: keep every BatchNorm in eval mode while training (useful
            with small batches when fine-tuning).
        init_cfg: mmengine init config; by default the convolutions keep
            PyTorch's own init (uniform, std 1/sqrt(3 fan_in)) and BatchNorm
            gets unit scale: from scratch this trained better than Kaiming
            normal (docs/benchmarks.md, "Against MMPose 1.3.2").
        extra: a spec dict; overrides ``arch`` when given.

    Output: a one-element list with the highest-resolution feature map,
    ``(B, C, H/4, W/4)`` where C is the first stage-4 width (W for 'wW').
    """

    def __init__(self, arch: str | dict = 'w32', in_channels: int = 3, frozen_stages: int = -1,
                 norm_eval: bool = False, init_cfg: dict | list | None = None,
                 extra: dict | None = None) -> None:
        if extra is not None:
            arch = extra
        if isinstance(arch, str):
            if arch not in ARCHS:
                raise ValueError(f'unknown HRNet arch {arch!r}; choose from {sorted(ARCHS)}')
            spec = ARCHS[arch]
        else:
            spec = arch
        spec = _check_spec(spec)
        if not -1 <= frozen_stages <= 4:
            raise ValueError(f'frozen_stages must be in -1..4, got {frozen_stages}')
        if init_cfg is None:
            init_cfg = [dict(type='Constant', val=1, layer='BatchNorm2d')]
        super().__init__(init_cfg=init_cfg)
        self.arch = arch if isinstance(arch, str) else 'custom'
        self.spec = spec
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        stem = spec['stem_channels']
        self.conv1 = nn.Conv2d(in_channels, stem, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.conv2 = nn.Conv2d(stem, stem, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)

        st1 = spec['stage1']
        block1 = BLOCKS[st1['block']]
        self.layer1 = make_blocks(block1, stem, st1['num_channels'][0], st1['num_blocks'][0])
        prev = [st1['num_channels'][0] * block1.expansion]

        for s in (2, 3, 4):
            st = spec[f'stage{s}']
            block = BLOCKS[st['block']]
            cur = [c * block.expansion for c in st['num_channels']]
            setattr(self, f'transition{s - 1}', make_transition(prev, cur))
            modules = []
            for m in range(st['num_modules']):
                # The very last module fuses into the highest resolution only.
                multiscale = not (s == 4 and m == st['num_modules'] - 1)
                modules.append(HRModule(cur, block, st['num_blocks'], st['num_channels'],
                                        multiscale_output=multiscale))
            setattr(self, f'stage{s}', nn.Sequential(*modules))
            prev = cur
        self.out_channels = prev[0]
        self._freeze_stages()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(B, in_channels, H, W) -> [(B, out_channels, H/4, W/4)]."""
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        ys = [self.layer1(x)]
        for s in (2, 3, 4):
            transition = getattr(self, f'transition{s - 1}')
            xs = []
            for i, layer in enumerate(transition):
                # New branches grow out of the lowest-resolution existing one.
                source = ys[i] if i < len(ys) else ys[-1]
                xs.append(source if layer is None else layer(source))
            ys = getattr(self, f'stage{s}')(xs)
        return [ys[0]]

    def _stage_modules(self, index: int) -> list[nn.Module]:
        if index == 0:
            return [self.conv1, self.bn1, self.conv2, self.bn2]
        if index == 1:
            return [self.layer1]
        return [getattr(self, f'transition{index - 1}'), getattr(self, f'stage{index}')]

    def _freeze_stages(self) -> None:
        for index in range(self.frozen_stages + 1):
            for module in self._stage_modules(index):
                module.eval()
                for p in module.parameters():
                    p.requires_grad = False

    def train(self, mode: bool = True) -> 'HRNet':
        """Switch mode, keeping frozen stages (and all norms when
        ``norm_eval``) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            freeze_batchnorms(self)
        return self
