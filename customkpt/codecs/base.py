"""What every heatmap codec shares."""
from __future__ import annotations

import numpy as np


class HeatmapCodec:
    """Base of the heatmap codecs: subclasses implement ``encode`` and
    ``batch_decode``; single-sample ``decode`` is defined here once."""

    def batch_decode(self, heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

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
