"""Which video frames a model gets wrong: per-instance outlier terms, one
score per frame, and a diverse pick of the worst frames (numpy only).

Input is a table of the instances the model found in a video
(:class:`InstanceTable`, one row per instance and frame). Four terms, each
"higher = worse":

* ``confidence``: ``1 - mean`` of the K keypoint scores;
* ``flip``: mean distance over the K points between the prediction on the
  frame and the prediction on the mirrored frame (mapped back, left/right
  swapped), in units of the instance's scale;
* ``jump``: how far the instance moved from *both* of its neighbours in its
  track, beyond a dead zone: ``max(0, min(m_prev, m_next) - dead_zone)``
  with ``m`` the mean point displacement per frame in units of the scale
  (a one-frame glitch moves away from both neighbours; a real change of
  position that stays has one small side). With one neighbour its side is
  used; a lone detection scores 0;
* ``pose``: distance of the box-normalised pose from the subspace of the
  labelled poses (:meth:`customkpt.core.pose_subspace.PoseSubspace.distance`);
  0 everywhere when no subspace is given.

The scale of an instance is the longer side of its keypoints' extent, at
least :data:`SCALE_FLOOR` times the longer side of the box the model cropped
(so a pose collapsed to a point cannot divide by zero); the pose term uses
the square of that side centred on the points.

Combination: every term is put on a robust scale over the whole video,
``z = max(0, (x - median) / max(1.4826 * MAD, floor))`` with the per-term
floors of :data:`TERM_FLOORS` (what a barely noticeable difference is, so
a term that is almost constant does not blow up), and the instance score is
``sum(weight * z)`` with :data:`DEFAULT_WEIGHTS` (all 1). A frame's score is
that of its worst instance.

Selection (:func:`select_frames`): the best ``top_fraction`` of the scored
frames (at least ``num``) are the candidates; they are clustered by k-means
(seeded) on the box-normalised pose of their worst instance, and the
highest-scoring frame of each cluster is picked. Clear outliers (score at
least :data:`MIN_SCORE`) come first: when there are fewer of them than
``num`` all are taken, and only the remaining picks are spread over the
other candidates' clusters, so a diverse but ordinary frame never displaces
a clear outlier.

The other way round, :func:`select_confident` picks the lowest-scoring
frames, spread the same way: the frames whose prediction every term trusts
most, to use as pseudo-labels (``customkpt outliers --pick confident``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from customkpt.core.kmeans import kmeans
from customkpt.core.pose_subspace import PoseSubspace, normalise_poses

__all__ = ['TERMS', 'DEFAULT_WEIGHTS', 'TERM_FLOORS', 'DEAD_ZONE', 'SCALE_FLOOR', 'MIN_SCORE',
           'InstanceTable', 'OutlierScores', 'instance_scales', 'pose_boxes',
           'jump_term', 'robust_z', 'score_instances', 'select_frames', 'select_confident',
           'frame_features']

#: The terms, in the order they are reported.
TERMS = ('confidence', 'flip', 'jump', 'pose')
#: Weight of each normalised term in the score.
DEFAULT_WEIGHTS: dict[str, float] = dict(confidence=1.0, flip=1.0, jump=1.0, pose=1.0)
#: Smallest robust scale of each term, in its own units (scores; instance scales).
TERM_FLOORS: dict[str, float] = dict(confidence=0.05, flip=0.02, jump=0.02, pose=0.02)
#: Per-frame motion, in instance scales, that counts as no jump.
DEAD_ZONE = 0.05
#: Frame score from which a frame is a clear outlier (see :func:`select_frames`).
MIN_SCORE = 3.0
#: An instance's scale is at least this share of its crop box's longer side.
SCALE_FLOOR = 0.05


@dataclass
class InstanceTable:
    """The instances of a video, one row each (M rows, K keypoints).

    Attributes:
        frame_idx: (M,) int64 frame of each row.
        track_id: (M,) int64 track of each row.
        boxes: (M, 4) xyxy boxes the model cropped.
        keypoints: (M, K, 2) the prediction (image pixels).
        scores: (M, K) keypoint scores.
        plain: (M, K, 2) the prediction on the frame itself.
        flipped: (M, K, 2) the prediction on the mirrored frame, mapped back.
    """

    frame_idx: np.ndarray
    track_id: np.ndarray
    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    plain: np.ndarray
    flipped: np.ndarray

    def __len__(self) -> int:
        return len(self.frame_idx)

    @classmethod
    def from_results(cls, results: Sequence[Mapping[str, Any]], num_keypoints: int
                     ) -> InstanceTable:
        """From per-frame results ``dict(frame_idx, instances=[dict(track_id,
        bbox, keypoints, keypoint_scores, keypoints_plain, keypoints_flipped)])``."""
        rows = [(r['frame_idx'], inst) for r in results for inst in r['instances']]
        k = int(num_keypoints)

        def stack(key: str, shape: tuple[int, ...]) -> np.ndarray:
            if not rows:
                return np.zeros((0, *shape), np.float32)
            return np.stack([np.asarray(inst[key], np.float32).reshape(shape)
                             for _, inst in rows])

        return cls(frame_idx=np.array([f for f, _ in rows], np.int64),
                   track_id=np.array([inst['track_id'] for _, inst in rows], np.int64),
                   boxes=stack('bbox', (4,)), keypoints=stack('keypoints', (k, 2)),
                   scores=stack('keypoint_scores', (k,)),
                   plain=stack('keypoints_plain', (k, 2)),
                   flipped=stack('keypoints_flipped', (k, 2)))


@dataclass
class OutlierScores:
    """Scores of a video.

    Attributes:
        raw: term -> (M,) values per instance, in the term's units.
        normalised: term -> (M,) robust z (>= 0).
        instance_score: (M,) weighted sum of the normalised terms.
        frames: (F,) frames that have an instance, ascending.
        frame_score: (F,) score of each frame's worst instance.
        worst: (F,) row of that instance in the table.
        weights: the weights used.
    """

    raw: dict[str, np.ndarray]
    normalised: dict[str, np.ndarray]
    instance_score: np.ndarray
    frames: np.ndarray
    frame_score: np.ndarray
    worst: np.ndarray
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))


def instance_scales(keypoints: np.ndarray, boxes: np.ndarray | None,
                    floor: float = SCALE_FLOOR) -> np.ndarray:
    """(M,) longer side of each pose's extent, at least ``floor`` times the
    longer side of its box (when boxes are given) and at least 1e-6."""
    kpts = np.asarray(keypoints, np.float64)
    if not len(kpts):
        return np.zeros(0)
    extent = (kpts.max(axis=1) - kpts.min(axis=1)).max(axis=1)
    if boxes is not None:
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        extent = np.maximum(extent, floor * np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]))
    return np.maximum(extent, 1e-6)


def pose_boxes(keypoints: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """(M, 4) xyxy squares of side ``scales`` centred on each pose's extent."""
    kpts = np.asarray(keypoints, np.float64)
    centre = (kpts.max(axis=1) + kpts.min(axis=1)) / 2.0
    half = np.asarray(scales, np.float64)[:, None] / 2.0
    return np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)


def _mean_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64), axis=-1
                          ).mean(axis=-1)


def jump_term(keypoints: np.ndarray, frame_idx: np.ndarray, track_id: np.ndarray,
              scales: np.ndarray, dead_zone: float = DEAD_ZONE) -> np.ndarray:
    """(M,) ``max(0, min(m_prev, m_next) - dead_zone)`` per row (see the
    module doc); ``m`` is displacement per frame over the row's scale."""
    out = np.zeros(len(frame_idx))
    for tid in np.unique(track_id):
        rows = np.flatnonzero(track_id == tid)
        rows = rows[np.argsort(frame_idx[rows], kind='stable')]
        if len(rows) < 2:
            continue
        gap = np.maximum(np.diff(frame_idx[rows]), 1).astype(np.float64)
        step = _mean_distance(keypoints[rows[1:]], keypoints[rows[:-1]]) / gap
        into = np.concatenate([[np.inf], step / scales[rows[1:]]])
        out_of = np.concatenate([step / scales[rows[:-1]], [np.inf]])
        motion = np.minimum(into, out_of)
        out[rows] = np.maximum(motion - dead_zone, 0.0)
    return out


def robust_z(values: np.ndarray, floor: float) -> np.ndarray:
    """``max(0, (x - median) / max(1.4826 * MAD, floor))``; NaN counts as 0."""
    x = np.nan_to_num(np.asarray(values, np.float64), nan=0.0)
    if not len(x):
        return x
    med = np.median(x)
    scale = max(1.4826 * float(np.median(np.abs(x - med))), floor)
    return np.maximum((x - med) / scale, 0.0)


def _raw_terms(table: InstanceTable, subspace: PoseSubspace | None,
               dead_zone: float) -> dict[str, np.ndarray]:
    scales = instance_scales(table.keypoints, table.boxes)
    pose = np.zeros(len(table))
    if subspace is not None and len(table):
        pose = subspace.distance(table.keypoints, pose_boxes(table.keypoints, scales))
    return dict(
        confidence=1.0 - np.asarray(table.scores, np.float64).mean(axis=1)
        if len(table) else np.zeros(0),
        flip=_mean_distance(table.plain, table.flipped) / scales if len(table) else np.zeros(0),
        jump=jump_term(table.keypoints, table.frame_idx, table.track_id, scales, dead_zone),
        pose=np.asarray(pose, np.float64))


def score_instances(table: InstanceTable, subspace: PoseSubspace | None = None,
                    weights: Mapping[str, float] | None = None,
                    dead_zone: float = DEAD_ZONE) -> OutlierScores:
    """All terms, the instance scores and the frame scores of a video.

    Args:
        table: the video's instances.
        subspace: labelled poses' subspace; ``None`` leaves the pose term 0.
        weights: term -> weight, merged over :data:`DEFAULT_WEIGHTS`.
        dead_zone: see :func:`jump_term`.
    """
    w = dict(DEFAULT_WEIGHTS)
    for name, value in (weights or {}).items():
        if name not in w:
            raise ValueError(f'unknown outlier term {name!r}; known: {list(TERMS)}')
        w[name] = float(value)
    raw = _raw_terms(table, subspace, dead_zone)
    normalised = {t: robust_z(raw[t], TERM_FLOORS[t]) for t in TERMS}
    score = sum(w[t] * normalised[t] for t in TERMS) if len(table) else np.zeros(0)
    frames = np.unique(table.frame_idx)
    worst = np.zeros(len(frames), np.int64)
    for i, f in enumerate(frames):
        rows = np.flatnonzero(table.frame_idx == f)
        worst[i] = rows[np.argmax(score[rows])]
    return OutlierScores(raw=raw, normalised=normalised, instance_score=np.asarray(score),
                         frames=frames, frame_score=np.asarray(score)[worst], worst=worst,
                         weights=w)


def _best_per_cluster(features: np.ndarray, rows: np.ndarray, num: int, seed: int
                      ) -> list[int]:
    """``num`` of ``rows`` (ordered best first): k-means on their features,
    the first (best) row of each cluster; clusters left empty are filled by
    the next best rows."""
    if len(rows) <= num:
        return [int(r) for r in rows]
    _, labels = kmeans(features[rows], num, seed=seed)
    picked = [int(rows[labels == c][0]) for c in range(num) if (labels == c).any()]
    for row in rows:
        if len(picked) >= num:
            break
        if int(row) not in picked:
            picked.append(int(row))
    return picked


def select_frames(features: np.ndarray, scores: np.ndarray, num: int,
                  top_fraction: float = 0.25, min_score: float = MIN_SCORE,
                  seed: int = 0) -> np.ndarray:
    """Indices of ``num`` rows that score high and differ from each other.

    The candidates are the best ``top_fraction`` of the rows (at least
    ``num``). Those scoring at least ``min_score`` are clear outliers: when
    there are ``num`` or more of them they are clustered (k-means on their
    features, ``num`` clusters) and the best of each cluster is taken; when
    there are fewer, all of them are taken and the remaining picks are the
    best of each cluster of the other candidates.

    Args:
        features: (F, D) one vector per frame (box-normalised pose, flattened).
        scores: (F,) frame scores.
        num: how many to pick (all rows when there are no more).
        top_fraction: share of the rows, best first, that are candidates.
        min_score: score from which a frame is a clear outlier.
        seed: k-means seed.

    Returns:
        (min(num, F),) row indices, highest score first.
    """
    scores = np.asarray(scores, np.float64)
    features = np.asarray(features, np.float64)
    if num < 1:
        raise ValueError(f'the number of frames to pick must be >= 1, got {num}')
    if not 0 < top_fraction <= 1:
        raise ValueError(f'top_fraction must be in (0, 1], got {top_fraction}')
    order = np.argsort(-scores, kind='stable')
    count = min(len(order), max(num, math.ceil(top_fraction * len(order))))
    cand = order[:count]
    strong = cand[scores[cand] >= min_score]
    if len(strong) >= num:
        picked = _best_per_cluster(features, strong, num, seed)
    else:
        weak = cand[scores[cand] < min_score]
        picked = [int(r) for r in strong] + _best_per_cluster(features, weak,
                                                              num - len(strong), seed)
    out = np.array(picked, np.int64)
    return out[np.argsort(-scores[out], kind='stable')]


def select_confident(features: np.ndarray, scores: np.ndarray, num: int,
                     top_fraction: float = 0.25, seed: int = 0) -> np.ndarray:
    """Indices of ``num`` rows that score low and differ from each other: the
    lowest ``top_fraction`` of the rows (at least ``num``) clustered by
    k-means on ``features`` into ``num`` clusters, the lowest-scoring row of
    each (clusters left empty are filled by the next lowest rows).

    Args and the ``ValueError`` as :func:`select_frames`.

    Returns:
        (min(num, F),) row indices, lowest score first.
    """
    return select_frames(features, -np.asarray(scores, np.float64), num, top_fraction,
                         min_score=math.inf, seed=seed)


def frame_features(table: InstanceTable, scores: OutlierScores) -> np.ndarray:
    """(F, 2K) box-normalised pose of each scored frame's worst instance."""
    rows = scores.worst
    if not len(rows):
        return np.zeros((0, 2 * table.keypoints.shape[1]), np.float32)
    kpts = table.keypoints[rows]
    scales = instance_scales(kpts, table.boxes[rows])
    return normalise_poses(kpts, pose_boxes(kpts, scales)).reshape(len(rows), -1)
