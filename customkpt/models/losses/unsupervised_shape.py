"""Shape losses for unlabelled frames: each heatmap (or SimCC vector) should
be one clean peak, like the training targets, at the place the model itself
puts the keypoint.

The reference peak is rendered at the prediction's soft-argmax position
(:class:`~customkpt.models.losses.unsupervised.UnlabelledBatch` ``peaks``),
with the codec's sigma; position and height are taken as constants, so the
gradient only reshapes the output (a second bump is pushed down, a smeared
peak sharpened) and never moves the keypoint.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from customkpt.registry import MODELS

from .heatmap import per_keypoint_mse
from .simcc import KLDiscretLoss
from .unsupervised import UnlabelledBatch

__all__ = ['HeatmapShapeLoss', 'SimCCShapeLoss', 'gaussian_heatmaps', 'gaussian_vectors']


def gaussian_heatmaps(peaks: torch.Tensor, size: Sequence[int], sigma: float) -> torch.Tensor:
    """Peak-1 Gaussians (B, K, H, W) at ``peaks`` (B, K, 2) (x, y) heatmap
    pixels, ``size`` (W, H), ``sigma`` in heatmap pixels."""
    w, h = int(size[0]), int(size[1])
    xs = torch.arange(w, device=peaks.device, dtype=torch.float32)
    ys = torch.arange(h, device=peaks.device, dtype=torch.float32)
    gx = torch.exp(-(xs - peaks[..., :1]) ** 2 / (2 * sigma ** 2))          # (B, K, W)
    gy = torch.exp(-(ys - peaks[..., 1:]) ** 2 / (2 * sigma ** 2))          # (B, K, H)
    return gy[..., :, None] * gx[..., None, :]


def gaussian_vectors(centres: torch.Tensor, length: int, sigma: float) -> torch.Tensor:
    """Peak-1 Gaussians (B, K, L) over ``length`` bins at ``centres`` (B, K)."""
    bins = torch.arange(int(length), device=centres.device, dtype=torch.float32)
    return torch.exp(-(bins - centres[..., None]) ** 2 / (2 * sigma ** 2))


def _decoder(batch: UnlabelledBatch, what: str):
    decoder = getattr(batch.head, 'decoder', None)
    if decoder is None:
        raise ValueError(f'{what}: sigma not given and the head has no decoder codec to take '
                         'it from')
    return decoder


@MODELS.register_module()
class HeatmapShapeLoss(nn.Module):
    """Mean squared difference between each heatmap and a Gaussian of its own
    height (its maximum, at least 0) at its soft-argmax position; 0 for a
    heatmap that is such a Gaussian.

    Args:
        sigma: the Gaussian's sigma in heatmap pixels; ``None``: the head
            codec's (the training targets').
        loss_weight: overall factor.
    """

    def __init__(self, sigma: float | None = None, loss_weight: float = 1.0) -> None:
        super().__init__()
        if sigma is not None and sigma <= 0:
            raise ValueError(f'HeatmapShapeLoss: sigma must be > 0, got {sigma}')
        self.sigma = None if sigma is None else float(sigma)
        self.loss_weight = float(loss_weight)

    def forward(self, heatmaps: torch.Tensor, peaks: torch.Tensor,
                sigma: float | None = None) -> torch.Tensor:
        """``heatmaps`` (M, K, H, W), ``peaks`` (M, K, 2) heatmap pixels."""
        sigma = self.sigma if sigma is None else float(sigma)
        if sigma is None:
            raise ValueError('HeatmapShapeLoss needs sigma')
        heatmaps = heatmaps.float()
        height = heatmaps.detach().flatten(2).max(-1).values.clamp(min=0)      # (M, K)
        target = gaussian_heatmaps(peaks.detach(), heatmaps.shape[:1:-1], sigma)
        target = target * height[..., None, None]
        return per_keypoint_mse(heatmaps, target).mean() * self.loss_weight

    def compute(self, batch: UnlabelledBatch) -> torch.Tensor:
        if not isinstance(batch.outputs, torch.Tensor):
            raise TypeError('HeatmapShapeLoss needs a heatmap head; use SimCCShapeLoss for '
                            'SimCC vectors')
        sigma = self.sigma
        if sigma is None:
            sigma = float(_decoder(batch, 'HeatmapShapeLoss').sigma)
        return self.forward(batch.outputs, batch.peaks, sigma)


@MODELS.register_module()
class SimCCShapeLoss(nn.Module):
    """KL divergence of each SimCC vector's distribution from the label the
    head would be trained with for a keypoint at its soft-argmax bin; 0 for a
    vector whose distribution is that label.

    The label is built as the head's :class:`KLDiscretLoss` builds its
    targets: a peak-1 Gaussian over the bins, turned into a distribution by
    ``softmax(label x label_beta)`` (``label_softmax``) or by its sum. The
    vector's distribution is ``softmax(beta x vector)``. The loss is the
    bin-averaged KL per vector, averaged over frames and keypoints and summed
    over the two axes, times ``loss_weight``.

    Args:
        sigma: (x, y) or one sigma in bins; ``None``: the head codec's.
        beta, label_beta, label_softmax: ``None``: the head loss's.
        loss_weight: overall factor.
    """

    def __init__(self, sigma: float | Sequence[float] | None = None, beta: float | None = None,
                 label_beta: float | None = None, label_softmax: bool | None = None,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.sigma = None if sigma is None else _pair(sigma)
        self.beta, self.label_beta, self.label_softmax = beta, label_beta, label_softmax
        self.loss_weight = float(loss_weight)

    def forward(self, simcc: Sequence[torch.Tensor], peaks: torch.Tensor,
                sigma: float | Sequence[float], beta: float = 10.0, label_beta: float = 10.0,
                label_softmax: bool = True) -> torch.Tensor:
        """``simcc`` ``(x (M, K, Wx), y (M, K, Wy))``, ``peaks`` (M, K, 2) bins."""
        kl = KLDiscretLoss(beta=beta, label_softmax=label_softmax, label_beta=label_beta)
        total = peaks.new_zeros(())
        for axis, (vec, s) in enumerate(zip(simcc, _pair(sigma))):
            label = gaussian_vectors(peaks[..., axis].detach(), vec.shape[-1], s)
            if not label_softmax:
                label = label / label.sum(-1, keepdim=True)
            total = total + kl.per_keypoint(vec.float(), label).mean()
        return total * self.loss_weight

    def compute(self, batch: UnlabelledBatch) -> torch.Tensor:
        if isinstance(batch.outputs, torch.Tensor):
            raise TypeError('SimCCShapeLoss needs a SimCC head; use HeatmapShapeLoss for '
                            'heatmaps')
        head_loss = getattr(batch.head, 'loss_module', None)
        sigma = self.sigma or _decoder(batch, 'SimCCShapeLoss').sigma
        beta = self.beta if self.beta is not None else batch.beta

        def from_head(value, name: str, default):
            return value if value is not None else getattr(head_loss, name, default)

        return self.forward(batch.outputs, batch.peaks, sigma, beta,
                            from_head(self.label_beta, 'label_beta', 10.0),
                            bool(from_head(self.label_softmax, 'label_softmax', True)))


def _pair(value: float | Sequence[float]) -> tuple[float, float]:
    if isinstance(value, (int, float)):
        value = (value, value)
    x, y = (float(v) for v in value)
    if not (x > 0 and y > 0):
        raise ValueError(f'sigma must be > 0, got {(x, y)}')
    return x, y
