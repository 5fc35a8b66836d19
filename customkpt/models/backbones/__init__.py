from .hrnet import ARCHS, HRNet

__all__ = ['HRNet', 'ARCHS']
