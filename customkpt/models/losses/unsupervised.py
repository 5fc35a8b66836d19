"""Losses on the predictions for unlabelled video frames (semi-supervised
training, docs/semi_supervised.md).

The predictions are decoded differentiably (:func:`soft_argmax_heatmaps`,
:func:`soft_argmax_vectors`): a softmax of ``beta x`` the head output inside
a window around its maximum, and the expected position under it. A loss sees
one :class:`UnlabelledBatch` (the ``M = C x T`` frames of ``C`` clips of
``T`` consecutive frames) through its ``compute(batch)`` method and returns a
scalar; its ``forward`` takes plain tensors.

* :class:`TemporalDifferenceLoss`: a keypoint's move from one frame to the
  next beyond a dead zone, in image pixels.
* :class:`PoseSubspaceLoss`: how far the box-normalised pose lies off a PCA
  subspace of the labelled poses (:mod:`customkpt.core.pose_subspace`).
* :class:`~customkpt.models.losses.unsupervised_shape.HeatmapShapeLoss` and
  :class:`~customkpt.models.losses.unsupervised_shape.SimCCShapeLoss`: how
  far each heatmap / SimCC vector is from one clean peak at its own position.
* :class:`~customkpt.models.losses.unsupervised_flip.FlipConsistencyLoss`:
  how far the outputs for a frame and for its mirror image disagree.
* :class:`~customkpt.models.losses.unsupervised_pseudo.AugmentedPseudoLabelLoss`:
  the head's loss on randomly transformed frames against the model's own
  confident predictions for the frames, transformed alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from customkpt.registry import MODELS

__all__ = ['UnlabelledBatch', 'soft_argmax_heatmaps', 'soft_argmax_vectors',
           'TemporalDifferenceLoss', 'PoseSubspaceLoss']


@dataclass
class UnlabelledBatch:
    """What the unsupervised losses read, for ``M = C x T`` frames.

    Attributes:
        outputs: the head outputs, (M, K, H, W) heatmaps or SimCC vectors
            ``(x (M, K, Wx), y (M, K, Wy))``.
        peaks: (M, K, 2) the soft-argmax positions in output units (heatmap
            pixels, or SimCC bins), differentiable.
        keypoints: (M, K, 2) the same positions in image pixels.
        boxes: (M, 4) xyxy image-pixel box of each frame's crop (no grad).
        clip_length: T; frames ``c * T .. c * T + T - 1`` are clip ``c``, in
            time order.
        head: the model's head (its ``decoder`` codec and ``loss_module``
            give defaults such as the Gaussian's sigma).
        beta: the softmax factor the peaks were decoded with.
        flipped_outputs: the head outputs for the horizontally mirrored
            frames, mirrored back (left and right swapped), shaped as
            ``outputs``; only made when a loss has ``needs_flipped``.
    """

    outputs: Any
    peaks: torch.Tensor
    keypoints: torch.Tensor
    boxes: torch.Tensor
    clip_length: int
    head: Any = None
    beta: float = 1.0
    flipped_outputs: Any = None

    @property
    def clip_keypoints(self) -> torch.Tensor:
        """(C, T, K, 2) image-pixel keypoints grouped by clip."""
        m, k, _ = self.keypoints.shape
        if m % self.clip_length:
            raise ValueError(f'{m} unlabelled frames are not whole clips of '
                             f'{self.clip_length}')
        return self.keypoints.reshape(m // self.clip_length, self.clip_length, k, 2)


def _windowed_softmax(logits: torch.Tensor, positions: torch.Tensor,
                      window: float | None) -> torch.Tensor:
    """Softmax over the last dim of (B, K, L) ``logits``, restricted to the
    places within ``window`` of the maximum; ``positions`` (L, D) are their
    coordinates."""
    if window is not None:
        top = positions[logits.argmax(-1)]                       # (B, K, D)
        dist2 = ((positions[None, None] - top[..., None, :]) ** 2).sum(-1)
        logits = logits.masked_fill(dist2 > float(window) ** 2, float('-inf'))
    return F.softmax(logits, dim=-1)


def soft_argmax_heatmaps(heatmaps: torch.Tensor, beta: float = 10.0,
                         window: float | None = None) -> torch.Tensor:
    """Expected peak positions of (B, K, H, W) heatmaps.

    Args:
        heatmaps: the head output.
        beta: softmax factor on the heatmap values.
        window: only pixels within this distance (heatmap pixels) of each
            heatmap's maximum count; ``None``: the whole heatmap.

    Returns:
        (B, K, 2) float32 (x, y) in heatmap pixels (pixel ``i`` at ``i``).
    """
    b, k, h, w = heatmaps.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=heatmaps.device, dtype=torch.float32),
                            torch.arange(w, device=heatmaps.device, dtype=torch.float32),
                            indexing='ij')
    positions = torch.stack([xs.reshape(-1), ys.reshape(-1)], -1)   # (H*W, 2)
    prob = _windowed_softmax(heatmaps.float().reshape(b, k, -1) * beta, positions, window)
    return prob @ positions


def soft_argmax_vectors(simcc_x: torch.Tensor, simcc_y: torch.Tensor, beta: float = 10.0,
                        window: float | None = None) -> torch.Tensor:
    """Expected bins of SimCC vectors ``(x (B, K, Wx), y (B, K, Wy))``.

    Args:
        beta: softmax factor (the SimCC loss's ``beta`` makes the model's own
            distribution).
        window: only bins within this many of each vector's maximum count.

    Returns:
        (B, K, 2) float32 (x, y) in bins.
    """
    out = []
    for vec in (simcc_x, simcc_y):
        bins = torch.arange(vec.shape[-1], device=vec.device, dtype=torch.float32)[:, None]
        prob = _windowed_softmax(vec.float() * beta, bins, window)
        out.append(prob @ bins[:, 0])
    return torch.stack(out, -1)


@MODELS.register_module()
class TemporalDifferenceLoss(nn.Module):
    """Penalise keypoints that jump between consecutive frames.

    For each clip, keypoint and pair of consecutive frames, the move ``d``
    (image pixels) costs ``max(d - dead_zone, 0)``; the loss is the mean over
    clips, pairs and keypoints, times ``loss_weight``. Moves within the dead
    zone (what the subject really moves in one frame step) cost nothing.

    Args:
        dead_zone: free move in image pixels.
        loss_weight: overall factor.
    """

    def __init__(self, dead_zone: float = 0.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        if dead_zone < 0:
            raise ValueError(f'TemporalDifferenceLoss: dead_zone must be >= 0, got {dead_zone}')
        self.dead_zone = float(dead_zone)
        self.loss_weight = float(loss_weight)

    def forward(self, keypoints: torch.Tensor) -> torch.Tensor:
        """``keypoints`` (C, T, K, 2) image pixels, frames in time order."""
        if keypoints.ndim != 4 or keypoints.shape[-1] != 2:
            raise ValueError(f'keypoints must be (C, T, K, 2), got {tuple(keypoints.shape)}')
        if keypoints.shape[1] < 2:
            return keypoints.sum() * 0.0
        # vector_norm's gradient at 0 is 0 (a still point), not NaN.
        move = torch.linalg.vector_norm(keypoints[:, 1:] - keypoints[:, :-1], dim=-1)
        return F.relu(move - self.dead_zone).mean() * self.loss_weight

    def compute(self, batch: UnlabelledBatch) -> torch.Tensor:
        return self.forward(batch.clip_keypoints)


def _pose_frame(keypoints: torch.Tensor, boxes: torch.Tensor | None, min_size: float
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Centres (N, 2) and longer sides (N,) of the boxes, or of the keypoints'
    extent when ``boxes`` is None; sides at least ``min_size``."""
    if boxes is None:
        lo, hi = keypoints.min(1).values, keypoints.max(1).values
    else:
        boxes = boxes.to(keypoints).reshape(-1, 4)
        lo, hi = boxes[:, :2], boxes[:, 2:]
    side = (hi - lo).max(-1).values.clamp(min=min_size)
    return (lo + hi) / 2, side


@MODELS.register_module()
class PoseSubspaceLoss(nn.Module):
    """Distance of each predicted pose from the subspace of plausible poses.

    The pose is normalised as :func:`customkpt.core.pose_subspace.normalise_poses`
    does (origin at the box centre, divided by the longer box side) and
    flattened to ``D = 2K`` numbers; ``d = u - mean`` loses its projection
    onto the ``components`` (orthonormal rows), and the residual's norm is
    the distance (:meth:`PoseSubspace.distance` of a complete pose). The loss
    is the mean of ``max(distance - epsilon, 0)`` times ``loss_weight``.

    The subspace is fitted on the labelled training poses before training
    (``SemiSupervisedHook`` calls :meth:`set_subspace`); it is not part of the
    state dict, so checkpoints load into models with or without this loss.

    Args:
        normalise: ``'keypoints'`` (default): the box is the keypoints' own
            extent, for labelled and predicted poses alike, so frames cropped
            from a loose box (the whole frame) compare with tightly boxed
            labels; ``'box'``: the dataset boxes and each frame's crop box.
        variance: share of the labelled poses' variance the subspace keeps.
        epsilon: free distance (box-normalised units).
        min_size: smallest box side in pixels (a collapsed prediction).
        loss_weight: overall factor.
    """

    NORMALISE = ('keypoints', 'box')

    def __init__(self, normalise: str = 'keypoints', variance: float = 0.99,
                 epsilon: float = 0.0, min_size: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        if normalise not in self.NORMALISE:
            raise ValueError(f'PoseSubspaceLoss: normalise must be one of {self.NORMALISE}, '
                             f'got {normalise!r}')
        if not 0 < variance <= 1:
            raise ValueError(f'PoseSubspaceLoss: variance must be in (0, 1], got {variance}')
        self.normalise = normalise
        self.variance = float(variance)
        self.epsilon = float(epsilon)
        self.min_size = float(min_size)
        self.loss_weight = float(loss_weight)
        # Plain tensors, not buffers: no state-dict keys, and nothing for an
        # EMA copy of the model (made before the fit) to average.
        self.mean = torch.zeros(0)
        self.components = torch.zeros(0, 0)

    @property
    def fitted(self) -> bool:
        return self.mean.numel() > 0

    def set_subspace(self, mean: np.ndarray | torch.Tensor,
                     components: np.ndarray | torch.Tensor) -> None:
        """Use ``mean`` (D,) and orthonormal ``components`` (C, D), as
        :func:`customkpt.core.pose_subspace.fit` returns them."""
        self.mean = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
        self.components = torch.as_tensor(components, dtype=torch.float32).reshape(
            -1, self.mean.numel())

    def distance(self, keypoints: torch.Tensor, boxes: torch.Tensor | None = None
                 ) -> torch.Tensor:
        """Distances (N,) of ``keypoints`` (N, K, 2) image pixels; ``boxes``
        (N, 4) xyxy are used with ``normalise='box'``."""
        if not self.fitted:
            raise RuntimeError('PoseSubspaceLoss has no subspace yet: SemiSupervisedHook fits '
                               'it on the labelled poses before training (or call '
                               'set_subspace)')
        n, k, _ = keypoints.shape
        if 2 * k != self.mean.numel():
            raise ValueError(f'the subspace is for {self.mean.numel() // 2} keypoints, the '
                             f'predictions have {k}')
        centre, side = _pose_frame(keypoints.float(),
                                   boxes if self.normalise == 'box' else None, self.min_size)
        d = ((keypoints.float() - centre[:, None]) / side[:, None, None]).reshape(n, -1)
        d = d - self.mean.to(d.device)
        components = self.components.to(d.device)
        residual = d - (d @ components.T) @ components
        return torch.linalg.vector_norm(residual, dim=-1)

    def forward(self, keypoints: torch.Tensor, boxes: torch.Tensor | None = None
                ) -> torch.Tensor:
        dist = self.distance(keypoints, boxes)
        return F.relu(dist - self.epsilon).mean() * self.loss_weight

    def compute(self, batch: UnlabelledBatch) -> torch.Tensor:
        return self.forward(batch.keypoints, batch.boxes)
