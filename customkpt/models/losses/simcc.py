"""KL divergence between predicted and target SimCC vectors.

Shapes: predictions and labels (B, K, Wx) for x and (B, K, Wy) for y;
weights (B, K).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from customkpt.registry import MODELS

__all__ = ['KLDiscretLoss']


@MODELS.register_module()
class KLDiscretLoss(nn.Module):
    """KL divergence of softmax distributions over the bins, per axis.

    For each keypoint and axis: ``p = softmax(label * label_beta)`` (or the
    label itself without ``label_softmax``), ``log q = log_softmax(pred *
    beta)``, and the loss is the mean over bins of ``p * (log p - log q)``
    (0 where ``p`` is 0). It is multiplied by the keypoint's weight, summed
    over the samples, keypoints and both axes and divided by K, as the
    published recipe does: the value grows with the batch size, and the
    recipe's learning rates are tuned with it that way.

    Args:
        beta: temperature factor on the predictions.
        label_softmax: turn the labels into a distribution by softmax.
        label_beta: temperature factor on the labels for that softmax.
        use_target_weight: multiply by the (B, K) keypoint weights.
        loss_weight: overall factor.
    """

    def __init__(self, beta: float = 1.0, label_softmax: bool = False,
                 label_beta: float = 10.0, use_target_weight: bool = True,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.beta = float(beta)
        self.label_softmax = bool(label_softmax)
        self.label_beta = float(label_beta)
        self.use_target_weight = bool(use_target_weight)
        self.loss_weight = float(loss_weight)

    def per_keypoint(self, pred: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """(B, K, W) predictions and labels -> (B, K) bin-averaged KL."""
        if pred.shape != label.shape:
            raise ValueError(f'pred {tuple(pred.shape)} and label {tuple(label.shape)} differ')
        log_q = F.log_softmax(pred * self.beta, dim=-1)
        p = F.softmax(label * self.label_beta, dim=-1) if self.label_softmax else label
        return F.kl_div(log_q, p, reduction='none').mean(dim=-1)

    def forward(self, pred_simcc: Sequence[torch.Tensor], gt_simcc: Sequence[torch.Tensor],
                target_weight: torch.Tensor | None = None) -> torch.Tensor:
        """Args: ``pred_simcc`` and ``gt_simcc`` as (x (B, K, Wx), y (B, K,
        Wy)) pairs; ``target_weight`` (B, K) or None."""
        if len(pred_simcc) != len(gt_simcc):
            raise ValueError('pred_simcc and gt_simcc need the same number of axes')
        num_keypoints = pred_simcc[0].shape[1]
        total = pred_simcc[0].new_zeros(())
        for pred, label in zip(pred_simcc, gt_simcc):
            loss = self.per_keypoint(pred, label.to(pred))
            if self.use_target_weight and target_weight is not None:
                loss = loss * target_weight.to(loss).reshape(loss.shape)
            total = total + loss.sum()
        return total / num_keypoints * self.loss_weight
