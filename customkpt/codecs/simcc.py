"""SimCC labels: one 1-D classification vector per axis and keypoint.

A keypoint at crop pixel (x, y) becomes a Gaussian over ``Wx = round(w *
split)`` x bins centred at bin ``round(x * split)`` and one over ``Wy``
y bins, with ``split = simcc_split_ratio`` bins per crop pixel. Decoding
takes each vector's argmax and divides by ``split``; the keypoint's score is
the smaller of its two peak values.

Sigma is given in bins (split 2). The published recipes use (4.9, 5.66) at
``input_size=(192, 256)``, (6.93, 7.99) at (288, 384) and (5.66, 5.66) at
(256, 256); other input sizes scale the 192x256 value with the crop, so the
label keeps its width relative to the crop: :meth:`SimCCLabel.scaled_sigma`
(the default when ``sigma`` is None).

Notation: N instances, K keypoints, B samples; sizes are (w, h).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..core.peaks import get_vector_maximum

__all__ = ['SimCCLabel']

# The published sigma (x, y) in bins (split 2) per input size (w, h).
_PUBLISHED_SIGMA = {(192, 256): (4.9, 5.66), (288, 384): (6.93, 7.99),
                    (256, 256): (5.66, 5.66)}
_REFERENCE_SIZE = (192, 256)


class SimCCLabel:
    """Gaussian SimCC codec (no UDP: plain crop pixels).

    Args:
        input_size: network input (w, h) in pixels.
        sigma: Gaussian standard deviation (x, y) in bins, or one value for
            both; None picks :meth:`scaled_sigma` of ``input_size`` (meant
            for split 2).
        simcc_split_ratio: bins per crop pixel.
        normalize: divide the labels by ``sigma * sqrt(2 pi)`` (unit area)
            instead of a peak of 1.

    Attributes:
        use_udp: False.
        vector_size: (Wx, Wy) bins.
    """

    use_udp = False

    def __init__(self, input_size: Sequence[int] = (192, 256),
                 sigma: float | Sequence[float] | None = None,
                 simcc_split_ratio: float = 2.0, normalize: bool = False) -> None:
        self.input_size = (int(input_size[0]), int(input_size[1]))
        if sigma is None:
            sigma = self.scaled_sigma(self.input_size)
        sigma = np.broadcast_to(np.asarray(sigma, np.float64), (2,))
        if not (sigma > 0).all():
            raise ValueError(f'sigma must be positive, got {sigma.tolist()}')
        self.sigma = (float(sigma[0]), float(sigma[1]))
        self.simcc_split_ratio = float(simcc_split_ratio)
        if self.simcc_split_ratio <= 0:
            raise ValueError(f'simcc_split_ratio must be positive, got {simcc_split_ratio}')
        self.normalize = bool(normalize)
        self.vector_size = tuple(int(np.around(s * self.simcc_split_ratio))
                                 for s in self.input_size)

    @staticmethod
    def scaled_sigma(input_size: Sequence[int]) -> tuple[float, float]:
        """Sigma (x, y) in bins for ``input_size`` (w, h) at split 2: the
        published value for 192x256, 288x384 and 256x256, else the 192x256
        value (4.9, 5.66) scaled linearly with the crop, to 2 decimals
        (e.g. 96x128 gives (2.45, 2.83))."""
        size = (int(input_size[0]), int(input_size[1]))
        if size in _PUBLISHED_SIGMA:
            return _PUBLISHED_SIGMA[size]
        reference = _PUBLISHED_SIGMA[_REFERENCE_SIZE]
        return tuple(round(s * n / r, 2) for s, n, r in zip(reference, size, _REFERENCE_SIZE))

    def encode(self, keypoints: np.ndarray, keypoints_visible: np.ndarray | None = None
               ) -> dict[str, np.ndarray]:
        """Make the training labels.

        A point gets weight 0 and all-zero vectors when it is not labelled
        (visibility < 0.5), not finite, or when its 3-sigma window around the
        rounded bin lies entirely outside the vectors (the crop left it out);
        points just outside the crop keep a partial Gaussian, as the heatmap
        codecs do.

        Args:
            keypoints: (N, K, 2) float (x, y) in input-crop pixels.
            keypoints_visible: (N, K) visibility, or None for all visible.

        Returns:
            dict with float32 ``keypoint_x_labels`` (N, K, Wx),
            ``keypoint_y_labels`` (N, K, Wy) and ``keypoint_weights`` (N, K).
        """
        keypoints = np.asarray(keypoints, dtype=np.float64)
        if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
            raise ValueError(f'keypoints must be (N, K, 2), got shape {keypoints.shape}')
        n, k, _ = keypoints.shape
        visible = (np.ones((n, k), np.float32) if keypoints_visible is None
                   else np.asarray(keypoints_visible, dtype=np.float32))
        if visible.shape != (n, k):
            raise ValueError(f'keypoints_visible must be (N, K) = {(n, k)}, '
                             f'got shape {visible.shape}')
        finite = np.isfinite(keypoints).all(axis=-1)
        mu = np.around(np.where(finite[..., None], keypoints, 0.0) * self.simcc_split_ratio)
        sigma = np.asarray(self.sigma)
        size = np.asarray(self.vector_size)
        inside = ((mu - 3 * sigma < size) & (mu + 3 * sigma + 1 >= 0)).all(axis=-1)
        weights = ((visible >= 0.5) & finite & inside).astype(np.float32)
        labels = []
        for axis in (0, 1):
            bins = np.arange(self.vector_size[axis], dtype=np.float64)
            gauss = np.exp(-(bins - mu[..., axis:axis + 1]) ** 2 / (2 * sigma[axis] ** 2))
            if self.normalize:
                gauss /= sigma[axis] * np.sqrt(2 * np.pi)
            labels.append((gauss * weights[..., None]).astype(np.float32))
        return dict(keypoint_x_labels=labels[0], keypoint_y_labels=labels[1],
                    keypoint_weights=weights)

    def batch_decode(self, simcc_x: np.ndarray, simcc_y: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Decode a batch of vectors.

        Args:
            simcc_x: (B, K, Wx) x vectors (raw network outputs or labels).
            simcc_y: (B, K, Wy) y vectors.

        Returns:
            tuple:
            - keypoints: float32 (B, K, 2) (x, y) in input-crop pixels, the
              argmax bins divided by ``simcc_split_ratio``.
            - scores: float32 (B, K), the smaller of the two peak values; 0
              where that is not positive (the location is kept).
        """
        simcc_x, simcc_y = np.asarray(simcc_x), np.asarray(simcc_y)
        if simcc_x.ndim != 3 or simcc_y.ndim != 3:
            raise ValueError(f'simcc_x and simcc_y must be (B, K, W), got shapes '
                             f'{simcc_x.shape} and {simcc_y.shape}')
        locs, vals = get_vector_maximum(simcc_x, simcc_y)
        keypoints = (locs / self.simcc_split_ratio).astype(np.float32)
        return keypoints, np.where(vals > 0, vals, 0).astype(np.float32)

    def decode(self, simcc_x: np.ndarray, simcc_y: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """One sample: (K, Wx) and (K, Wy) -> keypoints (1, K, 2), scores (1, K)."""
        simcc_x, simcc_y = np.asarray(simcc_x), np.asarray(simcc_y)
        if simcc_x.ndim != 2 or simcc_y.ndim != 2:
            raise ValueError(f'simcc_x and simcc_y must be (K, W), got shapes '
                             f'{simcc_x.shape} and {simcc_y.shape}')
        return self.batch_decode(simcc_x[None], simcc_y[None])

    def to_dict(self) -> dict[str, Any]:
        """``type`` and the constructor arguments (sizes and sigma as lists)."""
        return dict(type=type(self).__name__, input_size=list(self.input_size),
                    sigma=list(self.sigma), simcc_split_ratio=self.simcc_split_ratio,
                    normalize=self.normalize)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(input_size={self.input_size}, sigma={self.sigma}, '
                f'simcc_split_ratio={self.simcc_split_ratio}, normalize={self.normalize})')
