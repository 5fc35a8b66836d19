"""The instance score that ranks the poses of an image: box score x mean of
the confident keypoint scores. Evaluation ranks predictions for COCO AP
with it (:mod:`customkpt.evaluation`) and the video path picks which of two
duplicate poses to keep (:mod:`customkpt.apis.video`)."""
from __future__ import annotations

import numpy as np

__all__ = ['SCORE_MODES', 'rescore_instances']

SCORE_MODES = ('bbox_keypoint', 'bbox', 'keypoint')


def rescore_instances(keypoint_scores: np.ndarray, bbox_scores: np.ndarray | None = None,
                      mode: str = 'bbox_keypoint', keypoint_score_thr: float = 0.2) -> np.ndarray:
    """Instance scores that rank the poses of an image (for COCO AP, for the
    pose NMS of video).

    The keypoint part is the mean of the keypoint scores above
    ``keypoint_score_thr`` (0 when none is above it).

    Args:
        keypoint_scores: (N, K) keypoint confidences.
        bbox_scores: (N,) box (detector) scores; ones when None.
        mode: ``'bbox_keypoint'`` (box score x keypoint part), ``'bbox'``
            (box score only) or ``'keypoint'`` (keypoint part only).
        keypoint_score_thr: confidence above which a keypoint counts.

    Returns:
        (N,) float64 instance scores.
    """
    kp = np.asarray(keypoint_scores, dtype=np.float64)
    kp = kp.reshape(kp.shape[0], -1) if kp.ndim != 2 else kp
    box = (np.ones(kp.shape[0]) if bbox_scores is None else
           np.asarray(bbox_scores, dtype=np.float64).reshape(-1))
    if mode not in SCORE_MODES:
        raise ValueError(f'score mode must be one of {SCORE_MODES}, got {mode!r}')
    if mode == 'bbox':
        return box.copy()
    valid = kp > keypoint_score_thr
    count = valid.sum(axis=1)
    kpt_part = np.where(count > 0, (kp * valid).sum(axis=1) / np.maximum(count, 1), 0.0)
    return kpt_part if mode == 'keypoint' else box * kpt_part
