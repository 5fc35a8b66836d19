from .heatmap_head import HeatmapHead, flip_heatmaps, heatmap_accuracy

__all__ = ['HeatmapHead', 'flip_heatmaps', 'heatmap_accuracy']
