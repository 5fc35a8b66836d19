"""Losses: heatmap MSE (with online hard keypoint mining), the KL
divergence of SimCC vectors, and the unsupervised losses on unlabelled video
frames (temporal difference, pose subspace, heatmap / SimCC shape, flip
consistency, pseudo-labels across a random transform)."""
from .heatmap import KeypointMSELoss, KeypointOHKMMSELoss, per_keypoint_mse
from .simcc import KLDiscretLoss
from .unsupervised import (PoseSubspaceLoss, TemporalDifferenceLoss, UnlabelledBatch,
                           soft_argmax_heatmaps, soft_argmax_vectors)
from .unsupervised_flip import FlipConsistencyLoss
from .unsupervised_pseudo import AugmentedPseudoLabelLoss
from .unsupervised_shape import HeatmapShapeLoss, SimCCShapeLoss

__all__ = ['KLDiscretLoss', 'KeypointMSELoss', 'KeypointOHKMMSELoss', 'per_keypoint_mse',
           'TemporalDifferenceLoss', 'PoseSubspaceLoss', 'HeatmapShapeLoss', 'SimCCShapeLoss',
           'FlipConsistencyLoss', 'AugmentedPseudoLabelLoss', 'UnlabelledBatch',
           'soft_argmax_heatmaps', 'soft_argmax_vectors']
