"""What every heatmap codec shares."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core.peaks import decode_peaks


class HeatmapCodec:
    """Base of the heatmap codecs: subclasses implement ``encode``,
    ``refine`` (sub-pixel refinement of the argmax) and ``to_dict``, and set
    ``scale_factor`` and ``use_udp``; decoding is defined here once.

    Attributes:
        use_udp: the crop/pixel convention the codec implies: True when
            crop pixel centres ``0 .. input_size - 1`` map onto heatmap pixel
            centres ``0 .. heatmap_size - 1`` (unbiased data processing),
            False for the plain ``input_size / heatmap_size`` scaling.
        scale_factor: float32 (2,) crop pixels per heatmap pixel, (x, y).
    """

    use_udp: bool = False
    scale_factor: np.ndarray

    def refine(self, locs: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
        """Refine (B, K, 2) argmax locations on (B, K, H, W) heatmaps."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """The config dict that builds this codec again (``type`` and every
        argument; sizes as [w, h] lists), e.g. for an export sidecar."""
        raise NotImplementedError

    def batch_decode(self, heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decode a batch of heatmaps in one vectorised pass.

        Args:
            heatmaps: (B, K, H, W) heatmaps.

        Returns:
            tuple:
            - keypoints: float32 (B, K, 2) (x, y) in input-crop pixels.
            - scores: float32 (B, K), the peak values; 0 where the peak is
              not positive.
        """
        return decode_peaks(heatmaps, self.scale_factor, self.refine)

    def decode(self, heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decode one sample's heatmaps.

        Args:
            heatmaps: (K, H, W) heatmaps.

        Returns:
            tuple:
            - keypoints: float32 (1, K, 2) (x, y) in input-crop pixels.
            - scores: float32 (1, K), as in :meth:`batch_decode`.
        """
        heatmaps = np.asarray(heatmaps)
        if heatmaps.ndim != 3:
            raise ValueError(f'heatmaps must be (K, H, W), got shape {heatmaps.shape}')
        return self.batch_decode(heatmaps[None])
