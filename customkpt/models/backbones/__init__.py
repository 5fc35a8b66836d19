from .cspnext import CSPNeXt
from .hrnet import ARCHS, HRNet

__all__ = ['CSPNeXt', 'HRNet', 'ARCHS']
