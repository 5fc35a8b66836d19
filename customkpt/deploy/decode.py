"""Numpy heatmap decoding for deployment, without torch.

Importing :mod:`customkpt.codecs` imports the whole ``customkpt`` package
(and torch with it), so the deployed predictor decodes here, from the
``codec`` entry of the sidecar (:mod:`customkpt.deploy.sidecar`), with the
peak and refinement functions of :mod:`customkpt.deploy.refine` that the
codecs use too. The result equals ``MSRAHeatmap.batch_decode`` /
``UDPHeatmap.batch_decode`` (the tests check it).

Shapes: heatmaps (B, K, H, W); keypoints (B, K, 2) (x, y) in crop pixels;
scores (B, K).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .refine import decode_peaks, refine_keypoints_dark, refine_keypoints_quarter

__all__ = ['DECODABLE_CODECS', 'decode_heatmaps']

DECODABLE_CODECS = ('MSRAHeatmap', 'UDPHeatmap')


def decode_heatmaps(heatmaps: np.ndarray, codec: dict[str, Any]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Decode (B, K, H, W) heatmaps with a sidecar ``codec`` entry.

    Returns:
        keypoints float32 (B, K, 2) in crop pixels and scores float32 (B, K)
        (the peak value, 0 where it is not positive).

    Raises:
        ValueError: an unknown codec type or a wrong heatmap shape.
    """
    if np.ndim(heatmaps) != 4:  # before the codec fields are read
        raise ValueError(f'heatmaps must be (B, K, H, W), got shape {np.shape(heatmaps)}')
    kind = codec.get('type')
    if kind not in DECODABLE_CODECS:
        raise ValueError(f"codec.type {kind!r} cannot be decoded here; supported: "
                         f"{list(DECODABLE_CODECS)}")
    input_size = np.asarray(codec['input_size'], np.float32)
    heatmap_size = np.asarray(codec['heatmap_size'], np.float32)
    kernel = int(codec.get('blur_kernel_size', 11))

    def dark(locs: np.ndarray, maps: np.ndarray) -> np.ndarray:
        return refine_keypoints_dark(locs, maps, kernel)

    if kind == 'UDPHeatmap':
        return decode_peaks(heatmaps, (input_size - 1) / (heatmap_size - 1), dark)
    refine = dark if codec.get('unbiased', False) else refine_keypoints_quarter
    return decode_peaks(heatmaps, input_size / heatmap_size, refine)
