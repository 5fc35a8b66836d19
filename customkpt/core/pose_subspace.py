"""A linear subspace of plausible poses, fitted to labelled poses (PCA).

A pose is first made independent of where and how large the instance is:
:func:`normalise_poses` moves the origin to the box centre and divides by the
longer box side, so a pose inside its box lies in ``[-0.5, 0.5]`` on both axes
and keeps its aspect ratio::

    u = (p - (x1 + x2, y1 + y2) / 2) / max(x2 - x1, y2 - y1)

The normalised ``(K, 2)`` pose is read as one vector of ``D = 2K`` numbers in
the order ``x0, y0, x1, y1, ...`` (``reshape(N, -1)``). :func:`fit` keeps the
principal directions that explain the requested share of the variance, and
:meth:`PoseSubspace.distance` is how far a pose lies off them: the Euclidean
norm of the residual ``r = d - components.T @ c`` with ``d = u - mean``.

Missing points:

* fitting uses only the *complete* poses (every point visible, box of positive
  size); incomplete ones are left out, not filled in;
* the distance of a partly visible pose uses only its visible coordinates:
  the coefficients ``c`` are the least-squares fit of ``components`` to the
  visible part of ``d``, and the squared residual over the ``V`` visible
  coordinates is scaled by ``D / V`` (a complete pose gets the plain Euclidean
  norm, a partial one the norm it would have if its missing coordinates fitted
  as badly as the visible ones). A pose with no visible point gets NaN.

The arrays (``mean``, ``components``, ``explained_variance``) are plain
float32 numpy, and :meth:`PoseSubspace.to_dict` / :meth:`PoseSubspace.from_dict`
turn them into lists and back, so a loss, a checkpoint or a json file can
carry the same subspace.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ['PoseSubspace', 'fit', 'normalise_poses']


def _box_frame(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (N, 2) and longer sides (N,) of xyxy boxes (N, 4)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    return centres, sides


def normalise_poses(poses: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Poses (N, K, 2) in image pixels -> box-normalised poses (N, K, 2).

    Args:
        poses: keypoints in image pixels.
        boxes: (N, 4) xyxy boxes, one per pose, each of positive size.

    Raises:
        ValueError: shapes disagree, or a box has no positive size (its index
            is named).
    """
    poses = np.asarray(poses, np.float64)
    if poses.ndim != 3 or poses.shape[-1] != 2:
        raise ValueError(f'poses must have shape (N, K, 2), got {poses.shape}')
    centres, sides = _box_frame(boxes)
    if len(sides) != len(poses):
        raise ValueError(f'{len(poses)} poses but {len(sides)} boxes')
    bad = np.flatnonzero(~(sides > 0))
    if bad.size:
        raise ValueError(f'box {int(bad[0])} has no positive size: {np.asarray(boxes)[bad[0]]}')
    return ((poses - centres[:, None]) / sides[:, None, None]).astype(np.float32)


@dataclass(frozen=True, eq=False)
class PoseSubspace:
    """The fitted subspace (``C`` components of ``D = 2K`` coordinates).

    Attributes:
        mean: (D,) mean box-normalised pose, ``x0, y0, x1, y1, ...``.
        components: (C, D) orthonormal rows, strongest first.
        explained_variance: (C,) variance along each component.
        num_samples: how many complete poses it was fitted on.
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray
    num_samples: int

    @property
    def num_keypoints(self) -> int:
        return self.mean.shape[0] // 2

    def distance(self, poses: np.ndarray, boxes: np.ndarray,
                 visible: np.ndarray | None = None) -> np.ndarray:
        """Distance (N,) of each pose from the subspace, in box-normalised units.

        Args:
            poses: (N, K, 2) image pixels.
            boxes: (N, 4) xyxy.
            visible: (N, K), > 0 where the point counts; None: all of them.
        """
        poses = np.asarray(poses)
        if poses.ndim != 3 or poses.shape[1] != self.num_keypoints:
            raise ValueError(f'poses must have shape (N, {self.num_keypoints}, 2), '
                             f'got {poses.shape}')
        diff = normalise_poses(poses, boxes).reshape(len(poses), -1) - self.mean
        if visible is None:
            mask = np.ones(diff.shape, bool)
        else:
            mask = np.repeat(np.asarray(visible).reshape(len(poses), -1) > 0, 2, axis=1)
        out = np.full(len(poses), np.nan, np.float32)
        patterns, groups = np.unique(mask, axis=0, return_inverse=True)
        for g, pattern in enumerate(patterns):
            rows = np.flatnonzero(groups.ravel() == g)
            if pattern.any():
                out[rows] = self._masked_residual(diff[np.ix_(rows, pattern)], pattern)
        return out

    def _masked_residual(self, diff: np.ndarray, pattern: np.ndarray) -> np.ndarray:
        """Scaled residual norms (M,) of diffs (M, V) over the visible coordinates."""
        basis = self.components[:, pattern].T.astype(np.float64)  # (V, C)
        if basis.shape[1]:
            coef = np.linalg.lstsq(basis, diff.T, rcond=None)[0]  # (C, M)
            resid = diff - (basis @ coef).T
        else:
            resid = diff
        scale = pattern.size / pattern.sum()
        return np.sqrt((resid ** 2).sum(axis=1) * scale)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists (json / ``weights_only`` checkpoints)."""
        return dict(mean=self.mean.tolist(), components=self.components.tolist(),
                    explained_variance=self.explained_variance.tolist(),
                    num_samples=self.num_samples)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PoseSubspace:
        mean = np.asarray(d['mean'], np.float32)
        components = np.asarray(d['components'], np.float32).reshape(-1, mean.size)
        return cls(mean, components, np.asarray(d['explained_variance'], np.float32),
                   int(d['num_samples']))


def fit(poses: np.ndarray, boxes: np.ndarray, visible: np.ndarray,
        variance: float = 0.99) -> PoseSubspace:
    """Fit the subspace to labelled poses.

    Args:
        poses: (N, K, 2) keypoints in image pixels.
        boxes: (N, 4) xyxy boxes.
        visible: (N, K), > 0 where a point is labelled.
        variance: share of the total variance the kept components explain,
            in (0, 1]; the fewest components reaching it are kept.

    Raises:
        ValueError: bad shapes or ``variance``, or fewer than 2 complete poses.
    """
    poses = np.asarray(poses, np.float64)
    visible = np.asarray(visible)
    if poses.ndim != 3 or poses.shape[-1] != 2 or visible.shape != poses.shape[:2]:
        raise ValueError(f'poses (N, K, 2) and visible (N, K) expected, got {poses.shape} '
                         f'and {visible.shape}')
    if not 0 < variance <= 1:
        raise ValueError(f'variance must be in (0, 1], got {variance}')
    _, sides = _box_frame(boxes)
    if len(sides) != len(poses):
        raise ValueError(f'{len(poses)} poses but {len(sides)} boxes')
    keep = (visible > 0).all(axis=1) & (sides > 0) & np.isfinite(poses).all(axis=(1, 2))
    if keep.sum() < 2:
        raise ValueError(f'a pose subspace needs at least 2 complete poses (every point '
                         f'labelled), found {int(keep.sum())} of {len(poses)}')
    x = normalise_poses(poses[keep], np.asarray(boxes)[keep]).reshape(int(keep.sum()), -1)
    x = x.astype(np.float64)
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    var = s ** 2 / max(len(x) - 1, 1)
    total = var.sum()
    if total <= 0:
        count = 0
    else:
        ratio = np.cumsum(var) / total
        count = int(np.searchsorted(ratio, variance - 1e-12) + 1)
        count = min(count, int((var > total * 1e-12).sum()))
    return PoseSubspace(mean.astype(np.float32), vt[:count].astype(np.float32),
                        var[:count].astype(np.float32), int(len(x)))
