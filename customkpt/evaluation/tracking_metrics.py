"""Identity metrics of tracked poses against ground-truth tracks (numpy).

Each frame's predictions are matched one to one to its ground-truth
instances by OKS (or box IoU) with the Hungarian method
(:func:`customkpt.core.assignment.hungarian_assignment`); a pair needs a
similarity of at least ``thr``. Over the frames:

* ``id_switches``: a ground-truth track matched to another predicted id
  than the one it was last matched to;
* ``kept_id_share``: per ground-truth track, the frames matched to its
  majority id (the predicted id it was matched to most often) over the
  frames it is present in; overall, the sum of those frames over all
  ground-truth instances;
* ``misses`` (ground truth left unmatched), ``false_positives``
  (predictions left unmatched) and ``mota = 1 - (misses + false_positives
  + id_switches) / ground-truth instances`` (CLEAR-MOT's accuracy).

Frames are :class:`TrackFrame` lists, one entry per frame index;
:func:`truth_frames` reads the demo videos' per-frame truth and
:func:`result_frames` the results of :class:`customkpt.apis.VideoPoseEstimator`
(or the frames of the ``customkpt video`` JSON).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from ..core.assignment import hungarian_assignment
from ..core.boxes import box_iou, oks, xywh_to_xyxy
from ..meta import DEFAULT_SIGMA

__all__ = ['TrackFrame', 'TrackingMetrics', 'frame_similarity', 'tracking_metrics',
           'truth_frames', 'result_frames']


@dataclass
class TrackFrame:
    """The instances of one frame.

    Attributes:
        ids: (N,) int64 track ids (ground truth or predicted; a negative
            predicted id means untracked).
        boxes: (N, 4) xyxy.
        keypoints: (N, K, 2) or ``None`` (then only IoU can match).
        visible: (N, K) bool: labelled ground-truth points, or predicted
            points confident enough to count; ``None``: all.
    """

    ids: np.ndarray
    boxes: np.ndarray
    keypoints: Optional[np.ndarray] = None
    visible: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        self.ids = np.asarray(self.ids, np.int64).reshape(-1)
        self.boxes = np.asarray(self.boxes, np.float64).reshape(-1, 4)
        n = len(self.ids)
        if len(self.boxes) != n:
            raise ValueError(f'TrackFrame: {n} ids but {len(self.boxes)} boxes')
        if self.keypoints is not None:
            self.keypoints = np.asarray(self.keypoints, np.float64)
            if self.keypoints.ndim != 3 or self.keypoints.shape[::2] != (n, 2):
                raise ValueError(f'TrackFrame: keypoints must be ({n}, K, 2), '
                                 f'got {self.keypoints.shape}')
            if self.visible is None:
                self.visible = np.ones(self.keypoints.shape[:2], bool)
            self.visible = np.asarray(self.visible, bool).reshape(self.keypoints.shape[:2])

    def subset(self, keep: np.ndarray) -> 'TrackFrame':
        """The instances where ``keep`` (N,) bool is True."""
        return TrackFrame(self.ids[keep], self.boxes[keep],
                          None if self.keypoints is None else self.keypoints[keep],
                          None if self.visible is None else self.visible[keep])


@dataclass
class TrackingMetrics:
    """What :func:`tracking_metrics` counted (module docstring)."""

    frames: int = 0
    gt_instances: int = 0
    matches: int = 0
    misses: int = 0
    false_positives: int = 0
    id_switches: int = 0
    kept_id_frames: int = 0
    per_track: Dict[int, Dict[str, Any]] = field(default_factory=dict)

    @property
    def kept_id_share(self) -> float:
        """Ground-truth instances matched to their track's majority id, over all."""
        return self.kept_id_frames / self.gt_instances if self.gt_instances else 1.0

    @property
    def mota(self) -> float:
        """``1 - (misses + false positives + id switches) / ground-truth instances``."""
        if not self.gt_instances:
            return 1.0
        return 1.0 - (self.misses + self.false_positives + self.id_switches) / self.gt_instances

    def as_dict(self) -> Dict[str, Any]:
        """Plain numbers (and the per-track table) for printing or json."""
        return dict(frames=self.frames, gt_instances=self.gt_instances, matches=self.matches,
                    misses=self.misses, false_positives=self.false_positives,
                    id_switches=self.id_switches, kept_id_share=self.kept_id_share,
                    mota=self.mota, per_track=self.per_track)


def frame_similarity(gt: TrackFrame, pred: TrackFrame, match: str = 'oks',
                     sigmas: Optional[Sequence[float]] = None) -> np.ndarray:
    """(G, P) similarity of one frame's ground truth to its predictions.

    ``'oks'``: OKS over the points labelled in the ground truth and visible
    in the prediction, scaled by the ground-truth box area; a frame without
    keypoints on either side falls back to IoU. ``'iou'``: box IoU.
    """
    if match not in ('oks', 'iou'):
        raise ValueError(f"match must be 'oks' or 'iou', got {match!r}")
    if match == 'iou' or gt.keypoints is None or pred.keypoints is None or \
            not len(gt.ids) or not len(pred.ids):
        return box_iou(gt.boxes, pred.boxes)
    k = gt.keypoints.shape[1]
    if pred.keypoints.shape[1] != k:
        raise ValueError(f'{k} ground-truth keypoints but {pred.keypoints.shape[1]} predicted')
    sig = np.full(k, DEFAULT_SIGMA) if sigmas is None else np.asarray(sigmas, np.float64)
    areas = np.prod(gt.boxes[:, 2:] - gt.boxes[:, :2], axis=1)
    return np.stack([oks(g, v, a, pred.keypoints, sig, pred_valid=pred.visible)
                     for g, v, a in zip(gt.keypoints, gt.visible, areas)])


def _count_track(stats: Dict[str, Any], pred_id: Optional[int]) -> bool:
    """Add one frame of a ground-truth track; True on an identity switch."""
    stats['frames'] += 1
    if pred_id is None:
        return False
    stats['ids'][pred_id] += 1
    switched = stats['last'] is not None and stats['last'] != pred_id
    stats['last'] = pred_id
    stats['switches'] += int(switched)
    return switched


def tracking_metrics(gt_frames: Sequence[TrackFrame], pred_frames: Sequence[TrackFrame],
                     match: str = 'oks', thr: float = 0.5,
                     sigmas: Optional[Sequence[float]] = None) -> TrackingMetrics:
    """Identity switches, kept ids, misses and false positives over a video.

    Args:
        gt_frames: the ground truth, one entry per frame.
        pred_frames: the predictions of the same frames; instances with a
            negative id (untracked) are left out.
        match: ``'oks'`` or ``'iou'``.
        thr: the smallest similarity of a match.
        sigmas: (K,) OKS sigmas; ``DEFAULT_SIGMA`` each by default.

    Returns:
        The counts; ``per_track`` maps each ground-truth id to its frames,
        matched frames, majority id, frames with that id and switches.
    """
    if len(gt_frames) != len(pred_frames):
        raise ValueError(f'tracking_metrics: {len(gt_frames)} ground-truth frames but '
                         f'{len(pred_frames)} predicted frames')
    out = TrackingMetrics(frames=len(gt_frames))
    tracks: Dict[int, Dict[str, Any]] = {}
    for gt, pred in zip(gt_frames, pred_frames):
        pred = pred.subset(pred.ids >= 0)
        pairs = dict(hungarian_assignment(frame_similarity(gt, pred, match, sigmas), thr))
        for g, gid in enumerate(gt.ids.tolist()):
            stats = tracks.setdefault(gid, dict(frames=0, ids=Counter(), last=None,
                                                switches=0))
            p = pairs.get(g)
            out.id_switches += int(_count_track(stats, None if p is None else
                                                int(pred.ids[p])))
        out.gt_instances += len(gt.ids)
        out.matches += len(pairs)
        out.misses += len(gt.ids) - len(pairs)
        out.false_positives += len(pred.ids) - len(pairs)
    for gid in sorted(tracks):
        stats = tracks[gid]
        major, kept = stats['ids'].most_common(1)[0] if stats['ids'] else (None, 0)
        out.kept_id_frames += kept
        out.per_track[gid] = dict(frames=stats['frames'], matched=sum(stats['ids'].values()),
                                  majority_id=major, majority_frames=kept,
                                  switches=stats['switches'])
    return out


def truth_frames(truth: Mapping[str, Any]) -> List[TrackFrame]:
    """The frames of a demo video's truth json (``video/*_gt.json``): true
    positions, labelled where ``v > 0``, boxes from ``[x, y, w, h]``."""
    out = []
    for frame in truth['frames']:
        insts = frame['instances']
        if not insts:
            out.append(TrackFrame(np.zeros(0), np.zeros((0, 4))))
            continue
        kpts = np.asarray([i['keypoints'] for i in insts], np.float64)
        out.append(TrackFrame([i['track_id'] for i in insts],
                              xywh_to_xyxy([i['bbox'] for i in insts], np.float64),
                              kpts[..., :2], kpts[..., 2] > 0))
    return out


def result_frames(results: Sequence[Mapping[str, Any]], num_frames: int,
                  score_thr: float = 0.3, key: str = 'keypoints_raw') -> List[TrackFrame]:
    """Tracked results (``dict(frame_idx, instances=[dict(track_id, bbox,
    keypoints_raw, keypoint_scores)])``) as ``num_frames`` frames; frames
    without a result are empty; points scored under ``score_thr`` do not count."""
    by_frame = {int(r['frame_idx']): r for r in results}
    out = []
    for t in range(num_frames):
        insts = by_frame.get(t, {}).get('instances', [])
        if not insts:
            out.append(TrackFrame(np.zeros(0), np.zeros((0, 4))))
            continue
        kpts = np.stack([np.asarray(i.get(key, i['keypoints']), np.float64) for i in insts])
        scores = np.stack([np.asarray(i['keypoint_scores'], np.float64) for i in insts])
        out.append(TrackFrame([i['track_id'] for i in insts],
                              np.stack([np.asarray(i['bbox'], np.float64) for i in insts]),
                              kpts, scores >= score_thr))
    return out
