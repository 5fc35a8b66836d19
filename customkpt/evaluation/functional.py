"""Pure-numpy keypoint evaluation functions.

Notation: ``M`` predicted instances, ``N`` instances (ground truth paired
one-to-one with predictions), ``K`` keypoints. Coordinates are in image
pixels.

* :func:`rescore_instances` - the instance score that ranks predictions for
  COCO AP (box score x mean of the confident keypoint scores; from
  :mod:`customkpt.core.instance_scores`).
* :func:`keypoint_errors`, :func:`pck`, :func:`pck_curve`, :func:`auc`,
  :func:`epe` - PCK-family metrics for top-down predictions paired with their
  ground truth.

OKS and OKS-NMS are in :mod:`customkpt.core.boxes` (``oks``, ``oks_nms``).
"""
from __future__ import annotations

import numpy as np

from customkpt.core.instance_scores import SCORE_MODES, rescore_instances


def keypoint_errors(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Euclidean pixel errors of paired keypoints.

    Args:
        pred: (N, K, 2) predictions.
        gt: (N, K, 2) ground truth.
        mask: (N, K) bool, True where the ground truth is labelled.

    Returns:
        (N, K) float64 errors; NaN where ``mask`` is False.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape or pred.ndim != 3 or pred.shape[-1] != 2:
        raise ValueError(f'pred {pred.shape} and gt {gt.shape} must both be (N, K, 2)')
    err = np.linalg.norm(pred - gt, axis=-1)
    return np.where(np.asarray(mask, dtype=bool), err, np.nan)


def _normalised(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray,
                norm: np.ndarray) -> np.ndarray:
    """(N, K) errors divided by the per-instance ``norm`` (N,); NaN where the
    point is unlabelled or the norm is not positive."""
    err = keypoint_errors(pred, gt, mask)
    norm = np.asarray(norm, dtype=np.float64).reshape(-1)
    if norm.shape[0] != err.shape[0]:
        raise ValueError(f'norm has {norm.shape[0]} entries for {err.shape[0]} instances')
    ok = np.isfinite(norm) & (norm > 0)
    with np.errstate(invalid='ignore', divide='ignore'):
        out = err / np.where(ok, norm, 1.0)[:, None]
    out[~ok] = np.nan
    return out


def pck(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray, norm: np.ndarray,
        thr: float) -> tuple[np.ndarray, float, int]:
    """Percentage of correct keypoints.

    A labelled point is correct when ``error < thr * norm`` (strict). Points
    whose instance has a non-positive or non-finite norm do not count.

    Args:
        pred: (N, K, 2) predictions.
        gt: (N, K, 2) ground truth.
        mask: (N, K) bool, True where the ground truth is labelled.
        norm: (N,) per-instance normaliser in pixels.
        thr: threshold as a fraction of the normaliser.

    Returns:
        ``(per_keypoint, overall, count)``: (K,) fraction correct per
        keypoint (NaN for a keypoint with no counted point), the fraction
        over all counted points pooled (NaN when there are none), and the
        number of counted points.
    """
    d = _normalised(pred, gt, mask, norm)
    counted = ~np.isnan(d)
    correct = counted & (np.nan_to_num(d, nan=np.inf) < thr)
    per_n = counted.sum(axis=0)
    with np.errstate(invalid='ignore', divide='ignore'):
        per_kpt = np.where(per_n > 0, correct.sum(axis=0) / np.maximum(per_n, 1), np.nan)
    total = int(counted.sum())
    overall = float(correct.sum() / total) if total else float('nan')
    return per_kpt, overall, total


def auc_thresholds(max_thr: float = 0.5, num_thrs: int = 50) -> np.ndarray:
    """The normalised thresholds at which :func:`auc` samples PCK.

    Returns:
        (num_thrs,) ``max_thr * i / num_thrs`` for ``i = 1 .. num_thrs``
        (0.01, 0.02, ..., 0.5 by default).
    """
    if max_thr <= 0 or num_thrs < 1:
        raise ValueError(f'need max_thr > 0 and num_thrs >= 1, got {max_thr}, {num_thrs}')
    return max_thr * np.arange(1, num_thrs + 1, dtype=np.float64) / num_thrs


def pck_curve(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray, norm: np.ndarray,
              thrs: np.ndarray) -> np.ndarray:
    """Pooled PCK at each threshold of ``thrs``.

    Returns:
        (T,) float64 fractions (NaN when no point counts).
    """
    d = _normalised(pred, gt, mask, norm)
    d = d[~np.isnan(d)]
    if d.size == 0:
        return np.full(len(thrs), np.nan)
    d = np.sort(d)
    # number of errors strictly below each threshold
    return np.searchsorted(d, np.asarray(thrs, dtype=np.float64), side='left') / d.size


def auc(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray, norm: np.ndarray,
        max_thr: float = 0.5, num_thrs: int = 50) -> float:
    """Area under the PCK curve over normalised thresholds ``[0, max_thr]``,
    divided by ``max_thr`` (so it lies in [0, 1]).

    Computed as the mean of the pooled PCK at the ``num_thrs`` thresholds of
    :func:`auc_thresholds` (a right Riemann sum): a perfect prediction scores
    exactly 1.

    Args:
        pred, gt, mask, norm: as for :func:`pck`.
        max_thr: the largest normalised threshold.
        num_thrs: how many equally spaced thresholds.

    Returns:
        The AUC; NaN when no point counts.
    """
    curve = pck_curve(pred, gt, mask, norm, auc_thresholds(max_thr, num_thrs))
    return float(np.mean(curve))


def epe(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float]:
    """End-point error: mean Euclidean distance in pixels over labelled points.

    Args:
        pred: (N, K, 2) predictions.
        gt: (N, K, 2) ground truth.
        mask: (N, K) bool, True where the ground truth is labelled.

    Returns:
        ``(per_keypoint, overall)``: (K,) mean error per keypoint (NaN where
        a keypoint is never labelled) and the mean over all labelled points
        (NaN when there are none).
    """
    err = keypoint_errors(pred, gt, mask)
    counted = ~np.isnan(err)
    per_n = counted.sum(axis=0)
    sums = np.nansum(err, axis=0)
    with np.errstate(invalid='ignore', divide='ignore'):
        per_kpt = np.where(per_n > 0, sums / np.maximum(per_n, 1), np.nan)
    total = int(counted.sum())
    overall = float(np.nansum(err) / total) if total else float('nan')
    return per_kpt, overall


__all__ = [
    'rescore_instances', 'keypoint_errors', 'pck', 'pck_curve', 'auc', 'auc_thresholds', 'epe',
    'SCORE_MODES'
]
