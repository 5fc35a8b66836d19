"""Frame-to-frame identity for pose instances (:class:`PoseTracker`).

Each frame's detections are matched against the live tracks by a
similarity (keypoint OKS against the track's last pose, or box IoU
against its last box). Matched detections take the track's id, the others
start new tracks; ids are never reused. A track not matched for more than
``max_lost`` frames is dropped and its id is listed in ``lost_ids`` after
that update, so that callers can reset per-track state (smoothers).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ..core.boxes import box_iou, oks
from ..meta import DEFAULT_SIGMA

__all__ = ['PoseTracker', 'greedy_assignment', 'hungarian_assignment']


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


def greedy_assignment(sim: np.ndarray, thr: float) -> list[tuple[int, int]]:
    """Pairs (row, col) taken highest similarity first, each row and column
    once, only pairs with ``sim >= thr``."""
    pairs: list[tuple[int, int]] = []
    if sim.size == 0:
        return pairs
    order = np.argsort(-sim, axis=None, kind='stable')
    used_r, used_c = set(), set()
    for flat in order:
        r, c = divmod(int(flat), sim.shape[1])
        if sim[r, c] < thr:
            break
        if r in used_r or c in used_c:
            continue
        used_r.add(r)
        used_c.add(c)
        pairs.append((r, c))
    return pairs


def hungarian_assignment(sim: np.ndarray, thr: float) -> list[tuple[int, int]]:
    """Pairs (row, col) maximising the total similarity (Hungarian method,
    shortest augmenting paths with potentials), then keeping pairs with
    ``sim >= thr``. Pairs under ``thr`` are made unattractive beforehand so
    that they never displace a valid pair."""
    n_rows, n_cols = sim.shape
    if n_rows == 0 or n_cols == 0:
        return []
    transpose = n_rows > n_cols
    s = sim.T if transpose else sim
    n, m = s.shape  # n <= m
    # Cost to minimise; pairs under thr cost as much as leaving both free.
    cost = np.where(s >= thr, -s, 0.0)
    inf = float('inf')
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    match_col = np.zeros(m + 1, dtype=int)  # column -> row (1-based, 0 = free)
    way = np.zeros(m + 1, dtype=int)
    for i in range(1, n + 1):
        match_col[0] = i
        j0 = 0
        minv = np.full(m + 1, inf)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = match_col[j0]
            delta, j1 = inf, 0
            for j in range(1, m + 1):
                if used[j]:
                    continue
                cur = cost[i0 - 1, j - 1] - u[i0] - v[j]
                if cur < minv[j]:
                    minv[j] = cur
                    way[j] = j0
                if minv[j] < delta:
                    delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[match_col[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if match_col[j0] == 0:
                break
        while True:
            j1 = way[j0]
            match_col[j0] = match_col[j1]
            j0 = j1
            if j0 == 0:
                break
    pairs = []
    for j in range(1, m + 1):
        i = match_col[j]
        if i and s[i - 1, j - 1] >= thr:
            pairs.append((j - 1, i - 1) if transpose else (i - 1, j - 1))
    return sorted(pairs)


@dataclass
class _Track:
    bbox: np.ndarray                 # (4,) xyxy
    keypoints: Optional[np.ndarray]  # (K, 2)
    valid: Optional[np.ndarray]      # (K,) bool
    last_frame: int


class PoseTracker:
    """Give pose instances ids that persist from frame to frame.

    Args:
        match: ``'oks'`` (keypoints against the track's last pose, scaled by
            the track's box area; falls back to IoU for a frame without
            keypoints) or ``'iou'`` (boxes).
        thr: the smallest similarity that continues a track.
        max_lost: frames a track may miss; it is dropped (and listed in
            ``lost_ids``) at the update where it has missed more.
        sigmas: (K,) OKS sigmas, e.g. ``meta['sigmas']``; default
            ``DEFAULT_SIGMA`` for every point.
        assign: ``'greedy'`` (highest similarity first) or ``'hungarian'``
            (best total similarity).
        kpt_thr: keypoints scored below this are left out of the OKS.

    Attributes:
        lost_ids: ids dropped during the last :meth:`update`.
    """

    def __init__(self, match: str = 'oks', thr: float = 0.3, max_lost: int = 10,
                 sigmas: Optional[Sequence[float]] = None, assign: str = 'greedy',
                 kpt_thr: float = 0.3) -> None:
        if match not in ('oks', 'iou'):
            raise ValueError(f"PoseTracker: match must be 'oks' or 'iou', got {match!r}")
        if assign not in ('greedy', 'hungarian'):
            raise ValueError(f"PoseTracker: assign must be 'greedy' or 'hungarian', "
                             f'got {assign!r}')
        if max_lost < 0:
            raise ValueError(f'PoseTracker: max_lost must be >= 0, got {max_lost}')
        self.match = match
        self.thr = float(thr)
        self.max_lost = int(max_lost)
        self.sigmas = None if sigmas is None else np.asarray(sigmas, dtype=np.float64)
        self.assign = assign
        self.kpt_thr = float(kpt_thr)
        self.tracks: dict[int, _Track] = {}
        self.lost_ids: list[int] = []
        self._next_id = 0

    def reset(self) -> None:
        """Drop every track; ids keep counting up (never reused)."""
        self.tracks.clear()
        self.lost_ids = []

    def _similarity(self, bboxes: np.ndarray, kpts: Optional[np.ndarray],
                    valid: Optional[np.ndarray], ids: list[int]) -> np.ndarray:
        tracks = [self.tracks[i] for i in ids]
        if self.match == 'iou' or kpts is None or any(t.keypoints is None for t in tracks):
            return box_iou(bboxes, np.stack([t.bbox for t in tracks]))
        num_kpts = kpts.shape[1]
        sigmas = self.sigmas if self.sigmas is not None else np.full(num_kpts, DEFAULT_SIGMA)
        if sigmas.shape != (num_kpts,):
            raise ValueError(f'PoseTracker: {sigmas.shape[0]} sigmas for {num_kpts} keypoints')
        ref = np.stack([t.keypoints for t in tracks])
        ref_valid = np.stack([t.valid for t in tracks])
        boxes = np.stack([t.bbox for t in tracks])
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        return _pairwise_oks(kpts, valid, ref, ref_valid, areas, sigmas)

    def update(self, bboxes: np.ndarray, keypoints: Optional[np.ndarray] = None,
               scores: Optional[np.ndarray] = None, frame_idx: int = 0) -> np.ndarray:
        """Match one frame's instances to the tracks.

        Args:
            bboxes: (N, 4) xyxy image pixels.
            keypoints: (N, K, 2) or None.
            scores: (N, K) keypoint scores or None (all points used).
            frame_idx: the frame's index; increases from call to call.

        Returns:
            (N,) int64 track ids.
        """
        boxes = np.asarray(bboxes, dtype=np.float64).reshape(-1, 4)
        n = boxes.shape[0]
        kpts = valid = None
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
            sim = self._similarity(boxes, kpts, valid, live)
            assign = greedy_assignment if self.assign == 'greedy' else hungarian_assignment
            for r, c in assign(sim, self.thr):
                ids[r] = live[c]
        for r in range(n):
            if ids[r] < 0:
                ids[r] = self._next_id
                self._next_id += 1
            self.tracks[int(ids[r])] = _Track(
                bbox=boxes[r].copy(), keypoints=None if kpts is None else kpts[r].copy(),
                valid=None if valid is None else valid[r].copy(), last_frame=frame_idx)
        # ... and after it, counting this frame, for the tracks left unmatched.
        for tid in [tid for tid, t in self.tracks.items()
                    if frame_idx - t.last_frame > self.max_lost]:
            del self.tracks[tid]
            self.lost_ids.append(tid)
        return ids
