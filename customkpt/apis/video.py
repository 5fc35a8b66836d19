"""Keypoints on video, one frame at a time (:class:`VideoPoseEstimator`)::

    frame -> box provider -> predictor (torch or ONNX) -> pose OKS-NMS
          -> tracker (ids) -> smoother (per track) -> result dict

Frames come from :mod:`customkpt.apis.sources`; results go to the writers of
:mod:`customkpt.apis.writers`. A frame's result::

    dict(frame_idx=int, timestamp=float | None, instances=[
        dict(track_id=int, bbox=(4,) xyxy, bbox_score=float,
             keypoints=(K, 2) smoothed, keypoint_scores=(K,),
             keypoints_raw=(K, 2) as the model gave them), ...])
"""
from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

import numpy as np

from customkpt.core.boxes import DEFAULT_POSE_NMS_THR, oks_nms
from customkpt.core.instance_scores import rescore_instances
from customkpt.meta import DEFAULT_SIGMA, default_sigmas

from .boxes import BoxProvider, build_box_provider

__all__ = ['VideoPoseEstimator', 'model_box_floor', 'DEFAULT_POSE_NMS_THR']


def _is_config(obj: Any) -> bool:
    return isinstance(obj, Mapping)


def _input_and_padding(predictor: Any) -> tuple[Any, float]:
    """The network input (w, h) and the box padding of the predictor's
    crops: the sidecar's for ONNX, the test pipeline's for a torch model."""
    info = getattr(predictor, 'info', None)
    if isinstance(info, Mapping) and info.get('input_size'):
        return info['input_size'], float(info.get('bbox_padding', 1.25))
    model = getattr(predictor, 'model', None)
    if model is None:
        return getattr(predictor, 'input_size', None), 1.25
    import warnings

    from customkpt.deploy.export import deploy_settings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            settings = deploy_settings(model)
        return settings['input_size'], float(settings['bbox_padding'])
    except (ValueError, AttributeError, KeyError, TypeError):
        decoder = getattr(getattr(model, 'head', None), 'decoder', None)
        return getattr(decoder, 'input_size', None), 1.25


def model_box_floor(predictor: Any) -> float | None:
    """The smallest box side, in frame pixels, that keeps the model's crop
    at or above its own input resolution: ``max(input_size) / bbox_padding``
    (the predictor pads each box by ``bbox_padding`` before cropping it to
    ``input_size``). A smaller box means the frame is enlarged into the
    crop, and an uncertain model, whose confident points huddle together,
    would shrink the box further every frame. ``None`` when the predictor
    does not tell its input size."""
    size, padding = _input_and_padding(predictor)
    if not size:
        return None
    return float(max(int(v) for v in size)) / max(padding, 1e-6)


class VideoPoseEstimator:
    """Boxes, keypoints, track ids and smoothing for one frame at a time.

    Args:
        predictor: callable ``(img, bboxes, bbox_scores) -> dict(keypoints
            (N, K, 2), keypoint_scores (N, K), bboxes (N, 4), bbox_scores
            (N,))`` with a ``meta`` dict (:class:`~customkpt.apis.TopdownPredictor`
            or :class:`customkpt.deploy.OnnxPredictor`).
        box_provider: a ``BOX_PROVIDERS`` config or a provider object.
        tracker: :class:`customkpt.smoothing.PoseTracker` arguments
            (``dict(match='oks', thr=0.3, max_lost=10)``; OKS sigmas default
            to the predictor's meta), a tracker object, or ``None``: then an
            instance's id is its position in the frame.
        smoother: a ``KEYPOINT_FILTERS`` config for
            :class:`customkpt.smoothing.KeypointSmoother`
            (``dict(type='OneEuroFilter', ...)``), a smoother object, or
            ``None`` (no smoothing). Offline filters (Savitzky-Golay,
            Gaussian) cannot run frame by frame: :meth:`process` then returns
            raw keypoints and :meth:`smooth_offline` smooths the finished
            results.
        score_thr: keypoint score below which points are not smoothed (and,
            for the default tracker, not matched).
        pose_nms_thr: before tracking, a pose whose OKS to a better-scored
            pose of the same frame is above this is dropped (two boxes on
            one subject give two copies of its pose, which would otherwise
            keep two track ids on it). Instances are ranked by box score x
            mean of their keypoint scores above ``score_thr`` (the COCO
            metric's ranking); the OKS uses the predictor's sigmas (else the
            defaults by keypoint name) and the box areas. ``None`` or 0: off.

    Attributes:
        timings: seconds spent per stage ('boxes', 'model', 'tracking' (pose
            NMS included), 'smoothing') since the last :meth:`reset`.
        frames: number of frames processed.
        kept: (M,) indices, into the predictor's output for the last frame,
            of the instances that frame's result holds (after the pose NMS).
    """

    def __init__(self, predictor: Any,
                 box_provider: Mapping[str, Any] | BoxProvider | None = None,
                 tracker: Mapping[str, Any] | Any | None = None,
                 smoother: Mapping[str, Any] | Any | None = None,
                 score_thr: float = 0.3,
                 pose_nms_thr: float | None = DEFAULT_POSE_NMS_THR) -> None:
        self.predictor = predictor
        self.meta = dict(getattr(predictor, 'meta', None) or {})
        self.score_thr = float(score_thr)
        if pose_nms_thr is not None and not 0.0 <= float(pose_nms_thr) <= 1.0:
            raise ValueError(f'VideoPoseEstimator: pose_nms_thr must be an OKS in [0, 1] '
                             f'(0 or None: off), got {pose_nms_thr}')
        self.pose_nms_thr = float(pose_nms_thr) if pose_nms_thr else None
        self.box_provider = build_box_provider(box_provider if box_provider is not None
                                               else dict(type='FullFrameBoxes'))
        self.tracker = self._build_tracker(tracker)
        self.smoother = self._build_smoother(smoother)
        self.offline = self.smoother is not None and not getattr(self.smoother, 'online', True)
        if hasattr(self.box_provider, 'min_size') and self.box_provider.min_size is None:
            self.box_provider.min_size = model_box_floor(predictor)
        self.reset()

    def _build_tracker(self, cfg: Any) -> Any:
        if cfg is None or not _is_config(cfg):
            return cfg
        from customkpt.smoothing import PoseTracker
        cfg = dict(cfg)
        if cfg.get('match', 'oks') != 'iou' and cfg.get('sigmas') is None and \
                self.meta.get('sigmas') is not None:
            cfg['sigmas'] = list(self.meta['sigmas'])
        cfg.setdefault('kpt_thr', self.score_thr)
        return PoseTracker(**cfg)

    def _build_smoother(self, cfg: Any) -> Any:
        if cfg is None or not _is_config(cfg):
            return cfg
        from customkpt.smoothing import KeypointSmoother
        return KeypointSmoother(dict(cfg), score_thr=self.score_thr)

    def reset(self) -> None:
        """Forget tracks, filter states, the last frame and the timings."""
        self.previous: dict[str, np.ndarray] | None = None
        self.timings = dict(boxes=0.0, model=0.0, tracking=0.0, smoothing=0.0)
        self.frames = 0
        self.kept = np.zeros(0, np.int64)
        self._smoothed_ids: set[int] = set()
        if self.tracker is not None and hasattr(self.tracker, 'reset'):
            self.tracker.reset()
        if self.smoother is not None and hasattr(self.smoother, 'reset'):
            self.smoother.reset()
        if hasattr(self.box_provider, 'reset'):
            self.box_provider.reset()

    def _predict(self, frame: np.ndarray, frame_idx: int) -> dict[str, np.ndarray]:
        t0 = time.perf_counter()
        boxes, box_scores = self.box_provider(frame, frame_idx, self.previous)
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        t1 = time.perf_counter()
        self.timings['boxes'] += t1 - t0
        if len(boxes) == 0:
            k = len(self.meta.get('keypoint_names') or [])
            return dict(keypoints=np.zeros((0, k, 2), np.float32),
                        keypoint_scores=np.zeros((0, k), np.float32), bboxes=boxes,
                        bbox_scores=np.zeros(0, np.float32))
        preds = self.predictor(frame, boxes, np.asarray(box_scores, np.float32).reshape(-1))
        if getattr(self.box_provider, 'refine_lost', False) and self.box_provider.lost:
            # Tracking was lost and the fallback's boxes (often the whole
            # frame) gave rough keypoints: run again on the boxes they give,
            # so this frame's result, and the track it starts, use a box like
            # the following frames' ones.
            refined, refined_scores = self.box_provider.boxes_from_keypoints(
                preds['keypoints'], preds['keypoint_scores'], frame.shape)
            if len(refined):
                preds = self.predictor(frame, refined, refined_scores)
        self.timings['model'] += time.perf_counter() - t1
        return preds

    def _nms_sigmas(self, num_kpts: int) -> np.ndarray:
        """(K,) OKS sigmas of the pose NMS: the meta's, else by keypoint name."""
        sigmas = self.meta.get('sigmas')
        if sigmas is not None and len(sigmas) == num_kpts:
            return np.asarray(sigmas, np.float64)
        names = list(self.meta.get('keypoint_names') or [])
        if len(names) == num_kpts:
            return default_sigmas(names).astype(np.float64)
        return np.full(num_kpts, DEFAULT_SIGMA)

    def _suppress_duplicates(self, kpts: np.ndarray, scores: np.ndarray, bboxes: np.ndarray,
                             bbox_scores: np.ndarray) -> np.ndarray:
        """(M,) sorted indices of the poses kept by the pose OKS-NMS (all of
        them when it is off or there is at most one pose)."""
        n = len(kpts)
        if not self.pose_nms_thr or n < 2:
            return np.arange(n, dtype=np.int64)
        ranks = rescore_instances(scores, bbox_scores, keypoint_score_thr=self.score_thr)
        areas = (bboxes[:, 2] - bboxes[:, 0]) * (bboxes[:, 3] - bboxes[:, 1])
        keep = oks_nms(kpts, ranks, areas, self._nms_sigmas(kpts.shape[1]), self.pose_nms_thr)
        return np.sort(keep)

    def process(self, frame: np.ndarray, frame_idx: int,
                timestamp: float | None = None) -> dict[str, Any]:
        """Run one frame; frames must come in increasing index order.

        Returns:
            ``dict(frame_idx, timestamp, instances=[dict(track_id, bbox,
            bbox_score, keypoints (K, 2), keypoint_scores (K,),
            keypoints_raw (K, 2))])``, arrays float32.
        """
        preds = self._predict(frame, frame_idx)
        kpts = np.asarray(preds['keypoints'], np.float32)
        scores = np.asarray(preds['keypoint_scores'], np.float32)
        bboxes = np.asarray(preds['bboxes'], np.float32).reshape(-1, 4)
        bbox_scores = np.asarray(preds['bbox_scores'], np.float32).reshape(-1)

        t0 = time.perf_counter()
        keep = self.kept = self._suppress_duplicates(kpts, scores, bboxes, bbox_scores)
        if len(keep) < len(kpts):
            kpts, scores, bboxes, bbox_scores = (kpts[keep], scores[keep], bboxes[keep],
                                                 bbox_scores[keep])
        n = len(kpts)
        if self.tracker is not None:
            # Poses with under two confident points cannot be compared by
            # OKS (a weak model's frames would each start a new track): the
            # OKS tracker matches such frames by their boxes.
            posed = (n == 0 or getattr(self.tracker, 'match', None) != 'oks'
                     or bool(((scores >= self.score_thr).sum(-1) >= 2).all()))
            ids = np.asarray(self.tracker.update(bboxes, kpts if posed else None,
                                                 scores if posed else None, frame_idx),
                             np.int64).reshape(-1)
            lost = list(getattr(self.tracker, 'lost_ids', []) or [])
        else:
            ids = np.arange(n, dtype=np.int64)
            lost = [i for i in self._smoothed_ids if i >= n]
        t1 = time.perf_counter()
        self.timings['tracking'] += t1 - t0

        smoothed = kpts.copy()
        if self.smoother is not None and not self.offline:
            for tid in lost:
                self.smoother.drop(int(tid))
                self._smoothed_ids.discard(int(tid))
            for i, tid in enumerate(ids):
                if tid < 0:                 # untracked (PoseTracker new_track_thr): raw
                    continue
                smoothed[i] = self.smoother.update(int(tid), kpts[i], scores[i], t=timestamp)
                self._smoothed_ids.add(int(tid))
        self.timings['smoothing'] += time.perf_counter() - t1

        self.previous = dict(keypoints=kpts, keypoint_scores=scores, bboxes=bboxes,
                             bbox_scores=bbox_scores, track_ids=ids)
        self.frames += 1
        instances = [dict(track_id=int(ids[i]), bbox=bboxes[i], bbox_score=float(bbox_scores[i]),
                          keypoints=smoothed[i].astype(np.float32), keypoint_scores=scores[i],
                          keypoints_raw=kpts[i]) for i in range(n)]
        return dict(frame_idx=int(frame_idx), timestamp=timestamp, instances=instances)

    def smooth_offline(self, results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Smooth finished results with an offline filter (all tracks, whole
        sequences); ``keypoints`` is replaced, ``keypoints_raw`` kept. The
        results of an online smoother come back unchanged."""
        results = [dict(r, instances=[dict(inst) for inst in r['instances']]) for r in results]
        if not self.offline:
            return results
        rows = [(r['frame_idx'], inst) for r in results for inst in r['instances']]
        if not rows:
            return results
        t0 = time.perf_counter()
        smoothed = self.smoother.smooth_tracks(
            np.array([inst['track_id'] for _, inst in rows]),
            np.array([f for f, _ in rows]),
            np.stack([np.asarray(inst['keypoints_raw'], np.float32) for _, inst in rows]),
            np.stack([np.asarray(inst['keypoint_scores'], np.float32) for _, inst in rows]))
        for (_, inst), kpts in zip(rows, smoothed):
            inst['keypoints'] = np.asarray(kpts, np.float32)
        self.timings['smoothing'] += time.perf_counter() - t0
        return results
