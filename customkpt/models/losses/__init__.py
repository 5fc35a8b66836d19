"""Losses: heatmap MSE (with online hard keypoint mining) and the KL
divergence of SimCC vectors."""
from .heatmap import KeypointMSELoss, KeypointOHKMMSELoss, per_keypoint_mse
from .simcc import KLDiscretLoss

__all__ = ['KLDiscretLoss', 'KeypointMSELoss', 'KeypointOHKMMSELoss', 'per_keypoint_mse']
