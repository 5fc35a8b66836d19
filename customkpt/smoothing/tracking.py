"""Frame-to-frame identity for pose instances (:class:`PoseTracker`).

Each frame's detections are matched against the live tracks by a
similarity: ``'oks'`` (keypoint OKS against the track's pose), ``'iou'``
(box IoU against its box) or ``'combined'`` (a weighted sum of the two and
of a box-centre distance term). With ``motion``, every track's box and pose
are first moved by a constant-velocity prediction of its box centre to the
current frame (the velocity is estimated from the centres of its matches),
so that two subjects that cross keep their ids, and a subject missing for a
few frames is looked for where it would be by now.

The pairs come from :func:`customkpt.core.assignment.greedy_assignment`
(highest similarity first) or :func:`~customkpt.core.assignment.hungarian_assignment`
(best total similarity). Matched detections take the track's id; an
unmatched one starts a new track when its score reaches ``new_track_thr``
(otherwise it gets id ``-1``); ids are never reused. A track not matched
for more than ``max_lost`` frames is dropped and its id is listed in
``lost_ids`` after that update, so that callers can reset per-track state
(smoothers).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from ..core.assignment import greedy_assignment, hungarian_assignment
from ..core.boxes import box_iou, oks
from ..meta import DEFAULT_SIGMA

__all__ = ['PoseTracker', 'greedy_assignment', 'hungarian_assignment']

MATCHES = ('oks', 'iou', 'combined')


def _pairwise_oks(kpts: np.ndarray, valid: np.ndarray, ref_kpts: np.ndarray,
                  ref_valid: np.ndarray, ref_areas: np.ndarray, sigmas: np.ndarray
                  ) -> np.ndarray:
    """OKS (:func:`customkpt.core.boxes.oks`) of poses against reference poses.

    A point counts where it is valid in both poses; the scale is the
    reference's area; 0 when no point is shared.

    Args:
        kpts: (N, K, 2); valid: (N, K) bool.
        ref_kpts: (M, K, 2); ref_valid: (M, K) bool; ref_areas: (M,).
        sigmas: (K,).

    Returns:
        (N, M) float64.
    """
    sim = np.zeros((len(kpts), len(ref_kpts)), dtype=np.float64)
    for m, (ref, ref_ok, area) in enumerate(zip(ref_kpts, ref_valid, ref_areas)):
        sim[:, m] = oks(ref, ref_ok, area, kpts, sigmas, pred_valid=valid)
    return sim


def _centres(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) xyxy -> (N, 2) centres."""
    return (boxes[:, :2] + boxes[:, 2:]) / 2.0


def _centre_similarity(boxes: np.ndarray, ref_boxes: np.ndarray, sigma: float) -> np.ndarray:
    """``exp(-d^2 / (2 (sigma * s)^2))`` of the centre distance ``d`` of each
    box to each reference box, ``s`` the reference's ``sqrt(w * h)``; (N, M)."""
    d2 = ((_centres(boxes)[:, None] - _centres(ref_boxes)[None]) ** 2).sum(-1)
    areas = np.prod(np.clip(ref_boxes[:, 2:] - ref_boxes[:, :2], 1.0, None), axis=1)
    return np.exp(-d2 / (2.0 * sigma ** 2 * areas[None]))


@dataclass
class _Track:
    bbox: np.ndarray                 # (4,) xyxy where last matched
    keypoints: Optional[np.ndarray]  # (K, 2)
    valid: Optional[np.ndarray]      # (K,) bool
    last_frame: int
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # centre, px / frame
    hits: int = 1


class PoseTracker:
    """Give pose instances ids that persist from frame to frame.

    Args:
        match: ``'oks'`` (keypoints against the track's pose, scaled by the
            track's box area; falls back to IoU for a frame without
            keypoints), ``'iou'`` (boxes) or ``'combined'``: ``weights``
            of (OKS, IoU, centre similarity), where a pair that shares no
            valid point takes its IoU for the OKS.
        thr: the smallest similarity that continues a track.
        max_lost: frames a track may miss (its maximum age unseen); it is
            dropped (and listed in ``lost_ids``) at the update where it has
            missed more.
        sigmas: (K,) OKS sigmas, e.g. ``meta['sigmas']``; default
            ``DEFAULT_SIGMA`` for every point.
        assign: ``'greedy'`` (highest similarity first) or ``'hungarian'``
            (best total similarity).
        kpt_thr: keypoints scored below this are left out of the OKS.
        motion: move each track by its constant-velocity prediction before
            matching; ``None``: on for ``'combined'``, off otherwise.
        weights: ``'combined'``: (OKS, IoU, centre) weights.
        centre_sigma: ``'combined'``: the centre term is
            ``exp(-d^2 / (2 (centre_sigma * sqrt(box area))^2))``.
        velocity_smoothing: weight of the newest centre step in the
            velocity estimate (1: the last step only).
        new_track_thr: an unmatched detection scored below this (its
            instance score, by default the mean keypoint score) starts no
            track and gets id -1; 0 (default): every one starts a track.

    Attributes:
        lost_ids: ids dropped during the last :meth:`update`.
    """

    def __init__(self, match: str = 'oks', thr: float = 0.3, max_lost: int = 10,
                 sigmas: Optional[Sequence[float]] = None, assign: str = 'greedy',
                 kpt_thr: float = 0.3, motion: Optional[bool] = None,
                 weights: Sequence[float] = (0.5, 0.3, 0.2), centre_sigma: float = 0.5,
                 velocity_smoothing: float = 0.3, new_track_thr: float = 0.0) -> None:
        if match not in MATCHES:
            raise ValueError(f"PoseTracker: match must be 'oks', 'iou' or 'combined', "
                             f'got {match!r}')
        if assign not in ('greedy', 'hungarian'):
            raise ValueError(f"PoseTracker: assign must be 'greedy' or 'hungarian', "
                             f'got {assign!r}')
        if max_lost < 0:
            raise ValueError(f'PoseTracker: max_lost must be >= 0, got {max_lost}')
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if w.shape != (3,) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f'PoseTracker: weights must be 3 non-negative numbers (OKS, IoU, '
                             f'centre) with a positive sum, got {list(weights)}')
        if not 0.0 < velocity_smoothing <= 1.0 or centre_sigma <= 0:
            raise ValueError('PoseTracker: velocity_smoothing must be in (0, 1] and '
                             'centre_sigma > 0')
        self.match = match
        self.thr = float(thr)
        self.max_lost = int(max_lost)
        self.sigmas = None if sigmas is None else np.asarray(sigmas, dtype=np.float64)
        self.assign = assign
        self.kpt_thr = float(kpt_thr)
        self.motion = (match == 'combined') if motion is None else bool(motion)
        self.weights = w / w.sum()
        self.centre_sigma = float(centre_sigma)
        self.velocity_smoothing = float(velocity_smoothing)
        self.new_track_thr = float(new_track_thr)
        self.tracks: dict[int, _Track] = {}
        self.lost_ids: list[int] = []
        self._next_id = 0

    def reset(self) -> None:
        """Drop every track; ids keep counting up (never reused)."""
        self.tracks.clear()
        self.lost_ids = []

    def predicted_boxes(self, ids: Sequence[int], frame_idx: int) -> np.ndarray:
        """The tracks' (M, 4) xyxy boxes at ``frame_idx``: moved along their
        velocity with ``motion``, else where last matched."""
        boxes = np.stack([self.tracks[i].bbox for i in ids]).astype(np.float64)
        if self.motion:
            shift = np.stack([self.tracks[i].velocity * (frame_idx - self.tracks[i].last_frame)
                              for i in ids])
            boxes = boxes + np.tile(shift, 2)
        return boxes

    def _pose_similarity(self, kpts: np.ndarray, valid: np.ndarray, ids: list[int],
                         ref_boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """OKS against the (predicted) track poses, and where any point is shared."""
        tracks = [self.tracks[i] for i in ids]
        num_kpts = kpts.shape[1]
        sigmas = self.sigmas if self.sigmas is not None else np.full(num_kpts, DEFAULT_SIGMA)
        if sigmas.shape != (num_kpts,):
            raise ValueError(f'PoseTracker: {sigmas.shape[0]} sigmas for {num_kpts} keypoints')
        shift = _centres(ref_boxes) - np.stack([_centres(t.bbox[None])[0] for t in tracks])
        ref = np.stack([t.keypoints for t in tracks]) + shift[:, None]
        ref_valid = np.stack([t.valid for t in tracks])
        boxes = np.stack([t.bbox for t in tracks])
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        shared = (valid.astype(np.int64) @ ref_valid.T.astype(np.int64)) > 0
        return _pairwise_oks(kpts, valid, ref, ref_valid, areas, sigmas), shared

    def _similarity(self, bboxes: np.ndarray, kpts: Optional[np.ndarray],
                    valid: Optional[np.ndarray], ids: list[int], frame_idx: int) -> np.ndarray:
        ref_boxes = self.predicted_boxes(ids, frame_idx)
        pose = shared = None
        if self.match != 'iou' and kpts is not None and \
                all(self.tracks[i].keypoints is not None for i in ids):
            pose, shared = self._pose_similarity(kpts, valid, ids, ref_boxes)
            if self.match == 'oks':
                return pose
        iou = box_iou(bboxes, ref_boxes)
        if self.match != 'combined':
            return iou
        pose = iou if pose is None else np.where(shared, pose, iou)
        centre = _centre_similarity(bboxes, ref_boxes, self.centre_sigma)
        w_pose, w_iou, w_centre = self.weights
        return w_pose * pose + w_iou * iou + w_centre * centre

    def _continue(self, tid: int, box: np.ndarray, kpts: Optional[np.ndarray],
                  valid: Optional[np.ndarray], frame_idx: int) -> None:
        """Move track ``tid`` (new or matched) to this frame's detection."""
        old = self.tracks.get(tid)
        track = _Track(bbox=box.copy(), keypoints=None if kpts is None else kpts.copy(),
                       valid=None if valid is None else valid.copy(), last_frame=frame_idx)
        if old is not None:
            dt = max(1, frame_idx - old.last_frame)
            step = _centres(box[None])[0] - _centres(old.bbox[None])[0]
            if kpts is not None and old.keypoints is not None:
                shared = valid & old.valid
                if shared.sum() >= 2:       # the points move with less noise than the box
                    step = (kpts[shared] - old.keypoints[shared]).mean(axis=0)
            step = step / dt
            a = 1.0 if old.hits == 1 else self.velocity_smoothing
            track.velocity = a * step + (1.0 - a) * old.velocity
            track.hits = old.hits + 1
        self.tracks[tid] = track

    def _inputs(self, bboxes: np.ndarray, keypoints: Optional[np.ndarray],
                scores: Optional[np.ndarray], instance_scores: Optional[np.ndarray]
                ) -> tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray], np.ndarray]:
        """Checked boxes (N, 4), keypoints (N, K, 2), valid (N, K), scores (N,)."""
        boxes = np.asarray(bboxes, dtype=np.float64).reshape(-1, 4)
        n = boxes.shape[0]
        kpts = valid = None
        inst = np.ones(n)
        if keypoints is not None:
            kpts = np.asarray(keypoints, dtype=np.float64)
            if kpts.ndim != 3 or kpts.shape[0] != n or kpts.shape[2] != 2:
                raise ValueError(f'PoseTracker: keypoints must be ({n}, K, 2) for {n} boxes, '
                                 f'got {kpts.shape}')
            valid = np.isfinite(kpts).all(-1)
            if scores is not None:
                s = np.asarray(scores, dtype=np.float64)
                if s.shape != kpts.shape[:2]:
                    raise ValueError(f'PoseTracker: scores must be {kpts.shape[:2]}, '
                                     f'got {s.shape}')
                valid &= s >= self.kpt_thr
                inst = s.mean(axis=1) if s.shape[1] else inst
        if instance_scores is not None:
            inst = np.asarray(instance_scores, dtype=np.float64).reshape(-1)
            if inst.shape != (n,):
                raise ValueError(f'PoseTracker: instance_scores must be ({n},), '
                                 f'got {inst.shape}')
        return boxes, kpts, valid, inst

    def update(self, bboxes: np.ndarray, keypoints: Optional[np.ndarray] = None,
               scores: Optional[np.ndarray] = None, frame_idx: int = 0,
               instance_scores: Optional[np.ndarray] = None) -> np.ndarray:
        """Match one frame's instances to the tracks.

        Args:
            bboxes: (N, 4) xyxy image pixels.
            keypoints: (N, K, 2) or None.
            scores: (N, K) keypoint scores or None (all points used).
            frame_idx: the frame's index; increases from call to call.
            instance_scores: (N,) scores compared with ``new_track_thr``;
                default the mean keypoint score (1 without ``scores``).

        Returns:
            (N,) int64 track ids; -1 for an unmatched detection scored
            under ``new_track_thr``.
        """
        boxes, kpts, valid, inst = self._inputs(bboxes, keypoints, scores, instance_scores)
        n = boxes.shape[0]
        frame_idx = int(frame_idx)

        # A track is dropped once it has missed more than max_lost frames:
        # before matching for frames skipped since its last update ...
        self.lost_ids = [tid for tid, t in self.tracks.items()
                         if frame_idx - t.last_frame - 1 > self.max_lost]
        for tid in self.lost_ids:
            del self.tracks[tid]

        ids = np.full(n, -1, dtype=np.int64)
        live = sorted(self.tracks)
        if n and live:
            sim = self._similarity(boxes, kpts, valid, live, frame_idx)
            assign = greedy_assignment if self.assign == 'greedy' else hungarian_assignment
            for r, c in assign(sim, self.thr):
                ids[r] = live[c]
        for r in range(n):
            if ids[r] < 0:
                if inst[r] < self.new_track_thr:
                    continue
                ids[r] = self._next_id
                self._next_id += 1
            self._continue(int(ids[r]), boxes[r], None if kpts is None else kpts[r],
                           None if valid is None else valid[r], frame_idx)
        # ... and after it, counting this frame, for the tracks left unmatched.
        for tid in [tid for tid, t in self.tracks.items()
                    if frame_idx - t.last_frame > self.max_lost]:
            del self.tracks[tid]
            self.lost_ids.append(tid)
        return ids
