"""Flip consistency on unlabelled frames: a model that sees a frame and its
mirror image should predict the same keypoints (left and right swapped).

:class:`~customkpt.models.semi_supervised.UnlabelledLosses` runs the
horizontally mirrored crops of the unlabelled frames through the model in
the same backbone pass as the others when a loss asks for them
(``needs_flipped = True``), undoes the mirror on the outputs
(:func:`customkpt.core.flip.flip_heatmaps` with the model's
``shift_heatmap``, :func:`~customkpt.core.flip.flip_vectors`) and hands them
over as :attr:`UnlabelledBatch.flipped_outputs`. The flip test averages the
two views at inference; this loss trains them to agree, on frames nobody
labelled.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from customkpt.registry import MODELS

from .heatmap import per_keypoint_mse
from .unsupervised import UnlabelledBatch

__all__ = ['FlipConsistencyLoss']


@MODELS.register_module()
class FlipConsistencyLoss(nn.Module):
    """Disagreement between the outputs for a frame and for its mirror image.

    Heatmaps (M, K, H, W): the mean squared difference of the two views'
    heatmaps, averaged over frames, keypoints and pixels (the scale of the
    labelled ``KeypointMSELoss``). SimCC ``(x (M, K, Wx), y (M, K, Wy))``:
    per axis the bin-averaged KL divergence of each view's distribution
    ``softmax(beta x vector)`` from the other's, taken as a constant (each
    view is pulled towards the other), the two directions averaged, summed
    over the axes and averaged over frames and keypoints. Both views get
    gradients; the loss is 0 when they agree. Times ``loss_weight``.

    Args:
        beta: SimCC softmax factor; ``None``: the one the batch was decoded
            with (the head loss's) in :meth:`compute`, 1 in :meth:`forward`.
        loss_weight: overall factor.
    """

    #: UnlabelledLosses runs the mirrored crops for this loss.
    needs_flipped = True

    def __init__(self, beta: float | None = None, loss_weight: float = 1.0) -> None:
        super().__init__()
        if beta is not None and beta <= 0:
            raise ValueError(f'FlipConsistencyLoss: beta must be > 0, got {beta}')
        self.beta = None if beta is None else float(beta)
        self.loss_weight = float(loss_weight)

    def forward(self, outputs, flipped_outputs, beta: float | None = None) -> torch.Tensor:
        """``outputs`` and ``flipped_outputs`` (already mirrored back), both
        heatmaps or both SimCC pairs of the same shapes; ``beta``: the SimCC
        softmax factor (``None``: the constructor's, else 1)."""
        if beta is None:
            beta = self.beta if self.beta is not None else 1.0
        if isinstance(outputs, torch.Tensor) != isinstance(flipped_outputs, torch.Tensor):
            raise TypeError('outputs and flipped_outputs must both be heatmaps or both SimCC '
                            'vector pairs')
        if isinstance(outputs, torch.Tensor):
            return per_keypoint_mse(outputs.float(), flipped_outputs.float()).mean() \
                * self.loss_weight
        total = outputs[0].new_zeros((), dtype=torch.float32)
        for a, b in zip(outputs, flipped_outputs):
            if a.shape != b.shape:
                raise ValueError(f'SimCC vectors {tuple(a.shape)} and {tuple(b.shape)} differ')
            log_a = F.log_softmax(a.float() * beta, dim=-1)
            log_b = F.log_softmax(b.float() * beta, dim=-1)
            kl_ab = F.kl_div(log_b, log_a.detach(), reduction='none', log_target=True)
            kl_ba = F.kl_div(log_a, log_b.detach(), reduction='none', log_target=True)
            total = total + 0.5 * (kl_ab + kl_ba).mean(-1).mean()
        return total * self.loss_weight

    def compute(self, batch: UnlabelledBatch) -> torch.Tensor:
        if batch.flipped_outputs is None:
            raise ValueError('FlipConsistencyLoss needs the outputs of the mirrored frames '
                             '(UnlabelledLosses makes them for losses with needs_flipped)')
        beta = self.beta if self.beta is not None else batch.beta
        return self.forward(batch.outputs, batch.flipped_outputs, beta)
