"""Losses of the one-stage centre model, on dense (B, C, H, W) maps.

* :func:`centre_focal_loss`: CenterNet's variant of the focal loss on the
  class heatmaps (and on the keypoint heatmaps) against Gaussian targets
  (``alpha`` 2, ``beta`` 4), normalised by the number of peaks (centres,
  labelled points);
* :func:`masked_l1`: L1 at the weighted cells (centres), normalised by the
  total weight, i.e. a mean over the regressed values;
* :func:`oks_loss`: ``1 - OKS`` per labelled keypoint at the centre cells,
  with COCO's per-point sigmas and the box area as the object scale;
* :func:`masked_bce`: binary cross-entropy of logits at the centre cells.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

__all__ = ['centre_focal_loss', 'masked_l1', 'oks_loss', 'masked_bce']


def centre_focal_loss(logits: torch.Tensor, target: torch.Tensor, alpha: float = 2.0,
                      beta: float = 4.0) -> torch.Tensor:
    """Penalty-reduced pixel-wise focal loss (CenterNet).

    With ``p = sigmoid(logits)`` and ``y`` the target: at centres (``y == 1``)
    ``-(1 - p)^alpha log p``, elsewhere ``-(1 - y)^beta p^alpha log(1 - p)``;
    the sum over all cells divided by the number of centres (at least 1).

    Args:
        logits: (B, C, H, W) raw heatmap outputs.
        target: (B, C, H, W) Gaussian targets in [0, 1], exactly 1 at centres.
    """
    pos = target >= 1.0
    log_p = F.logsigmoid(logits)
    log_not_p = F.logsigmoid(-logits)
    prob = log_p.exp()
    pos_loss = -((1 - prob) ** alpha) * log_p
    neg_loss = -((1 - target) ** beta) * (prob ** alpha) * log_not_p
    total = torch.where(pos, pos_loss, neg_loss).sum()
    return total / pos.sum().clamp(min=1)


def masked_l1(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Sum of ``weight * |pred - target|`` over the total weight (at least 1).

    Args:
        pred, target: (B, C, H, W).
        weight: (B, C, H, W), or (B, 1, H, W) shared by the channels.
    """
    weight = weight.expand_as(pred)
    return (weight * (pred - target).abs()).sum() / weight.sum().clamp(min=1)


def oks_loss(pred: torch.Tensor, target: torch.Tensor, visible: torch.Tensor,
             box_size: torch.Tensor, sigmas: Sequence[float]) -> torch.Tensor:
    """Mean of ``1 - exp(-d^2 / (2 A (2 sigma_k)^2))`` over the labelled
    points of the centre cells: ``d`` the point's error and ``A = w h`` the
    target box area (both in grid cells, so the loss does not depend on the
    stride).

    Args:
        pred, target: (B, 2K, H, W) keypoint offsets (x, y per point).
        visible: (B, K, H, W) weights (the visibility at centre cells).
        box_size: (B, 2, H, W) target (w, h).
        sigmas: (K,) OKS sigmas.
    """
    b, k2, h, w = pred.shape
    d2 = ((pred - target) ** 2).reshape(b, k2 // 2, 2, h, w).sum(2)
    area = (box_size[:, :1] * box_size[:, 1:]).clamp(min=1e-6)
    kappa = (2 * torch.as_tensor(sigmas, dtype=pred.dtype, device=pred.device)) ** 2
    similarity = torch.exp(-d2 / (2 * area * kappa.reshape(1, -1, 1, 1)))
    return (visible * (1 - similarity)).sum() / visible.sum().clamp(min=1)


def masked_bce(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor
               ) -> torch.Tensor:
    """Binary cross-entropy of (B, C, H, W) logits at the weighted cells
    ((B, 1, H, W) weights shared by the channels), a mean over them."""
    weight = weight.expand_as(logits)
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction='none')
    return (weight * loss).sum() / weight.sum().clamp(min=1)
