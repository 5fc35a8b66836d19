"""Keypoint heatmaps of :class:`~customkpt.codecs.CentreLabel`: the
refinement of the regressed points by per-keypoint-type peaks (CenterNet's
multi-pose decoding).

A keypoint model with ``keypoint_heatmaps`` has two more outputs (B images,
K keypoint types, grid W x H):

* ``keypoint_heatmap`` (B, K, H, W) probabilities, one channel per keypoint
  type: the training target is a Gaussian at each labelled point's cell,
  exactly 1 there, whose radius comes from the owning object's box by the
  rule of the centre heatmap (:func:`~customkpt.codecs.centre_maps.gaussian_radius`);
* ``keypoint_heatmap_offset`` (B, 2, H, W): the (x, y) sub-cell offset of a
  point inside its cell, shared by all types, learnt at the cells of
  labelled points only.

Decoding: for each type the 3 x 3 maxima at or above ``peak_thr`` are the
candidate points (cell + offset, times the stride); every decoded object
takes, for each of its points, the candidate of that type nearest its
regressed point when that candidate lies inside its box and no farther
than ``snap_distance`` times the longer box side; otherwise the regressed
point stays.

numpy only.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .centre_maps import local_maxima, radius_sigma
from .gaussian import generate_gaussian_heatmaps

__all__ = ['HEATMAP_OUTPUTS', 'HEATMAP_TARGETS', 'labelled_points',
           'encode_keypoint_heatmaps', 'keypoint_peaks', 'snap_keypoints', 'refine_keypoints']

#: The model outputs of the keypoint heatmaps, after the regression's.
HEATMAP_OUTPUTS = ('keypoint_heatmap', 'keypoint_heatmap_offset')
#: Their training targets: the outputs and the offset's weight.
HEATMAP_TARGETS = HEATMAP_OUTPUTS + ('keypoint_heatmap_weight', )


def labelled_points(points: np.ndarray, visible: np.ndarray, input_size: Sequence[int]
                    ) -> np.ndarray:
    """Which of (..., 2) input-pixel ``points`` are labelled (``visible``
    (...,) > 0.5), finite and inside the ``input_size`` (w, h) input
    (``0 <= x <= w - 1``, ``0 <= y <= h - 1``); bool (...,)."""
    points = np.asarray(points, np.float64)
    w_in, h_in = input_size
    with np.errstate(invalid='ignore'):
        return ((np.asarray(visible).reshape(points.shape[:-1]) > 0.5)
                & np.isfinite(points).all(-1) & (points >= 0).all(-1)
                & (points[..., 0] <= w_in - 1) & (points[..., 1] <= h_in - 1))


def encode_keypoint_heatmaps(keypoints: np.ndarray, visible: np.ndarray, radii: np.ndarray,
                             input_size: Sequence[int], stride: int
                             ) -> dict[str, np.ndarray]:
    """The keypoint-heatmap targets of one image's M objects.

    Args:
        keypoints: (M, K, 2) input pixels.
        visible: (M, K); only labelled, in-input points count
            (:func:`labelled_points`).
        radii: (M,) Gaussian radius of each object, in cells (from its box).
        input_size: input (w, h), multiples of ``stride``.
        stride: input pixels per cell.

    Returns:
        float32 ``keypoint_heatmap`` (K, H, W) (max of the Gaussians, 1 at
        each point's cell), ``keypoint_heatmap_offset`` (2, H, W) (the
        point's position in its cell, in [0, 1)) and
        ``keypoint_heatmap_weight`` (1, H, W) (1 at the points' cells).
        Where points share a cell, the later object's offset is kept.
    """
    points = np.asarray(keypoints, np.float64)
    k = points.shape[1]
    w, h = input_size[0] // stride, input_size[1] // stride
    out = dict(keypoint_heatmap=np.zeros((k, h, w), np.float32),
               keypoint_heatmap_offset=np.zeros((2, h, w), np.float32),
               keypoint_heatmap_weight=np.zeros((1, h, w), np.float32))
    seen = labelled_points(points, visible, input_size)
    grid = np.where(seen[..., None], points / stride, 0.0)
    cells = np.floor(grid).astype(np.int64)
    for i, radius in enumerate(np.maximum(np.asarray(radii, np.float64), 0)):
        if not seen[i].any():
            continue
        blobs, _ = generate_gaussian_heatmaps(cells[i][None].astype(np.float64),
                                              seen[i][None].astype(np.float32), (w, h),
                                              radius_sigma(radius))
        np.maximum(out['keypoint_heatmap'], blobs, out=out['keypoint_heatmap'])
        x, y = cells[i][seen[i]].T
        out['keypoint_heatmap_offset'][:, y, x] = (grid[i] - cells[i])[seen[i]].T
        out['keypoint_heatmap_weight'][0, y, x] = 1.0
    return out


def keypoint_peaks(heatmap: np.ndarray, offset: np.ndarray, stride: int, thr: float,
                   max_peaks: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Candidate points of one image's keypoint heatmaps.

    Args:
        heatmap: (K, H, W) probabilities.
        offset: (2, H, W) sub-cell offsets (x, y).
        stride: input pixels per cell.
        thr: lowest peak value kept.
        max_peaks: most candidates per type (the highest).

    Returns:
        Per type: points float64 (M, 2) in input pixels and their heatmap
        values (M,), highest first.
    """
    peaks = local_maxima(heatmap) & (heatmap >= thr)
    found = []
    for k in range(len(heatmap)):
        y, x = np.nonzero(peaks[k])
        values = heatmap[k, y, x]
        order = np.argsort(-values, kind='stable')[:max_peaks]
        y, x = y[order], x[order]
        cells = np.stack([x, y], 1).astype(np.float64)
        found.append(((cells + offset[:, y, x].T) * stride, values[order]))
    return found


def snap_keypoints(keypoints: np.ndarray, scores: np.ndarray, bboxes: np.ndarray,
                   peaks: Sequence[tuple[np.ndarray, np.ndarray]],
                   snap_distance: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Replace regressed points by their nearest heatmap peak.

    Point k of object n becomes the peak of type k nearest to it when that
    peak lies inside the object's box (edges included) and, unless
    ``snap_distance`` is None, within ``snap_distance`` times the box's
    longer side of the regressed point; its score then becomes the peak's
    heatmap value. Other points keep their regressed position and score.

    Args:
        keypoints: (N, K, 2) regressed points, input pixels.
        scores: (N, K) their scores (the regressed visibility).
        bboxes: (N, 4) xyxy input pixels.
        peaks: per type, from :func:`keypoint_peaks`.
        snap_distance: see above.

    Returns:
        float32 keypoints (N, K, 2) and scores (N, K).
    """
    points = np.array(keypoints, np.float32)
    values = np.array(scores, np.float32)
    boxes = np.asarray(bboxes, np.float64).reshape(-1, 4)
    reach = np.inf if snap_distance is None else \
        float(snap_distance) * (boxes[:, 2:] - boxes[:, :2]).max(1)
    for k, (candidates, heat) in enumerate(peaks):
        if not len(candidates) or not len(points):
            continue
        dist = np.linalg.norm(points[:, None, k].astype(np.float64) - candidates[None], axis=-1)
        best = dist.argmin(1)
        chosen = candidates[best]
        inside = ((chosen >= boxes[:, :2]) & (chosen <= boxes[:, 2:])).all(1)
        snap = inside & (dist[np.arange(len(best)), best] <= reach)
        points[snap, k] = chosen[snap]
        values[snap, k] = heat[best[snap]]
    return points, values


def refine_keypoints(objects: Mapping[str, np.ndarray], maps: Mapping[str, np.ndarray],
                     stride: int, peak_thr: float, max_peaks: int,
                     snap_distance: float | None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`snap_keypoints` of one image's decoded ``objects`` (``keypoints``
    (N, K, 2), ``keypoint_scores`` (N, K), ``bboxes`` (N, 4), input pixels)
    onto the :func:`keypoint_peaks` of its ``maps`` (``keypoint_heatmap``
    (K, H, W), ``keypoint_heatmap_offset`` (2, H, W)); returns the refined
    keypoints and keypoint scores."""
    peaks = keypoint_peaks(maps['keypoint_heatmap'], maps['keypoint_heatmap_offset'], stride,
                           peak_thr, max_peaks)
    return snap_keypoints(objects['keypoints'], objects['keypoint_scores'], objects['bboxes'],
                          peaks, snap_distance)
