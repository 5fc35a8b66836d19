"""Per-keypoint OKS sigmas estimated from data: from repeated labels of the
same instances, or from a model's errors against the ground truth.

The convention is the one :func:`customkpt.core.boxes.oks` scores with: a
point at distance ``d`` (pixels, 2-D) from the reference scores
``exp(-d^2 / (2 * area * (2 * sigma)^2))``, with ``s^2 = area``. ``sigma_k``
is COCO's per-keypoint standard deviation relative to the object scale,

    sigma_k^2 = E[d_k^2 / s^2],

``d_k`` being the 2-D distance between one label of point ``k`` and the true
position. So an annotator whose error is Gaussian with standard deviation
``c * s`` in each coordinate has ``sigma = sqrt(2) * c`` (``E[d^2] = 2 c^2 s^2``),
and a prediction of that precision scores, on average, ``1 / (1 + c^2 /
(2 sigma)^2) = 8 / 9`` on that point whatever ``c`` is: with sigmas estimated
this way, every point of the definition is equally hard for a predictor as
precise as one labeller.

Estimators (N instances, K keypoints, L labels of each instance):

* repeated labels: the true position is unknown, so ``d`` is taken to the
  mean ``xbar`` of the ``m`` labels of the point. Their squared deviations
  sum to ``(m - 1) E[d^2]`` on average (Bessel's correction, per coordinate),
  so each instance contributes ``sum_l |x_l - xbar|^2 / s^2`` with ``m - 1``
  degrees of freedom, and ``sigma_k^2 = sum(...) / sum(m - 1)`` over the
  instances. With two labels this is ``|a - b|^2 / (2 s^2)``: the pairwise
  difference has twice the variance of one label. Dividing by ``m`` instead
  would underestimate sigma by ``sqrt((m - 1) / m)`` (29% for two labels).
* model errors: the ground truth stands for the true position, so each
  labelled point contributes ``|p - t|^2 / s^2`` with one degree of freedom.
  These sigmas include the ground truth's own label noise and any bias of
  the model: upper bounds for the annotation noise.

Confidence intervals resample whole instances with replacement (a seeded
percentile bootstrap), so that the points of one instance stay together.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ['SigmaEstimate', 'label_deviations', 'error_deviations', 'pooled_sigmas',
           'bootstrap_interval', 'estimate_sigmas']

#: Most bootstrap weights (replicates x instances) drawn at once.
_CHUNK = 4_000_000


@dataclass
class SigmaEstimate:
    """Estimated sigmas of K points.

    Attributes:
        sigmas: (K,) float64; NaN where a point has no degree of freedom.
        dof: (K,) int64 degrees of freedom (label pairs, or predicted points).
        instances: (K,) int64 instances that contribute to each point.
        low: (K,) lower end of the bootstrap interval (NaN without one).
        high: (K,) upper end.
        level: the interval's confidence level (e.g. 0.95).
        num_resamples: bootstrap replicates (0: no interval).
    """

    sigmas: np.ndarray
    dof: np.ndarray
    instances: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float
    num_resamples: int


def _check_areas(areas: np.ndarray, num: int) -> np.ndarray:
    areas = np.asarray(areas, dtype=np.float64).reshape(-1)
    if areas.shape[0] != num:
        raise ValueError(f'sigmas: {areas.shape[0]} areas for {num} instances')
    bad = np.flatnonzero(~(np.isfinite(areas) & (areas > 0)))
    if bad.size:
        raise ValueError(f'sigmas: areas must be positive and finite; instance {int(bad[0])} '
                         f'has {areas[bad[0]]}')
    return areas


def label_deviations(points: np.ndarray, visible: np.ndarray,
                     areas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared deviations of repeated labels from their mean, over the scale.

    Args:
        points: (N, L, K, 2) L labels of each of N instances, image pixels.
        visible: (N, L, K) bool, True where that label has the point.
        areas: (N,) object scale squared (``s^2``) of each instance.

    Returns:
        ``ss`` (N, K) float64: ``sum_l |x_l - xbar|^2 / s^2`` over the labels
        that have the point, and ``dof`` (N, K) int64: their number minus
        one (both 0 where fewer than two labels have it).
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 4 or points.shape[-1] != 2:
        raise ValueError(f'sigmas: points must be (N, L, K, 2), got {points.shape}')
    visible = np.asarray(visible, dtype=bool)
    if visible.shape != points.shape[:3]:
        raise ValueError(f'sigmas: visible {visible.shape} does not fit points {points.shape}')
    areas = _check_areas(areas, points.shape[0])
    count = visible.sum(axis=1)  # (N, K)
    points = np.where(visible[..., None], points, 0.0)  # missing labels may hold anything
    mean = points.sum(axis=1) / np.maximum(count, 1)[..., None]  # (N, K, 2)
    sq = (((points - mean[:, None]) ** 2).sum(axis=-1) * visible).sum(axis=1)  # (N, K)
    dof = np.maximum(count - 1, 0).astype(np.int64)
    return np.where(dof > 0, sq / areas[:, None], 0.0), dof


def error_deviations(pred: np.ndarray, truth: np.ndarray, visible: np.ndarray,
                     areas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared prediction errors over the scale.

    Args:
        pred: (N, K, 2) predicted points, image pixels.
        truth: (N, K, 2) ground-truth points.
        visible: (N, K) bool, True where the ground truth has the point.
        areas: (N,) the ground truth's ``s^2``.

    Returns:
        ``ss`` (N, K) float64 ``|p - t|^2 / s^2`` (0 where not labelled) and
        ``dof`` (N, K) int64 (1 where labelled).
    """
    pred = np.asarray(pred, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    if pred.shape != truth.shape or pred.ndim != 3 or pred.shape[-1] != 2:
        raise ValueError(f'sigmas: pred {pred.shape} and truth {truth.shape} must both be '
                         '(N, K, 2)')
    visible = np.asarray(visible, dtype=bool)
    if visible.shape != pred.shape[:2]:
        raise ValueError(f'sigmas: visible {visible.shape} does not fit points {pred.shape}')
    areas = _check_areas(areas, pred.shape[0])
    sq = ((pred - truth) ** 2).sum(axis=-1) / areas[:, None]
    return np.where(visible, sq, 0.0), visible.astype(np.int64)


def pooled_sigmas(ss: np.ndarray, dof: np.ndarray) -> np.ndarray:
    """``sqrt(sum ss / sum dof)`` per point: (N, K) -> (K,), NaN without dof."""
    total = np.asarray(dof, dtype=np.float64).sum(axis=0)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(total > 0, np.sqrt(np.asarray(ss).sum(axis=0) / total), np.nan)


def bootstrap_interval(ss: np.ndarray, dof: np.ndarray, num_resamples: int = 1000,
                       level: float = 0.95, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of :func:`pooled_sigmas` over instances.

    Args:
        ss: (N, K) from :func:`label_deviations` or :func:`error_deviations`.
        dof: (N, K) their degrees of freedom.
        num_resamples: replicates, each N instances drawn with replacement.
        level: confidence level in (0, 1).
        seed: seed of ``numpy.random.default_rng``; the same seed gives the
            same interval.

    Returns:
        (low, high), each (K,) float64; NaN where a point has no dof.
    """
    if not 0 < level < 1:
        raise ValueError(f'sigmas: level must lie in (0, 1), got {level}')
    ss = np.asarray(ss, dtype=np.float64)
    dof = np.asarray(dof, dtype=np.float64)
    num, k = ss.shape
    if num == 0 or num_resamples <= 0:
        return np.full(k, np.nan), np.full(k, np.nan)
    rng = np.random.default_rng(seed)
    pvals = np.full(num, 1.0 / num)
    step = max(1, _CHUNK // num)
    replicates = []
    for start in range(0, num_resamples, step):
        counts = rng.multinomial(num, pvals, size=min(step, num_resamples - start))
        totals = counts @ dof  # (b, K)
        with np.errstate(invalid='ignore', divide='ignore'):
            replicates.append(np.where(totals > 0, np.sqrt(counts @ ss / totals), np.nan))
    boot = np.concatenate(replicates)
    tail = 100.0 * (1.0 - level) / 2.0
    out = np.full((2, k), np.nan)
    has = np.isfinite(boot).any(axis=0)
    if has.any():
        out[:, has] = np.nanpercentile(boot[:, has], [tail, 100.0 - tail], axis=0)
    return out[0], out[1]


def estimate_sigmas(ss: np.ndarray, dof: np.ndarray, num_resamples: int = 1000,
                    level: float = 0.95, seed: int = 0) -> SigmaEstimate:
    """Sigmas, their sample counts and a bootstrap interval.

    Args:
        ss: (N, K) squared normalised deviations (see :func:`label_deviations`,
            :func:`error_deviations`).
        dof: (N, K) their degrees of freedom.
        num_resamples: bootstrap replicates (0: no interval).
        level: confidence level of the interval.
        seed: bootstrap seed.
    """
    ss = np.asarray(ss, dtype=np.float64)
    dof = np.asarray(dof, dtype=np.int64)
    if ss.ndim != 2 or ss.shape != dof.shape:
        raise ValueError(f'sigmas: ss {ss.shape} and dof {dof.shape} must both be (N, K)')
    low, high = bootstrap_interval(ss, dof, num_resamples, level, seed)
    return SigmaEstimate(sigmas=pooled_sigmas(ss, dof), dof=dof.sum(axis=0),
                         instances=(dof > 0).sum(axis=0).astype(np.int64), low=low, high=high,
                         level=float(level), num_resamples=int(max(num_resamples, 0)))
