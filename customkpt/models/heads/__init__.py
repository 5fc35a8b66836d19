from .base import TopdownHead
from .heatmap_head import HeatmapHead, heatmap_accuracy
from .rtmcc_head import RTMCCHead, simcc_accuracy

__all__ = ['HeatmapHead', 'RTMCCHead', 'TopdownHead', 'heatmap_accuracy', 'simcc_accuracy']
