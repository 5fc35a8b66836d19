"""Seeded k-means (k-means++ start, Lloyd iterations) in numpy.

Deterministic for a given ``seed``: the same points give the same clusters.
"""
from __future__ import annotations

import numpy as np

__all__ = ['kmeans']


def _plus_plus_start(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ centres (k, D): each new one drawn with probability
    proportional to the squared distance to the nearest chosen one."""
    centres = [x[rng.integers(len(x))]]
    nearest = ((x - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = nearest.sum()
        if total <= 0:  # every point sits on a centre already
            pick = int(np.argmax(nearest))
        else:
            pick = int(rng.choice(len(x), p=nearest / total))
        centres.append(x[pick])
        nearest = np.minimum(nearest, ((x - x[pick]) ** 2).sum(axis=1))
    return np.stack(centres)


def _assign(x: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels (N,) of the nearest centre and the squared distances (N,)."""
    d2 = ((x[:, None, :] - centres[None]) ** 2).sum(axis=2)
    labels = d2.argmin(axis=1)
    return labels, d2[np.arange(len(x)), labels]


def kmeans(x: np.ndarray, k: int, seed: int = 0, iters: int = 100
           ) -> tuple[np.ndarray, np.ndarray]:
    """Cluster points into ``k`` groups.

    A cluster that empties during the iterations is restarted on the point
    farthest from its centre, so every cluster keeps at least one point
    while there are at least ``k`` distinct points.

    Args:
        x: (N, D) points, N >= 1.
        k: number of clusters, 1 <= k <= N.
        seed: seed of the k-means++ start.
        iters: most Lloyd iterations (it stops when labels no longer change).

    Returns:
        centres (k, D) float64 and labels (N,) int64 in ``[0, k)``.
    """
    x = np.asarray(x, np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f'kmeans needs points of shape (N, D), N >= 1, got {x.shape}')
    if not 1 <= k <= len(x):
        raise ValueError(f'kmeans: k must be in [1, {len(x)}], got {k}')
    centres = _plus_plus_start(x, k, np.random.default_rng(seed))
    labels, d2 = _assign(x, centres)
    for _ in range(iters):
        for c in range(k):
            members = labels == c
            if members.any():
                centres[c] = x[members].mean(axis=0)
            else:
                far = int(np.argmax(d2))
                centres[c], d2[far] = x[far], 0.0
        new, d2 = _assign(x, centres)
        if np.array_equal(new, labels):
            break
        labels = new
    return centres, labels.astype(np.int64)
