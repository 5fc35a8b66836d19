"""Box providers: where the boxes of each video frame come from.

A box provider is called once per frame::

    boxes, scores = provider(frame_bgr, frame_idx, previous)

* ``frame_bgr``: uint8 (h, w, 3) BGR frame.
* ``frame_idx``: the frame's index in its source (0-based).
* ``previous``: the last processed frame's predictions, a dict with
  ``keypoints`` (N, K, 2), ``keypoint_scores`` (N, K) and ``bboxes`` (N, 4)
  (optionally ``track_ids`` (N,)), or ``None`` on the first frame.

It returns ``boxes`` float32 (N, 4) xyxy in frame pixels and ``scores``
float32 (N,). N may be 0.

Providers are registered in :data:`customkpt.registry.BOX_PROVIDERS`:

* :class:`FullFrameBoxes`: one box, the whole frame.
* :class:`BoxFileBoxes`: boxes from a COCO detection-results json.
* :class:`KeypointTrackingBoxes`: each instance's next box from its last
  confident keypoints; a fallback provider when lost.
* :class:`~customkpt.apis.detector.OnnxDetectorBoxes`: a YOLO-style
  detector exported to ONNX, run with onnxruntime.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from customkpt.core.boxes import box_iou, clip_boxes
from customkpt.registry import BOX_PROVIDERS

__all__ = ['BoxProvider', 'FullFrameBoxes', 'BoxFileBoxes', 'KeypointTrackingBoxes',
           'build_box_provider', 'clip_to_frame', 'empty_boxes', 'shift_inside']

#: What a provider returns: (boxes (N, 4) xyxy float32, scores (N,) float32).
Boxes = tuple[np.ndarray, np.ndarray]
BoxProvider = Callable[[np.ndarray, int, 'Mapping[str, Any] | None'], Boxes]


def empty_boxes() -> Boxes:
    """No boxes: float32 (0, 4) boxes and (0,) scores."""
    return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)


def clip_to_frame(boxes: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Clip (N, 4) xyxy boxes to a frame of ``shape`` (h, w, ...); float32."""
    return clip_boxes(boxes, shape[1], shape[0])


def shift_inside(boxes: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """(N, 4) xyxy boxes moved (not shrunk) to lie inside a frame of
    ``shape`` (h, w, ...) along each axis where they fit; float32."""
    out = np.asarray(boxes, np.float32).reshape(-1, 4).copy()
    for lo, hi, side in ((0, 2, shape[1]), (1, 3, shape[0])):
        fits = out[:, hi] - out[:, lo] <= side
        shift = np.where(out[:, lo] < 0, -out[:, lo], np.minimum(side - out[:, hi], 0))
        shift = np.where(fits, shift, 0)
        out[:, lo] += shift
        out[:, hi] += shift
    return out


def build_box_provider(cfg: Mapping[str, Any] | BoxProvider | None) -> BoxProvider:
    """A provider from a config dict (``dict(type='FullFrameBoxes')``), or
    ``cfg`` itself when it is already callable. ``None`` means full frame."""
    if cfg is None:
        return FullFrameBoxes()
    if callable(cfg):
        return cfg
    if not isinstance(cfg, Mapping) or 'type' not in cfg:
        raise TypeError(f'box provider must be a callable or a config dict with "type", '
                        f'got {cfg!r}')
    return BOX_PROVIDERS.build(dict(cfg))


@BOX_PROVIDERS.register_module()
class FullFrameBoxes:
    """One box covering the whole frame, score 1. For videos with one
    subject that fills a good part of the frame."""

    def __call__(self, frame: np.ndarray, frame_idx: int,
                 previous: Mapping[str, Any] | None = None) -> Boxes:
        h, w = frame.shape[:2]
        return np.array([[0, 0, w, h]], np.float32), np.ones(1, np.float32)


@BOX_PROVIDERS.register_module()
class BoxFileBoxes:
    """Boxes read from a COCO detection-results json.

    The file is a list of records ``{"image_id": int, "bbox": [x, y, w, h],
    "score": float, "category_id": int}`` (``score`` defaults to 1 and
    ``category_id`` is optional). A frame's boxes are the records whose
    ``id_key`` field, minus ``id_offset``, equals the frame index.

    Args:
        path: the json file.
        score_thr: records with a lower score are dropped.
        category_id: keep only this category (``None``: all).
        id_key: the record field that names the frame, ``'image_id'`` or
            ``'frame'``.
        id_offset: subtracted from the field to get the 0-based frame index
            (1 for files whose image ids count frames from 1, as in
            ``video_coco_joint.json`` of the demo data).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not JSON, not a list, or a record is bad
            (the message names the file, the record's position and field).
    """

    ID_KEYS = ('image_id', 'frame')

    def __init__(self, path: str | Path, score_thr: float = 0.0, category_id: int | None = None,
                 id_key: str = 'image_id', id_offset: int = 0) -> None:
        if id_key not in self.ID_KEYS:
            raise ValueError(f'BoxFileBoxes: id_key must be one of {self.ID_KEYS}, got {id_key!r}')
        self.path = Path(path)
        self.score_thr = float(score_thr)
        self.category_id = category_id
        self.id_key = id_key
        self.id_offset = int(id_offset)
        self._boxes = self._load()

    def _load(self) -> dict[int, Boxes]:
        if not self.path.is_file():
            raise FileNotFoundError(f'box file {str(self.path)!r} not found')
        try:
            records = json.loads(self.path.read_text(encoding='utf-8'))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f'box file {self.path}: not valid JSON ({exc})') from exc
        if not isinstance(records, list):
            raise ValueError(f'box file {self.path}: expected a list of detection records, '
                             f'got {type(records).__name__}')
        per_frame: dict[int, list[tuple[list[float], float]]] = defaultdict(list)
        for i, rec in enumerate(records):
            where = f'box file {self.path}: record {i}'
            if not isinstance(rec, dict):
                raise ValueError(f'{where}: expected an object, got {rec!r:.80}')
            frame_id = rec.get(self.id_key)
            if isinstance(frame_id, bool) or not isinstance(frame_id, (int, float)) or \
                    int(frame_id) != frame_id:
                raise ValueError(f'{where}: field {self.id_key!r} must be an integer, got '
                                 f'{frame_id!r}')
            bbox = rec.get('bbox')
            if (not isinstance(bbox, (list, tuple)) or len(bbox) != 4
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                               and math.isfinite(v) for v in bbox)):
                raise ValueError(f'{where}: field "bbox" must be 4 finite numbers [x, y, w, h], '
                                 f'got {bbox!r}')
            if bbox[2] < 0 or bbox[3] < 0:
                raise ValueError(f'{where}: field "bbox" has a negative width or height: {bbox}')
            score = rec.get('score', 1.0)
            if isinstance(score, bool) or not isinstance(score, (int, float)) or \
                    not math.isfinite(score):
                raise ValueError(f'{where}: field "score" must be a number, got {score!r}')
            if self.category_id is not None and rec.get('category_id') != self.category_id:
                continue
            if score < self.score_thr:
                continue
            x, y, w, h = (float(v) for v in bbox)
            per_frame[int(frame_id) - self.id_offset].append(([x, y, x + w, y + h], float(score)))
        out = {}
        for frame, items in per_frame.items():
            items.sort(key=lambda item: -item[1])
            out[frame] = (np.array([b for b, _ in items], np.float32).reshape(-1, 4),
                          np.array([s for _, s in items], np.float32))
        return out

    @property
    def frames(self) -> list[int]:
        """Frame indices that have at least one box, sorted."""
        return sorted(self._boxes)

    def __call__(self, frame: np.ndarray, frame_idx: int,
                 previous: Mapping[str, Any] | None = None) -> Boxes:
        boxes, scores = self._boxes.get(int(frame_idx), empty_boxes())
        return clip_to_frame(boxes, frame.shape), scores.copy()


@BOX_PROVIDERS.register_module()
class KeypointTrackingBoxes:
    """Each instance's next box from its confident keypoints in the last
    frame; the fallback provider when tracking is lost.

    An instance of the previous frame is followed when it has at least
    ``min_points`` keypoints scoring above ``score_thr`` and their mean score
    is at least ``min_mean_score``. Its box is the extent of those points,
    grown about its centre by ``padding`` (and to at least ``min_size``
    pixels a side), moved inside the frame where it fits, else clipped; its
    score is their mean score.

    When no instance can be followed, the frame's boxes come from
    ``fallback`` (the first frame, or tracking lost after the fallback had
    found something to follow). When the fallback's own boxes could not be
    followed either, asking it again on the next frame would only repeat
    that: the last frame's boxes are then held (:attr:`held`) and the
    fallback is tried again every ``retry_interval`` frames. So with the
    whole frame as fallback and a model not yet confident, the whole frame
    is used once, not on every frame.

    With ``refresh_interval`` set, the fallback also runs every that many
    frames and adds its boxes that overlap no followed box (intersection
    below half of the smaller box), so new subjects are picked up while others are being followed.

    Args:
        score_thr: keypoint score above which a point counts.
        padding: box size over the points' extent.
        min_points: fewest confident points to follow an instance.
        min_mean_score: lowest mean score of those points (default
            ``score_thr``).
        min_size: smallest box side in pixels; ``None``: set from the model
            by :class:`~customkpt.apis.video.VideoPoseEstimator`
            (:func:`customkpt.apis.video.model_box_floor`).
        fallback: provider (config dict or object) used when lost.
        refresh_interval: run the fallback every this many frames too.
        refine_lost: on a frame where tracking was lost, let
            :class:`~customkpt.apis.video.VideoPoseEstimator` run the model a
            second time on the boxes that the fallback's keypoints give (one
            more forward pass on such frames only).
        retry_interval: frames between fallback tries while its boxes
            cannot be followed (0: try on every lost frame, never hold).
    """

    def __init__(self, score_thr: float = 0.3, padding: float = 1.25, min_points: int = 2,
                 min_mean_score: float | None = None, min_size: float | None = None,
                 fallback: Mapping[str, Any] | BoxProvider | None = None,
                 refresh_interval: int | None = None, refine_lost: bool = True,
                 retry_interval: int = 30) -> None:
        if padding <= 0:
            raise ValueError(f'KeypointTrackingBoxes: padding must be > 0, got {padding}')
        if min_points < 1:
            raise ValueError(f'KeypointTrackingBoxes: min_points must be >= 1, got {min_points}')
        if retry_interval < 0:
            raise ValueError(f'KeypointTrackingBoxes: retry_interval must be >= 0, got '
                             f'{retry_interval}')
        self.score_thr = float(score_thr)
        self.padding = float(padding)
        self.min_points = int(min_points)
        self.min_mean_score = self.score_thr if min_mean_score is None else float(min_mean_score)
        self.min_size = None if min_size is None else float(min_size)
        self.fallback = build_box_provider(fallback if fallback is not None
                                           else dict(type='FullFrameBoxes'))
        self.refresh_interval = refresh_interval
        self.refine_lost = bool(refine_lost)
        self.retry_interval = int(retry_interval)
        #: Whether the last call used the fallback alone (tracking lost).
        self.lost = True
        #: Whether the last call held the previous frame's boxes.
        self.held = False
        self._fallback_frame: int | None = None   # frame of the last fallback try
        self._fallback_failed = False

    def reset(self) -> None:
        """Forget the fallback's history (a new video)."""
        self.lost, self.held = True, False
        self._fallback_frame, self._fallback_failed = None, False

    def boxes_from_keypoints(self, keypoints: np.ndarray, scores: np.ndarray,
                             shape: Sequence[int]) -> Boxes:
        """Boxes (M, 4) and scores (M,) of the instances that can be followed,
        from keypoints (N, K, 2) and scores (N, K)."""
        kpts = np.asarray(keypoints, np.float64).reshape(len(keypoints), -1, 2)
        scores = np.asarray(scores, np.float64).reshape(kpts.shape[:2])
        min_size = self.min_size or 0.0
        boxes, box_scores = [], []
        for pts, sc in zip(kpts, scores):
            ok = (sc > self.score_thr) & np.isfinite(pts).all(-1) & np.isfinite(sc)
            if ok.sum() < self.min_points or sc[ok].mean() < self.min_mean_score:
                continue
            lo, hi = pts[ok].min(0), pts[ok].max(0)
            centre = (lo + hi) / 2
            size = np.maximum((hi - lo) * self.padding, min_size)
            boxes.append(np.concatenate([centre - size / 2, centre + size / 2]))
            box_scores.append(sc[ok].mean())
        if not boxes:
            return empty_boxes()
        clipped = clip_to_frame(shift_inside(np.array(boxes, np.float32), shape), shape)
        good = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
        return clipped[good], np.array(box_scores, np.float32)[good]

    def _held_boxes(self, frame_idx: int, previous: Mapping[str, Any] | None) -> Boxes | None:
        """The previous frame's boxes, when the fallback has just failed and
        is not due for another try."""
        if previous is None or not len(previous.get('bboxes', ())):
            return None
        if self._fallback_frame is not None and self.lost:
            self._fallback_failed = True   # what the fallback gave could not be followed
        due = (self._fallback_frame is None or self.retry_interval == 0
               or frame_idx - self._fallback_frame >= self.retry_interval)
        if not self._fallback_failed or due:
            return None
        boxes = np.asarray(previous['bboxes'], np.float32).reshape(-1, 4)
        scores = previous.get('bbox_scores')
        scores = (np.ones(len(boxes), np.float32) if scores is None
                  else np.asarray(scores, np.float32).reshape(-1))
        return boxes.copy(), scores.copy()

    def __call__(self, frame: np.ndarray, frame_idx: int,
                 previous: Mapping[str, Any] | None = None) -> Boxes:
        boxes, scores = empty_boxes()
        if previous is not None and len(previous.get('keypoints', ())):
            boxes, scores = self.boxes_from_keypoints(previous['keypoints'],
                                                      previous['keypoint_scores'], frame.shape)
        if len(boxes) == 0:
            held = self._held_boxes(frame_idx, previous)
            self.held = held is not None
            self.lost = not self.held
            if self.held:
                return held
            self._fallback_frame = frame_idx
            return self.fallback(frame, frame_idx, previous)
        self.lost = self.held = self._fallback_failed = False
        if self.refresh_interval and frame_idx % self.refresh_interval == 0:
            new_boxes, new_scores = self.fallback(frame, frame_idx, previous)
            if len(new_boxes):
                fresh = box_iou(new_boxes, boxes, over='min').max(1) < 0.5
                boxes = np.concatenate([boxes, new_boxes[fresh]]).astype(np.float32)
                scores = np.concatenate([scores, new_scores[fresh]]).astype(np.float32)
        return boxes, scores
