"""Keypoint codecs: plain numpy heatmap and SimCC encoders/decoders.

This package imports only numpy and :mod:`customkpt.core`. Build a codec
with :func:`build_codec` (``build_codec(dict(type='MSRAHeatmap', sigma=2.0))``)
or, in configs, through :data:`customkpt.registry.KEYPOINT_CODECS`, into
which :mod:`customkpt.codecs.registration` registers them.

Contract (N instances, K keypoints, heatmaps H x W):
``encode(keypoints (N, K, 2), keypoints_visible (N, K))`` returns
``dict(heatmaps=(K, H, W), keypoint_weights=(N, K))``; ``decode((K, H, W))``
returns ``(keypoints (1, K, 2), scores (1, K))`` in input-crop pixels and
``batch_decode((B, K, H, W))`` returns ``(keypoints (B, K, 2), scores (B, K))``.
:class:`CentreLabel` (one-stage models: objects as centre points) encodes
whole-image boxes and keypoints to dense maps and decodes objects instead.
:class:`SimCCLabel` encodes to ``keypoint_x_labels`` (N, K, Wx) and
``keypoint_y_labels`` (N, K, Wy) instead of heatmaps and decodes
``batch_decode(simcc_x (B, K, Wx), simcc_y (B, K, Wy))``.
Every codec has ``use_udp`` (the pixel convention it implies) and
``to_dict()`` (the config that builds it again).
"""
from .base import HeatmapCodec
from .build import CODECS, build_codec
from .centre import CentreLabel
from .gaussian import generate_gaussian_heatmaps
from .msra import MSRAHeatmap
from .simcc import SimCCLabel
from .udp import UDPHeatmap

__all__ = ['CODECS', 'CentreLabel', 'HeatmapCodec', 'MSRAHeatmap', 'SimCCLabel', 'UDPHeatmap',
           'build_codec', 'generate_gaussian_heatmaps']
