from .heatmap_head import HeatmapHead, heatmap_accuracy

__all__ = ['HeatmapHead', 'heatmap_accuracy']
