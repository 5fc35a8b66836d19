"""What every heatmap codec shares."""
from __future__ import annotations

import numpy as np

from ..deploy.refine import decode_peaks


class HeatmapCodec:
    """Base of the heatmap codecs: subclasses implement ``encode`` and
    ``refine`` (sub-pixel refinement of the argmax) and set
    ``scale_factor``; decoding is defined here once."""

    scale_factor: np.ndarray

    def refine(self, locs: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
        """Refine (B, K, 2) argmax locations on (B, K, H, W) heatmaps."""
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
