"""Models: HRNet backbone, heatmap head, losses, preprocessor, estimator."""
from .backbones import HRNet
from .data_preprocessor import PoseDataPreprocessor
from .estimator import TopdownEstimator, crop_to_image
from .heads import HeatmapHead
from .losses import KeypointMSELoss, KeypointOHKMMSELoss
from .pretrained import TransferReport, load_pretrained

__all__ = ['HRNet', 'HeatmapHead', 'KeypointMSELoss', 'KeypointOHKMMSELoss',
           'PoseDataPreprocessor', 'TopdownEstimator', 'TransferReport', 'crop_to_image',
           'load_pretrained']
