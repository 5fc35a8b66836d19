"""Keypoint codecs: numpy-only heatmap encoders/decoders (KEYPOINT_CODECS)."""
from .msra import MSRAHeatmap, get_heatmap_maximum, refine_dark, refine_quarter

__all__ = ['MSRAHeatmap', 'get_heatmap_maximum', 'refine_dark', 'refine_quarter']
