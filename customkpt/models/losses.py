"""Heatmap losses with per-keypoint target weights."""
from __future__ import annotations

import torch
import torch.nn as nn

from customkpt.registry import MODELS


def _per_keypoint_mse(pred: torch.Tensor, target: torch.Tensor,
                      weights: torch.Tensor | None) -> torch.Tensor:
    """(B, K) mean squared error per heatmap, times the (B, K) weights."""
    loss = ((pred - target) ** 2).flatten(2).mean(-1)
    return loss if weights is None else loss * weights


@MODELS.register_module()
class KeypointMSELoss(nn.Module):
    """Mean squared heatmap error; keypoints with weight 0 (unlabelled,
    outside the crop) contribute nothing.

    Args:
        use_target_weight: multiply by the per-keypoint weights.
        loss_weight: overall factor.
    """

    def __init__(self, use_target_weight: bool = True, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.use_target_weight = use_target_weight
        self.loss_weight = loss_weight

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                weights: torch.Tensor | None = None) -> torch.Tensor:
        """pred, target: (B, K, H, W); weights: (B, K)."""
        w = weights if self.use_target_weight else None
        return _per_keypoint_mse(pred, target, w).mean() * self.loss_weight


@MODELS.register_module()
class KeypointOHKMMSELoss(nn.Module):
    """MSE with online hard keypoint mining: per sample, the mean of the
    ``topk`` largest keypoint losses."""

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
        w = weights if self.use_target_weight else None
        per_kpt = _per_keypoint_mse(pred, target, w)
        k = min(self.topk, per_kpt.shape[1])
        return per_kpt.topk(k, dim=1).values.mean() * self.loss_weight
