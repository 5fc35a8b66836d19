"""Keypoint codecs: numpy-only heatmap encoders/decoders.

Importing this package registers the codecs in
:data:`customkpt.registry.KEYPOINT_CODECS`, so they build from config dicts,
e.g. ``KEYPOINT_CODECS.build(dict(type='MSRAHeatmap', sigma=2.0))``.

Contract (N instances, K keypoints, heatmaps H x W):
``encode(keypoints (N, K, 2), keypoints_visible (N, K))`` returns
``dict(heatmaps=(K, H, W), keypoint_weights=(N, K))``; ``decode((K, H, W))``
returns ``(keypoints (1, K, 2), scores (1, K))`` in input-crop pixels and
``batch_decode((B, K, H, W))`` returns ``(keypoints (B, K, 2), scores (B, K))``.
"""
from .gaussian import generate_gaussian_heatmaps
from .msra import MSRAHeatmap
from ..deploy.refine import (gaussian_blur, get_heatmap_maximum, refine_keypoints_dark,
                             refine_keypoints_quarter)
from .udp import UDPHeatmap

__all__ = [
    'MSRAHeatmap', 'UDPHeatmap', 'generate_gaussian_heatmaps', 'gaussian_blur',
    'get_heatmap_maximum', 'refine_keypoints_dark', 'refine_keypoints_quarter'
]
