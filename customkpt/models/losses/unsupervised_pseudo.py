"""Pseudo-labels across a random transform, on unlabelled frames.

The model's confident predictions for an unlabelled crop (the clean view,
taken as constants) are moved by a random rotation, scaling and shift and
become the training targets, encoded by the head's own codec, for the same
crop warped by that transform (the hard view); the head's own labelled loss
compares them. A model that knows where a point is in the clean view must
find it again after the transform; points it is unsure of
(score below ``score_thr``) or that the transform moves out of the crop
teach nothing.

:class:`~customkpt.models.semi_supervised.UnlabelledLosses` asks a loss with
``make_view`` for the warped crops, runs them through the backbone in the
same pass as the others, and hands their head outputs and the transforms to
``compute``.

Crop pixels follow the pipeline's convention: pixel ``i``'s centre is at
coordinate ``i``. A transform is a float64 (M, 2, 3) array ``A`` with
``view = A[:, :, :2] @ crop + A[:, :, 2]``.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from customkpt.registry import MODELS

from .unsupervised import UnlabelledBatch

__all__ = ['AugmentedPseudoLabelLoss', 'view_affines', 'warp_crops', 'move_points']


def view_affines(angles: np.ndarray, scales: np.ndarray, shifts: np.ndarray,
                 size: Sequence[int]) -> np.ndarray:
    """(M, 2, 3) crop -> view transforms: rotate by ``angles`` (M,) degrees
    (counter-clockwise on screen) and scale by ``scales`` (M,) about the crop
    centre, then shift by ``shifts`` (M, 2) pixels; ``size`` is the crop
    (w, h)."""
    centre = (np.asarray(size, np.float64) - 1.0) / 2.0
    rad = np.deg2rad(np.asarray(angles, np.float64))
    cos, sin = np.cos(rad) * scales, np.sin(rad) * scales
    lin = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)  # (M, 2, 2)
    offset = centre - lin @ centre + np.asarray(shifts, np.float64)
    return np.concatenate([lin, offset[..., None]], -1)


def move_points(points: np.ndarray, affines: np.ndarray) -> np.ndarray:
    """(M, K, 2) crop points -> view points under (M, 2, 3) ``affines``."""
    points = np.asarray(points, np.float64)
    return points @ affines[:, :, :2].transpose(0, 2, 1) + affines[:, None, :, 2]


def warp_crops(crops: torch.Tensor, affines: np.ndarray) -> torch.Tensor:
    """(M, C, H, W) crops seen through (M, 2, 3) crop -> view ``affines``:
    each view pixel samples its crop bilinearly; outside the crop is 0 (the
    mean colour of normalised inputs)."""
    m, _, h, w = crops.shape
    full = np.zeros((m, 3, 3))
    full[:, :2], full[:, 2, 2] = affines, 1.0
    inverse = np.linalg.inv(full)                               # view -> crop pixels
    # pixels <-> align_corners=True grid coordinates: g = 2 p / (size - 1) - 1
    to_grid = np.array([[2.0 / max(w - 1, 1), 0, -1], [0, 2.0 / max(h - 1, 1), -1], [0, 0, 1]])
    theta = to_grid @ inverse @ np.linalg.inv(to_grid)
    theta = torch.as_tensor(theta[:, :2], dtype=crops.dtype, device=crops.device)
    grid = F.affine_grid(theta, list(crops.shape), align_corners=True)
    return F.grid_sample(crops, grid, mode='bilinear', padding_mode='zeros',
                         align_corners=True)


@MODELS.register_module()
class AugmentedPseudoLabelLoss(nn.Module):
    """The head's loss on transformed crops against the model's own
    transformed predictions.

    Args:
        rotate: the largest rotation, degrees (uniform in ``[-rotate, rotate]``).
        scale: (low, high) range of the scale factor (uniform).
        shift: the largest shift per axis, as a share of the crop side.
        score_thr: predictions scoring below this (the codec's decoded
            score) are not used as targets.
        erase_prob: chance per view of one erased rectangle (a quarter to a
            half of each side, filled with 0) that the hard view must see past.
        loss_weight: overall factor on the head loss's value.
    """

    def __init__(self, rotate: float = 30.0, scale: Sequence[float] = (0.75, 1.25),
                 shift: float = 0.1, score_thr: float = 0.5, erase_prob: float = 0.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        low, high = (float(v) for v in scale)
        if not 0 < low <= high:
            raise ValueError(f'AugmentedPseudoLabelLoss: scale must be 0 < low <= high, '
                             f'got {scale}')
        if rotate < 0 or shift < 0 or not 0 <= erase_prob <= 1:
            raise ValueError('AugmentedPseudoLabelLoss: rotate and shift must be >= 0 and '
                             f'erase_prob in [0, 1], got {rotate}, {shift}, {erase_prob}')
        self.rotate, self.scale, self.shift = float(rotate), (low, high), float(shift)
        self.score_thr, self.erase_prob = float(score_thr), float(erase_prob)
        self.loss_weight = float(loss_weight)

    def draw_affines(self, m: int, size: Sequence[int]) -> np.ndarray:
        """(M, 2, 3) random crop -> view transforms (torch's generator, so the
        run's seed fixes them)."""
        u = torch.rand(m, 4, dtype=torch.float64).numpy()
        angles = (2 * u[:, 0] - 1) * self.rotate
        scales = self.scale[0] + u[:, 1] * (self.scale[1] - self.scale[0])
        shifts = (2 * u[:, 2:] - 1) * self.shift * np.asarray(size, np.float64)
        return view_affines(angles, scales, shifts, size)

    def _erase(self, views: torch.Tensor) -> torch.Tensor:
        m, _, h, w = views.shape
        u = torch.rand(m, 5).tolist()
        for i, (p, fw, fh, fx, fy) in enumerate(u):
            if p < self.erase_prob:
                ew, eh = math.ceil(w * (0.25 + fw / 4)), math.ceil(h * (0.25 + fh / 4))
                x0, y0 = int(fx * (w - ew + 1)), int(fy * (h - eh + 1))
                views[i, :, y0:y0 + eh, x0:x0 + ew] = 0
        return views

    def make_view(self, crops: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
        """The hard views of (M, C, H, W) input crops and their transforms."""
        affines = self.draw_affines(crops.shape[0], (crops.shape[-1], crops.shape[-2]))
        views = warp_crops(crops, affines)
        return (self._erase(views) if self.erase_prob > 0 else views), affines

    def targets(self, head: Any, outputs: Any, affines: np.ndarray) -> tuple[Any, np.ndarray]:
        """The codec's targets of the clean view's decoded points, moved into
        the views, and their (M, K) weights (0 below ``score_thr``)."""
        codec = head.decoder
        if isinstance(outputs, torch.Tensor):
            points, scores = codec.batch_decode(outputs.detach().float().cpu().numpy())
        else:
            points, scores = codec.batch_decode(*(v.detach().float().cpu().numpy()
                                                  for v in outputs))
        moved = move_points(points, affines)
        confident = (scores >= self.score_thr).astype(np.float32)
        encoded = [codec.encode(moved[i:i + 1], confident[i:i + 1]) for i in range(len(moved))]
        weights = np.concatenate([e['keypoint_weights'].reshape(1, -1) for e in encoded])
        if isinstance(outputs, torch.Tensor):
            return np.stack([e['heatmaps'] for e in encoded]), weights
        return tuple(np.concatenate([e[key] for e in encoded]) for key in
                     ('keypoint_x_labels', 'keypoint_y_labels')), weights

    def compute(self, batch: UnlabelledBatch, view_outputs: Any,
                affines: np.ndarray) -> torch.Tensor:
        """The head's ``loss_module`` on the views' outputs against
        :meth:`targets` of ``batch.outputs``, times ``loss_weight``."""
        if not getattr(batch.head.loss_module, 'use_target_weight', True):
            raise ValueError('AugmentedPseudoLabelLoss needs a head loss with '
                             'use_target_weight=True (unsure points get weight 0)')
        target, weights = self.targets(batch.head, batch.outputs, affines)
        if isinstance(view_outputs, torch.Tensor):
            pred = ref = view_outputs.float()
            target = torch.as_tensor(target).to(ref)
        else:
            pred = tuple(v.float() for v in view_outputs)
            ref = pred[0]
            target = tuple(torch.as_tensor(t).to(ref) for t in target)
        return batch.head.loss_module(pred, target, torch.as_tensor(weights).to(ref)) \
            * self.loss_weight
