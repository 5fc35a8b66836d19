"""Models: HRNet and CSPNeXt backbones, heatmap and RTMCC (SimCC) heads,
losses, preprocessor, the top-down estimator and the one-stage models
(:mod:`customkpt.models.onestage`)."""
from .backbones import CSPNeXt, HRNet
from .data_preprocessor import PoseDataPreprocessor
from .estimator import TopdownEstimator
from .heads import HeatmapHead, RTMCCHead
from .losses import KeypointMSELoss, KeypointOHKMMSELoss, KLDiscretLoss
from .onestage import CentreHead, LiteFPN, OneStageEstimator
from .pretrained import TransferReport, load_pretrained

__all__ = ['CSPNeXt', 'CentreHead', 'HRNet', 'HeatmapHead', 'KLDiscretLoss', 'KeypointMSELoss',
           'KeypointOHKMMSELoss', 'LiteFPN', 'OneStageEstimator', 'PoseDataPreprocessor',
           'RTMCCHead', 'TopdownEstimator', 'TransferReport', 'load_pretrained']
