"""Models: HRNet and CSPNeXt backbones, heatmap and RTMCC (SimCC) heads,
losses, preprocessor, estimator."""
from .backbones import CSPNeXt, HRNet
from .data_preprocessor import PoseDataPreprocessor
from .estimator import TopdownEstimator
from .heads import HeatmapHead, RTMCCHead
from .losses import KeypointMSELoss, KeypointOHKMMSELoss, KLDiscretLoss
from .pretrained import TransferReport, load_pretrained

__all__ = ['CSPNeXt', 'HRNet', 'HeatmapHead', 'KLDiscretLoss', 'KeypointMSELoss',
           'KeypointOHKMMSELoss', 'PoseDataPreprocessor', 'RTMCCHead', 'TopdownEstimator',
           'TransferReport', 'load_pretrained']
