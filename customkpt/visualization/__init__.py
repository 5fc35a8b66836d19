"""Drawing keypoints and skeletons, the mmengine ``PoseVisualizer`` and
training-curve plots.

Importing this package registers :class:`PoseVisualizer` in
``customkpt.registry.VISUALIZERS``.
"""
from .curves import CurveKeyError, load_scalars, plot_curves
from .draw import draw_instances, draw_text, heatmap_overlay, hstack_images, put_title
from .visualizer import PoseVisualizer

__all__ = [
    'draw_instances', 'draw_text', 'heatmap_overlay',
    'hstack_images', 'put_title', 'PoseVisualizer', 'plot_curves', 'load_scalars',
    'CurveKeyError'
]
