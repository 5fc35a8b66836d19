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
* :class:`OnnxDetectorBoxes`: a YOLO-style detector exported to ONNX, run
  with onnxruntime.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import cv2
import numpy as np

from customkpt.evaluation.functional import box_iou
from customkpt.registry import BOX_PROVIDERS

__all__ = ['BoxProvider', 'FullFrameBoxes', 'BoxFileBoxes', 'KeypointTrackingBoxes',
           'OnnxDetectorBoxes', 'build_box_provider', 'nms', 'letterbox']

#: What a provider returns: (boxes (N, 4) xyxy float32, scores (N,) float32).
Boxes = tuple[np.ndarray, np.ndarray]
BoxProvider = Callable[[np.ndarray, int, 'Mapping[str, Any] | None'], Boxes]


def _empty() -> Boxes:
    return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)


def _clip(boxes: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Clip xyxy boxes to a frame of ``shape`` (h, w, ...)."""
    h, w = shape[:2]
    out = boxes.astype(np.float32, copy=True)
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, w)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, h)
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


def nms(boxes: np.ndarray, scores: np.ndarray, iou_thr: float,
        classes: np.ndarray | None = None) -> np.ndarray:
    """Greedy non-maximum suppression.

    Args:
        boxes: (N, 4) xyxy.
        scores: (N,).
        iou_thr: a box is dropped when its IoU with a kept, higher-scoring
            box is above this.
        classes: (N,) class ids; boxes of different classes never suppress
            each other. ``None``: one class.

    Returns:
        Indices of the kept boxes, highest score first.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    order = np.argsort(-np.asarray(scores, np.float64), kind='stable')
    if classes is not None and len(boxes):
        # Shift each class to its own region so that classes never overlap.
        span = float(np.abs(boxes).max()) + 1.0
        boxes = boxes + (np.asarray(classes, np.float64) * 2 * span)[:, None]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        if order.size == 1:
            break
        ious = box_iou(boxes[i:i + 1], boxes[order[1:]])[0]
        order = order[1:][ious <= iou_thr]
    return np.asarray(keep, np.int64)


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
        boxes, scores = self._boxes.get(int(frame_idx), _empty())
        return _clip(boxes, frame.shape), scores.copy()


@BOX_PROVIDERS.register_module()
class KeypointTrackingBoxes:
    """Each instance's next box from its confident keypoints in the last
    frame; the fallback provider when tracking is lost.

    An instance of the previous frame is followed when it has at least
    ``min_points`` keypoints scoring above ``score_thr`` and their mean score
    is at least ``min_mean_score``. Its box is the extent of those points,
    grown about its centre by ``padding`` (and to at least ``min_size``
    pixels a side), clipped to the frame; its score is their mean score.
    When no instance can be followed (first frame, or every instance lost),
    the frame's boxes come from ``fallback``.

    With ``refresh_interval`` set, the fallback also runs every that many
    frames and adds its boxes that overlap no followed box (intersection
    below half of the smaller box), so new subjects are picked up while others are being followed.

    Args:
        score_thr: keypoint score above which a point counts.
        padding: box size over the points' extent.
        min_points: fewest confident points to follow an instance.
        min_mean_score: lowest mean score of those points (default
            ``score_thr``).
        min_size: smallest box side in pixels.
        fallback: provider (config dict or object) used when lost.
        refresh_interval: run the fallback every this many frames too.
        refine_lost: on a frame where tracking was lost, let
            :class:`~customkpt.apis.video.VideoPoseEstimator` run the model a
            second time on the boxes that the fallback's keypoints give (one
            more forward pass on such frames only).
    """

    def __init__(self, score_thr: float = 0.3, padding: float = 1.25, min_points: int = 2,
                 min_mean_score: float | None = None, min_size: float = 16.0,
                 fallback: Mapping[str, Any] | BoxProvider | None = None,
                 refresh_interval: int | None = None, refine_lost: bool = True) -> None:
        if padding <= 0:
            raise ValueError(f'KeypointTrackingBoxes: padding must be > 0, got {padding}')
        if min_points < 1:
            raise ValueError(f'KeypointTrackingBoxes: min_points must be >= 1, got {min_points}')
        self.score_thr = float(score_thr)
        self.padding = float(padding)
        self.min_points = int(min_points)
        self.min_mean_score = self.score_thr if min_mean_score is None else float(min_mean_score)
        self.min_size = float(min_size)
        self.fallback = build_box_provider(fallback if fallback is not None
                                           else dict(type='FullFrameBoxes'))
        self.refresh_interval = refresh_interval
        self.refine_lost = bool(refine_lost)
        #: Whether the last call used the fallback alone (tracking lost).
        self.lost = True

    def boxes_from_keypoints(self, keypoints: np.ndarray, scores: np.ndarray,
                             shape: Sequence[int]) -> Boxes:
        """Boxes (M, 4) and scores (M,) of the instances that can be followed,
        from keypoints (N, K, 2) and scores (N, K)."""
        kpts = np.asarray(keypoints, np.float64).reshape(len(keypoints), -1, 2)
        scores = np.asarray(scores, np.float64).reshape(kpts.shape[:2])
        boxes, box_scores = [], []
        for pts, sc in zip(kpts, scores):
            ok = (sc > self.score_thr) & np.isfinite(pts).all(-1) & np.isfinite(sc)
            if ok.sum() < self.min_points or sc[ok].mean() < self.min_mean_score:
                continue
            lo, hi = pts[ok].min(0), pts[ok].max(0)
            centre = (lo + hi) / 2
            size = np.maximum((hi - lo) * self.padding, self.min_size)
            boxes.append(np.concatenate([centre - size / 2, centre + size / 2]))
            box_scores.append(sc[ok].mean())
        if not boxes:
            return _empty()
        clipped = _clip(np.array(boxes, np.float32), shape)
        good = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
        return clipped[good], np.array(box_scores, np.float32)[good]

    def __call__(self, frame: np.ndarray, frame_idx: int,
                 previous: Mapping[str, Any] | None = None) -> Boxes:
        boxes, scores = _empty()
        if previous is not None and len(previous.get('keypoints', ())):
            boxes, scores = self.boxes_from_keypoints(previous['keypoints'],
                                                      previous['keypoint_scores'], frame.shape)
        self.lost = len(boxes) == 0
        if self.lost:
            return self.fallback(frame, frame_idx, previous)
        if self.refresh_interval and frame_idx % self.refresh_interval == 0:
            new_boxes, new_scores = self.fallback(frame, frame_idx, previous)
            if len(new_boxes):
                fresh = box_iou(new_boxes, boxes, over='min').max(1) < 0.5
                boxes = np.concatenate([boxes, new_boxes[fresh]]).astype(np.float32)
                scores = np.concatenate([scores, new_scores[fresh]]).astype(np.float32)
        return boxes, scores


def letterbox(img: np.ndarray, size: tuple[int, int], fill: int = 114
              ) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize keeping the aspect ratio and pad to ``size`` (w, h), the image
    centred.

    Returns:
        The (h, w, 3) padded image, the scale (new / old) and the (x, y)
        padding added on the left / top: ``orig = (letterboxed - pad) / scale``.
    """
    out_w, out_h = size
    h, w = img.shape[:2]
    scale = min(out_w / w, out_h / h)
    new_w, new_h = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    resized = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_LINEAR) \
        if (new_w, new_h) != (w, h) else img
    pad_x, pad_y = (out_w - new_w) / 2, (out_h - new_h) / 2
    left, top = int(round(pad_x - 0.1)), int(round(pad_y - 0.1))
    canvas = np.full((out_h, out_w, 3), fill, np.uint8)
    canvas[top:top + new_h, left:left + new_w] = resized
    return canvas, scale, (float(left), float(top))


@BOX_PROVIDERS.register_module()
class OnnxDetectorBoxes:
    """A YOLO-style object detector exported to ONNX, run by onnxruntime.

    Preprocessing: letterbox to ``input_size`` (grey 114 padding), BGR to
    RGB, scale to [0, 1], NCHW float32. Outputs understood (boxes as
    centre x, centre y, width, height in input pixels):

    * ``'v8'``: (1, 4 + C, A), class scores without objectness (YOLOv8 and
      later, ``yolo export format=onnx``);
    * ``'v5'``: (1, A, 5 + C), objectness then class scores (YOLOv5/v7);
      a box's score is objectness x class score.

    ``output_format='auto'`` picks ``'v8'`` when the second axis is the
    shorter one (A, the number of anchors, is always the larger), else
    ``'v5'``. Boxes of the wanted classes above ``score_thr`` go through a
    per-class NMS, at most ``max_det`` are kept, and they are mapped back to
    frame pixels.

    Args:
        onnx_path: the exported detector.
        input_size: network input (w, h); ignored when the model's input has
            a fixed size (the model's own size is used).
        score_thr: lowest box score kept.
        nms_thr: NMS IoU threshold.
        class_ids: classes to keep (0 is "person" in COCO-trained models);
            ``None`` keeps all.
        max_det: most boxes per frame.
        output_format: 'auto', 'v8' or 'v5'.
        providers: onnxruntime execution providers (CPU by default).
    """

    FORMATS = ('auto', 'v8', 'v5')

    def __init__(self, onnx_path: str | Path, input_size: Sequence[int] = (640, 640),
                 score_thr: float = 0.25, nms_thr: float = 0.45,
                 class_ids: Sequence[int] | None = (0,), max_det: int = 100,
                 output_format: str = 'auto', providers: Sequence[str] | None = None) -> None:
        import onnxruntime as ort
        if output_format not in self.FORMATS:
            raise ValueError(f'OnnxDetectorBoxes: output_format must be one of {self.FORMATS}, '
                             f'got {output_format!r}')
        path = Path(onnx_path)
        if not path.is_file():
            raise FileNotFoundError(f'detector model {str(path)!r} not found')
        self.session = ort.InferenceSession(str(path),
                                            providers=list(providers or ['CPUExecutionProvider']))
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        dims = list(inp.shape)
        size = (int(input_size[0]), int(input_size[1]))
        if len(dims) == 4 and isinstance(dims[2], int) and isinstance(dims[3], int):
            size = (dims[3], dims[2])  # a fixed-size export decides
        self.input_size = size
        self.score_thr = float(score_thr)
        self.nms_thr = float(nms_thr)
        self.class_ids = None if class_ids is None else [int(c) for c in class_ids]
        self.max_det = int(max_det)
        self.output_format = output_format
        self.path = path

    def preprocess(self, frame: np.ndarray) -> tuple[np.ndarray, float, tuple[float, float]]:
        """The network input (1, 3, h, w) float32 and the letterbox scale and
        padding."""
        img, scale, pad = letterbox(frame, self.input_size)
        blob = img[..., ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        return np.ascontiguousarray(blob), scale, pad

    def decode(self, output: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw output -> boxes (M, 4) xyxy in input pixels, scores (M,),
        class ids (M,), after the score and class filter (before NMS)."""
        out = np.asarray(output, np.float32)
        if out.ndim == 3:
            out = out[0]
        if out.ndim != 2:
            raise ValueError(f'{self.path}: expected a (1, 4 + C, A) or (1, A, 5 + C) output, '
                             f'got shape {np.shape(output)}')
        fmt = self.output_format
        if fmt == 'auto':
            fmt = 'v8' if out.shape[0] <= out.shape[1] else 'v5'
        if fmt == 'v8':
            rows = out.T
            if rows.shape[1] < 5:
                raise ValueError(f'{self.path}: v8 output needs 4 + C >= 5 rows, got '
                                 f'shape {np.shape(output)}')
            cls_scores = rows[:, 4:]
        else:
            rows = out
            if rows.shape[1] < 6:
                raise ValueError(f'{self.path}: v5 output needs 5 + C >= 6 columns, got '
                                 f'shape {np.shape(output)}')
            cls_scores = rows[:, 5:] * rows[:, 4:5]
        classes = cls_scores.argmax(1)
        scores = cls_scores[np.arange(len(rows)), classes]
        keep = scores >= self.score_thr
        if self.class_ids is not None:
            keep &= np.isin(classes, self.class_ids)
        cxcywh = rows[keep, :4]
        boxes = np.concatenate([cxcywh[:, :2] - cxcywh[:, 2:] / 2,
                                cxcywh[:, :2] + cxcywh[:, 2:] / 2], axis=1)
        return boxes.astype(np.float32), scores[keep].astype(np.float32), classes[keep]

    def __call__(self, frame: np.ndarray, frame_idx: int,
                 previous: Mapping[str, Any] | None = None) -> Boxes:
        blob, scale, (pad_x, pad_y) = self.preprocess(frame)
        output = self.session.run(None, {self.input_name: blob})[0]
        boxes, scores, classes = self.decode(output)
        if not len(boxes):
            return _empty()
        keep = nms(boxes, scores, self.nms_thr, classes)[:self.max_det]
        boxes, scores = boxes[keep], scores[keep]
        boxes = (boxes - np.array([pad_x, pad_y, pad_x, pad_y], np.float32)) / scale
        boxes = _clip(boxes, frame.shape)
        good = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        return boxes[good], scores[good].astype(np.float32)
