"""What every heatmap codec shares."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..core.peaks import decode_peaks
from .gaussian import generate_gaussian_heatmaps


class HeatmapCodec:
    """Base of the Gaussian heatmap codecs: encoding, decoding, ``to_dict``
    and ``repr`` are defined here once. Subclasses set ``scale_factor`` and
    ``use_udp``, list their constructor arguments in ``arg_names`` and
    implement :meth:`heatmap_centres` (where a keypoint's Gaussian goes) and
    :meth:`refine` (sub-pixel refinement of the argmax).

    Args:
        input_size: network input (w, h) in pixels.
        heatmap_size: heatmap (w, h) in pixels.
        sigma: Gaussian standard deviation in heatmap pixels.
        blur_kernel_size: Gaussian blur kernel size (odd) of the DARK
            refinement; 11 suits sigma 2.

    Attributes:
        use_udp: the crop/pixel convention the codec implies: True when
            crop pixel centres ``0 .. input_size - 1`` map onto heatmap pixel
            centres ``0 .. heatmap_size - 1`` (unbiased data processing),
            False for the plain ``input_size / heatmap_size`` scaling.
        scale_factor: float32 (2,) crop pixels per heatmap pixel, (x, y).
    """

    use_udp: bool = False
    scale_factor: np.ndarray
    #: The constructor arguments, in order: what ``to_dict`` and ``repr`` show.
    arg_names: tuple[str, ...] = ('input_size', 'heatmap_size', 'sigma', 'blur_kernel_size')

    def __init__(self, input_size: Sequence[int], heatmap_size: Sequence[int], sigma: float,
                 blur_kernel_size: int) -> None:
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.heatmap_size = (int(heatmap_size[0]), int(heatmap_size[1]))
        self.sigma = float(sigma)
        self.blur_kernel_size = int(blur_kernel_size)

    def heatmap_centres(self, keypoints: np.ndarray) -> np.ndarray:
        """Gaussian centres (N, K, 2) in heatmap pixels of float32 (N, K, 2)
        crop keypoints; non-finite points stay non-finite."""
        raise NotImplementedError

    def refine(self, locs: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
        """Refine (B, K, 2) argmax locations on (B, K, H, W) heatmaps."""
        raise NotImplementedError

    def encode(self, keypoints: np.ndarray, keypoints_visible: np.ndarray | None = None
               ) -> dict[str, np.ndarray]:
        """Make the training target.

        Args:
            keypoints: (N, K, 2) float (x, y) in input-crop pixels.
            keypoints_visible: (N, K) visibility, or None for all visible.

        Returns:
            dict with ``heatmaps`` float32 (K, H, W) (max over instances of
            unit-peak Gaussians centred at :meth:`heatmap_centres`) and
            ``keypoint_weights`` float32 (N, K): 0 for invisible points and
            points whose Gaussian lies entirely outside the heatmap, else 1.
        """
        centres = self.heatmap_centres(np.asarray(keypoints, dtype=np.float32))
        heatmaps, weights = generate_gaussian_heatmaps(centres, keypoints_visible,
                                                       self.heatmap_size, self.sigma)
        return dict(heatmaps=heatmaps, keypoint_weights=weights)

    def to_dict(self) -> dict[str, Any]:
        """The config dict that builds this codec again (``type`` and every
        argument; sizes as [w, h] lists), e.g. for an export sidecar."""
        cfg: dict[str, Any] = dict(type=type(self).__name__)
        for name in self.arg_names:
            value = getattr(self, name)
            cfg[name] = list(value) if isinstance(value, tuple) else value
        return cfg

    def __repr__(self) -> str:
        args = ', '.join(f'{name}={getattr(self, name)!r}' for name in self.arg_names)
        return f'{type(self).__name__}({args})'

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
