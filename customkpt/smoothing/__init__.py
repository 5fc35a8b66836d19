"""Temporal smoothing of keypoints: filters, per-track smoothing, pose
tracking and the test-time smoothing hook (see docs/smoothing.md).

Importing this package registers the filters in ``KEYPOINT_FILTERS`` and
``KeypointSmoothingHook`` in ``HOOKS``.
"""
from .filters import (EMAFilter, GaussianFilter, KeypointFilter, OfflineKeypointFilter,
                      OneEuroFilter, OnlineKeypointFilter, SavitzkyGolayFilter)
from .hook import KeypointSmoothingHook, SmoothingEvaluator
from .smoother import DEFAULT_FILTER, KeypointSmoother
from .tracking import PoseTracker, greedy_assignment, hungarian_assignment

__all__ = [
    'KeypointFilter', 'OnlineKeypointFilter', 'OfflineKeypointFilter', 'OneEuroFilter',
    'EMAFilter', 'SavitzkyGolayFilter', 'GaussianFilter', 'KeypointSmoother', 'DEFAULT_FILTER',
    'PoseTracker', 'greedy_assignment', 'hungarian_assignment',
    'KeypointSmoothingHook', 'SmoothingEvaluator',
]
