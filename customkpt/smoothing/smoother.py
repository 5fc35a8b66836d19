"""Per-track smoothing: one filter state per track id."""
from __future__ import annotations

import copy
from typing import Optional

import numpy as np

from ..registry import KEYPOINT_FILTERS
from .filters import KeypointFilter

__all__ = ['KeypointSmoother', 'DEFAULT_FILTER']

#: The filter used when none is configured.
DEFAULT_FILTER = dict(type='OneEuroFilter', min_cutoff=1.0, beta=0.0)


class KeypointSmoother:
    """Smooth the keypoints of several tracks.

    Online use (a video tool, frame by frame)::

        smoother = KeypointSmoother(dict(type='OneEuroFilter', min_cutoff=1.0, beta=0.01, fps=25))
        for frame ...:
            ids = tracker.update(bboxes, keypoints, scores, frame_idx)
            for tid in tracker.lost_ids:
                smoother.drop(tid)
            for i, tid in enumerate(ids):
                keypoints[i] = smoother.update(tid, keypoints[i], scores[i])

    Offline use (whole sequences; any filter, required for the offline
    ones): :meth:`smooth_sequence` for one track, :meth:`smooth_tracks` for
    many tracks given as flat rows.

    Points scored below ``score_thr`` do not feed the filters and are
    returned unchanged.

    Args:
        filter_cfg: a ``KEYPOINT_FILTERS`` config (``type`` plus
            arguments); None for :data:`DEFAULT_FILTER`.
        score_thr: keypoint score threshold for a point to be smoothed.
    """

    def __init__(self, filter_cfg: Optional[dict] = None, score_thr: float = 0.3) -> None:
        cfg = copy.deepcopy(dict(filter_cfg) if filter_cfg is not None else DEFAULT_FILTER)
        if 'type' not in cfg:
            raise ValueError(f'KeypointSmoother: filter_cfg needs a "type", got {filter_cfg!r}')
        self.filter_cfg = cfg
        self.score_thr = float(score_thr)
        self._template = self._build()
        self._filters: dict[int, KeypointFilter] = {}

    def _build(self) -> KeypointFilter:
        filt = KEYPOINT_FILTERS.build(copy.deepcopy(self.filter_cfg))
        if not isinstance(filt, KeypointFilter):
            raise TypeError(f'KeypointSmoother: {self.filter_cfg["type"]!r} built a '
                            f'{type(filt).__name__}, not a KeypointFilter')
        return filt

    @property
    def online(self) -> bool:
        """True when the filter works frame by frame (:meth:`update` works)."""
        return self._template.online

    @property
    def track_ids(self) -> list[int]:
        """Ids of the tracks with a filter state."""
        return list(self._filters)

    def _valid(self, scores: Optional[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        if scores is None:
            return np.ones(shape, dtype=bool)
        s = np.asarray(scores, dtype=np.float64)
        if s.shape != shape:
            raise ValueError(f'KeypointSmoother: scores must have shape {shape}, got {s.shape}')
        return s >= self.score_thr

    def update(self, track_id: int, keypoints: np.ndarray, scores: Optional[np.ndarray] = None,
               t: Optional[float] = None) -> np.ndarray:
        """Filter one frame of one track.

        Args:
            track_id: the track (a new id starts a fresh filter).
            keypoints: (K, 2) image pixels.
            scores: (K,) keypoint scores, or None for all valid.
            t: the frame's time (see the filter; optional).

        Returns:
            float32 (K, 2).
        """
        if not self.online:
            raise TypeError(f'KeypointSmoother: {type(self._template).__name__} is an offline '
                            'filter; use smooth_sequence / smooth_tracks on whole sequences')
        kpts = np.asarray(keypoints, dtype=np.float32)
        if kpts.ndim != 2 or kpts.shape[1] != 2:
            raise ValueError(f'KeypointSmoother: keypoints of track {track_id} must be (K, 2), '
                             f'got {kpts.shape}')
        filt = self._filters.get(int(track_id))
        if filt is None:
            filt = self._filters[int(track_id)] = self._build()
        return filt(kpts, self._valid(scores, kpts.shape[:1]), t)

    def drop(self, track_id: int) -> None:
        """Forget a track (lost by the tracker); unknown ids are ignored."""
        self._filters.pop(int(track_id), None)

    def reset(self) -> None:
        """Forget every track."""
        self._filters.clear()

    def smooth_sequence(self, keypoints: np.ndarray, scores: Optional[np.ndarray] = None,
                        timestamps: Optional[np.ndarray] = None) -> np.ndarray:
        """Smooth one track's whole sequence.

        Args:
            keypoints: (T, K, 2), one row per frame.
            scores: (T, K), or None for all valid.
            timestamps: (T,) optional frame times (used by OneEuroFilter).

        Returns:
            float32 (T, K, 2).
        """
        kpts = np.asarray(keypoints, dtype=np.float32)
        if kpts.ndim != 3 or kpts.shape[2] != 2:
            raise ValueError(f'KeypointSmoother: a sequence must be (T, K, 2), got {kpts.shape}')
        return self._build().smooth(kpts, self._valid(scores, kpts.shape[:2]), timestamps)

    def smooth_tracks(self, track_ids: np.ndarray, frame_ids: np.ndarray,
                      keypoints: np.ndarray, scores: Optional[np.ndarray] = None) -> np.ndarray:
        """Smooth many tracks given as flat rows (one row per instance and frame).

        Each track is laid out on its frames ``min .. max`` (frames where it
        is missing count as invalid, so online filters restart there and
        offline windows keep their true time span) and smoothed with
        :meth:`smooth_sequence`.

        Args:
            track_ids: (M,) int track of each row.
            frame_ids: (M,) int frame of each row; unique within a track.
            keypoints: (M, K, 2).
            scores: (M, K), or None for all valid.

        Returns:
            float32 (M, K, 2), rows in the input order.
        """
        tids = np.asarray(track_ids).reshape(-1).astype(np.int64)
        fids = np.asarray(frame_ids).reshape(-1).astype(np.int64)
        kpts = np.asarray(keypoints, dtype=np.float32)
        if kpts.ndim != 3 or kpts.shape[2] != 2 or not len(tids) == len(fids) == len(kpts):
            raise ValueError('KeypointSmoother.smooth_tracks: need track_ids (M,), frame_ids '
                             f'(M,) and keypoints (M, K, 2), got {tids.shape}, {fids.shape}, '
                             f'{kpts.shape}')
        valid = self._valid(scores, kpts.shape[:2])
        out = kpts.copy()
        for tid in np.unique(tids):
            rows = np.flatnonzero(tids == tid)
            frames = fids[rows]
            if len(np.unique(frames)) != len(frames):
                raise ValueError(f'KeypointSmoother.smooth_tracks: track {tid} has two rows '
                                 'for one frame')
            first = int(frames.min())
            length = int(frames.max()) - first + 1
            seq = np.zeros((length, kpts.shape[1], 2), dtype=np.float32)
            seq_valid = np.zeros((length, kpts.shape[1]), dtype=bool)
            seq[frames - first] = kpts[rows]
            seq_valid[frames - first] = valid[rows]
            smoothed = self._build().smooth(seq, seq_valid)  # one frame apart: fps or unit steps
            out[rows] = smoothed[frames - first]
        return out
