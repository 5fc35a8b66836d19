"""Heatmap losses with per-keypoint target weights.

Shapes: predictions and targets (B, K, H, W); weights (B, K). A keypoint's
loss is the mean squared error over its H x W pixels, multiplied by its
weight, so points with weight 0 (unlabelled, outside the crop) contribute
nothing.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from customkpt.registry import MODELS

__all__ = ['KeypointMSELoss', 'KeypointOHKMMSELoss', 'per_keypoint_mse']


def per_keypoint_mse(pred: torch.Tensor, target: torch.Tensor,
                     weights: torch.Tensor | None = None) -> torch.Tensor:
    """(B, K) mean squared error per heatmap, times the (B, K) weights."""
    if pred.shape != target.shape:
        raise ValueError(f'pred {tuple(pred.shape)} and target {tuple(target.shape)} differ')
    loss = ((pred - target) ** 2).flatten(2).mean(-1)
    if weights is None:
        return loss
    weights = weights.to(loss).reshape(loss.shape)
    return loss * weights


@MODELS.register_module()
class KeypointMSELoss(nn.Module):
    """Mean squared heatmap error averaged over samples, keypoints and pixels.

    Args:
        use_target_weight: multiply each keypoint's loss by its weight.
        loss_weight: overall factor.
    """

    def __init__(self, use_target_weight: bool = True, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.use_target_weight = use_target_weight
        self.loss_weight = loss_weight

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                weights: torch.Tensor | None = None) -> torch.Tensor:
        """Args: pred, target (B, K, H, W); weights (B, K) or None."""
        w = weights if self.use_target_weight else None
        return per_keypoint_mse(pred, target, w).mean() * self.loss_weight


@MODELS.register_module()
class KeypointOHKMMSELoss(nn.Module):
    """MSE with online hard keypoint mining: per sample, the mean of the
    ``topk`` largest (weighted) keypoint losses, averaged over the batch.

    Args:
        use_target_weight: multiply each keypoint's loss by its weight first.
        topk: hard keypoints kept per sample (all of them when K < topk).
        loss_weight: overall factor.
    """

    def __init__(self, use_target_weight: bool = True, topk: int = 8,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if topk <= 0:
            raise ValueError(f'topk must be positive, got {topk}')
        self.use_target_weight = use_target_weight
        self.topk = topk
        self.loss_weight = loss_weight

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                weights: torch.Tensor | None = None) -> torch.Tensor:
        """Args: pred, target (B, K, H, W); weights (B, K) or None."""
        w = weights if self.use_target_weight else None
        per_kpt = per_keypoint_mse(pred, target, w)
        k = min(self.topk, per_kpt.shape[1])
        return per_kpt.topk(k, dim=1).values.mean() * self.loss_weight
