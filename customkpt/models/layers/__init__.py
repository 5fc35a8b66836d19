"""Building blocks shared by backbones and heads."""
from .conv import (ConvBNAct, DepthwiseSeparableConv, build_activation, build_norm,
                   freeze_batchnorms)
from .gau import GatedAttentionUnit, Scale, ScaleNorm, drop_path

__all__ = ['ConvBNAct', 'DepthwiseSeparableConv', 'GatedAttentionUnit', 'Scale', 'ScaleNorm',
           'build_activation', 'build_norm', 'drop_path', 'freeze_batchnorms']
