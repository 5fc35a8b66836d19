"""Models: HRNet backbone, heatmap head, losses, preprocessor, estimator."""
from .backbones import HRNet
from .data_preprocessor import PoseDataPreprocessor
from .estimator import TopdownEstimator
from .heads import HeatmapHead
from .losses import KeypointMSELoss, KeypointOHKMMSELoss
from .pretrained import TransferReport, load_pretrained

__all__ = ['HRNet', 'HeatmapHead', 'KeypointMSELoss', 'KeypointOHKMMSELoss',
           'PoseDataPreprocessor', 'TopdownEstimator', 'TransferReport',
           'load_pretrained']
