"""Outlier frames of a video for a trained top-down model (HRNet, RTMPose):
the frames most worth labelling next.

:func:`find_outliers` runs the model over the video through the video
pipeline (:func:`~customkpt.apis.run_video`: frame source, box provider,
tracker; no smoothing, so glitches stay visible) and scores every frame with
:mod:`customkpt.apis.outlier_scores`. Each box is run twice through
:func:`~customkpt.apis.inference_topdown` with the model's own flip test
off: on the frame and on the mirrored frame (its keypoints mirrored back and
left/right swapped by the flip table). Their disagreement is the ``flip``
term; their mean is the prediction (it drives tracking and is what the
labelling files are filled in with), so the cost is the same two network
passes a flip-tested model makes anyway. A model configured without flip
test (``flip_test = False``: ``train --data`` sets it where a flip would
mislabel points, and trains without flips) is run once per box: the
mirrored frame is not a view it knows, and its ``flip`` term is 0.

The ``pose`` term needs the labelled poses: :func:`fit_label_subspace`
fits a :class:`~customkpt.core.pose_subspace.PoseSubspace` to a COCO
training json (by default the config's training annotation file).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from customkpt.core.flip import flip_boxes, flip_keypoints
from customkpt.core.pose_subspace import PoseSubspace, fit

from .inference import TopdownPredictor
from .outlier_scores import (DEAD_ZONE, MIN_SCORE, InstanceTable, OutlierScores,
                             frame_features, instance_scales, pose_boxes, score_instances,
                             select_confident, select_frames)
from .pipeline import VideoOutputs, VideoRunSummary, run_video
from .sources import FrameSource
from .video import VideoPoseEstimator

__all__ = ['PICKS', 'FlipPairPredictor', 'OutlierReport', 'find_outliers',
           'fit_label_subspace', 'read_label_poses', 'training_ann_file']

#: What :func:`find_outliers` picks: the frames the terms score worst (to
#: label), or those they score best (to use the predictions as pseudo-labels).
PICKS = ('outliers', 'confident')


class FlipPairPredictor:
    """A :class:`~customkpt.apis.TopdownPredictor` that runs every box on the
    frame and on its mirror image and returns the mean of the two.

    The model's own flip test is switched off (``model.test_cfg['flip_test']
    = False``). After each call, :attr:`last` holds ``plain`` and
    ``flipped`` keypoints (N, K, 2) in image pixels. A model whose
    ``test_cfg`` has ``flip_test=False`` is not mirrored (:attr:`mirror`
    False): its prediction is the plain one, and ``flipped`` is a copy of it.

    Args:
        model: from :func:`~customkpt.apis.init_model`, with a flip table in
            ``dataset_meta`` (unless it is not mirrored).
        batch_size: most boxes per forward pass.
    """

    def __init__(self, model: Any, batch_size: int | None = None) -> None:
        self.model = model
        test_cfg = dict(getattr(model, 'test_cfg', None) or {})
        self.mirror = bool(test_cfg.get('flip_test', True))
        model.test_cfg = dict(test_cfg, flip_test=False)
        self.inner = TopdownPredictor(model, batch_size=batch_size)
        self.meta = self.inner.meta
        self.last: dict[str, np.ndarray] | None = None
        if not self.mirror:
            return
        table = self.meta.get('flip_indices')
        if table is None:
            raise ValueError('the model has no flip table (dataset_meta["flip_indices"]): '
                             'load it with init_model from a trained checkpoint')
        self.flip_indices = [int(i) for i in table]

    def __call__(self, img: np.ndarray, bboxes: np.ndarray,
                 bbox_scores: np.ndarray | None = None) -> dict[str, np.ndarray]:
        plain = self.inner(img, bboxes, bbox_scores)
        if not self.mirror:
            kpts = np.asarray(plain['keypoints'], np.float32)
            self.last = dict(plain=kpts, flipped=kpts.copy())
            return plain
        width = img.shape[1]
        mirrored = np.ascontiguousarray(img[:, ::-1])
        other = self.inner(mirrored, flip_boxes(plain['bboxes'], width), bbox_scores)
        back, _ = flip_keypoints(other['keypoints'], None, width, self.flip_indices)
        back_scores = np.asarray(other['keypoint_scores'])[:, self.flip_indices]
        self.last = dict(plain=plain['keypoints'], flipped=back.astype(np.float32))
        out = dict(plain)
        out['keypoints'] = ((plain['keypoints'] + back) / 2).astype(np.float32)
        out['keypoint_scores'] = ((plain['keypoint_scores'] + back_scores) / 2
                                  ).astype(np.float32)
        return out


class _FlipRecordingEstimator(VideoPoseEstimator):
    """Adds the predictor's ``plain`` and ``flipped`` keypoints to each
    instance of a frame's result (``keypoints_plain``, ``keypoints_flipped``)."""

    def process(self, frame: np.ndarray, frame_idx: int,
                timestamp: float | None = None) -> dict[str, Any]:
        self.predictor.last = None
        result = super().process(frame, frame_idx, timestamp)
        last = self.predictor.last
        for i, inst in zip(self.kept, result['instances']):   # after the pose NMS
            inst['keypoints_plain'] = last['plain'][i]
            inst['keypoints_flipped'] = last['flipped'][i]
        return result


def training_ann_file(cfg: Any) -> Path | None:
    """The training annotation file a config names (``data_root`` joined),
    when it names one."""
    loader = cfg.get('train_dataloader') if hasattr(cfg, 'get') else None
    dataset = (loader or {}).get('dataset') or {}
    while isinstance(dataset, Mapping) and 'ann_file' not in dataset and 'dataset' in dataset:
        dataset = dataset['dataset']  # wrappers (repeat, concat of one)
    ann = dataset.get('ann_file') if isinstance(dataset, Mapping) else None
    if not isinstance(ann, str) or not ann:
        return None
    return Path(dataset.get('data_root') or '') / ann


def read_label_poses(ann_file: str | Path, keypoint_names: list[str]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Labelled poses (N, K, 2) and visibility (N, K) of a COCO json whose
    keypoint category has ``keypoint_names`` (same order).

    Raises:
        FileNotFoundError: no such file.
        ValueError: no category with these keypoint names.
    """
    path = Path(ann_file)
    if not path.is_file():
        raise FileNotFoundError(f'training annotation file not found: {path}')
    coco = json.loads(path.read_text(encoding='utf-8'))
    cats = [c for c in coco.get('categories') or []
            if [str(n) for n in c.get('keypoints') or []] == list(keypoint_names)]
    if not cats:
        found = [c.get('keypoints') for c in coco.get('categories') or []]
        raise ValueError(f'{path}: no category with the model\'s keypoints {keypoint_names} '
                         f'(found {found})')
    ids = {c['id'] for c in cats}
    k = len(keypoint_names)
    rows = [np.asarray(a['keypoints'], np.float64).reshape(k, 3)
            for a in coco.get('annotations') or []
            if a.get('category_id') in ids and not a.get('iscrowd') and a.get('keypoints')]
    kpts = np.stack(rows) if rows else np.zeros((0, k, 3))
    return kpts[..., :2].astype(np.float32), (kpts[..., 2] > 0).astype(np.float32)


def fit_label_subspace(ann_file: str | Path, keypoint_names: list[str],
                       variance: float = 0.99) -> PoseSubspace:
    """The pose subspace of the labelled poses of a COCO json, each pose
    normalised by its own extent (as :mod:`~customkpt.apis.outlier_scores`
    normalises predictions)."""
    poses, visible = read_label_poses(ann_file, keypoint_names)
    complete = visible.all(axis=1) if len(visible) else np.zeros(0, bool)
    boxes = np.zeros((len(poses), 4), np.float32)
    if complete.any():
        full = poses[complete]
        boxes[complete] = pose_boxes(full, instance_scales(full, None, 0.0))
    return fit(poses, boxes, visible, variance=variance)


@dataclass
class OutlierReport:
    """What :func:`find_outliers` found.

    Attributes:
        table: every instance of the video.
        scores: the terms and frame scores.
        picked: rows of ``scores.frames`` picked, highest score first
            (``pick='confident'``: lowest first).
        summary: the video run (frames, skipped, time).
        subspace: the pose subspace used, or ``None``.
    """

    table: InstanceTable
    scores: OutlierScores
    picked: np.ndarray
    summary: VideoRunSummary
    subspace: PoseSubspace | None = None

    @property
    def picked_frames(self) -> list[int]:
        """Frame indices of the picked frames, best first."""
        return [int(self.scores.frames[i]) for i in self.picked]


def find_outliers(source: FrameSource, model: Any, num_frames: int,
                  box_provider: Mapping[str, Any] | None = None,
                  tracker: Mapping[str, Any] | bool | None = None,
                  subspace: PoseSubspace | None = None,
                  weights: Mapping[str, float] | None = None, top_fraction: float = 0.25,
                  min_score: float = MIN_SCORE, dead_zone: float = DEAD_ZONE,
                  seed: int = 0, kpt_thr: float = 0.3, batch_size: int | None = None,
                  progress: bool = True, pick: str = 'outliers') -> OutlierReport:
    """Score every frame of ``source`` and pick ``num_frames`` to label
    (or, with ``pick='confident'``, to pseudo-label).

    Args:
        source: the video (:func:`~customkpt.apis.open_source`).
        model: from :func:`~customkpt.apis.init_model`.
        num_frames: frames to pick.
        box_provider: a ``BOX_PROVIDERS`` config (whole frame by default).
        tracker: :class:`~customkpt.smoothing.PoseTracker` arguments
            (``dict(match='oks', thr=0.3, max_lost=10)`` by default;
            ``False``: none, an instance's id is its place in the frame);
            jumps are measured along tracks.
        subspace: labelled poses' subspace for the ``pose`` term.
        weights: term weights (see :data:`~customkpt.apis.outlier_scores.DEFAULT_WEIGHTS`).
        top_fraction: candidates for the diverse pick (see
            :func:`~customkpt.apis.outlier_scores.select_frames`).
        min_score: score of a clear outlier.
        dead_zone: per-frame motion that is no jump.
        seed: k-means seed.
        kpt_thr: keypoint score for tracking.
        batch_size: most boxes per forward pass.
        progress: show a progress bar.
        pick: ``'outliers'`` (:func:`~customkpt.apis.outlier_scores.select_frames`)
            or ``'confident'`` (:func:`~customkpt.apis.outlier_scores.select_confident`,
            ``top_fraction`` and ``seed`` as for the other; ``min_score`` unused).
    """
    if pick not in PICKS:
        raise ValueError(f'pick {pick!r}: expected one of {PICKS}')
    predictor = FlipPairPredictor(model, batch_size=batch_size)
    if tracker is None:
        tracker = dict(match='oks', thr=0.3, max_lost=10)
    estimator = _FlipRecordingEstimator(predictor, box_provider, smoother=None,
                                        score_thr=kpt_thr, tracker=tracker or None)
    summary = run_video(source, estimator, VideoOutputs(), progress=progress,
                        keep_results=True)
    k = len(predictor.meta.get('keypoint_names') or [])
    table = InstanceTable.from_results(summary.results or [], k)
    scores = score_instances(table, subspace, weights, dead_zone)
    features = frame_features(table, scores)
    if not len(scores.frames):
        picked = np.zeros(0, np.int64)
    elif pick == 'confident':
        picked = select_confident(features, scores.frame_score, num_frames, top_fraction, seed)
    else:
        picked = select_frames(features, scores.frame_score, num_frames, top_fraction,
                               min_score, seed)
    return OutlierReport(table, scores, picked, summary, subspace)
