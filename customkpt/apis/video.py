"""Keypoints on video: frame sources, the per-frame pipeline and writers.

The pipeline of one frame (:class:`VideoPoseEstimator`)::

    frame -> box provider -> predictor (torch or ONNX) -> tracker (ids)
          -> smoother (per track) -> result dict

Frame sources (:func:`open_source`) yield ``(frame_idx, timestamp, frame)``
from a video file, a folder of images or a camera. Writers turn results
into an mp4 with the skeleton drawn (:class:`PoseVideoWriter`), JSON
(:class:`PoseJsonWriter`) and a DeepLabCut-layout CSV
(:class:`DlcCsvWriter`).

A frame's result::

    dict(frame_idx=int, timestamp=float | None, instances=[
        dict(track_id=int, bbox=(4,) xyxy, bbox_score=float,
             keypoints=(K, 2) smoothed, keypoint_scores=(K,),
             keypoints_raw=(K, 2) as the model gave them), ...])
"""
from __future__ import annotations

import csv
import json
import math
import os
import re
import time
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import cv2
import numpy as np

from .boxes import BoxProvider, build_box_provider

__all__ = ['IMAGE_EXTENSIONS', 'FrameSource', 'open_source', 'VideoPoseEstimator',
           'PoseVideoWriter', 'PoseJsonWriter', 'DlcCsvWriter', 'read_pose_jsonl',
           'result_arrays']

#: File extensions read from an image folder.
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
#: Consecutive unreadable frames after which a video is taken to have ended.
MAX_CONSECUTIVE_FAILURES = 25


def _natural_key(name: str) -> list:
    return [int(part) if part.isdigit() else part.lower()
            for part in re.split(r'(\d+)', name)]


class FrameSource:
    """Frames of a video file, an image folder or a camera.

    Iterating yields ``(frame_idx, timestamp, frame)``: the 0-based frame
    index (for a folder, the image's position in natural sort order), the
    time in seconds (``frame_idx / fps`` for a video, seconds since opening
    for a camera, ``None`` for a folder without ``fps``) and the uint8
    (h, w, 3) BGR frame. Frames that cannot be decoded are skipped and
    counted in :attr:`skipped` (their indices in :attr:`skipped_frames`).

    Use :func:`open_source` to make one.

    Attributes:
        kind: 'video', 'images' or 'camera'.
        name: a short name for output files (video / folder stem, 'camera0').
        fps: frames per second (``None`` when unknown).
        num_frames: frames in the source when known, else ``None``.
        size: (w, h) of the frames when known before reading.
        skipped: number of frames skipped as unreadable.
        skipped_frames: their indices (and for folders, file names).
    """

    def __init__(self, src: str | int | Path, fps: float | None = None,
                 max_frames: int | None = None) -> None:
        self.src = src
        self.max_frames = max_frames
        self.skipped = 0
        self.skipped_frames: list[Any] = []
        self.size: tuple[int, int] | None = None
        self.files: list[Path] = []
        text = str(src)
        if isinstance(src, int) or text.isdigit():
            self.kind, self.name, self.camera = 'camera', f'camera{int(text)}', int(text)
            self.fps, self.num_frames = fps, None
            self._check_camera()
        else:
            path = Path(text)
            if not path.exists():
                raise FileNotFoundError(f'input {text!r} not found')
            self.path = path
            if path.is_dir():
                self.kind, self.name = 'images', path.name
                self.files = sorted((p for p in path.iterdir()
                                     if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS),
                                    key=lambda p: _natural_key(p.name))
                if not self.files:
                    raise ValueError(f'input folder {text!r} has no images '
                                     f'({", ".join(IMAGE_EXTENSIONS)})')
                self.fps, self.num_frames = fps, len(self.files)
            else:
                self.kind, self.name = 'video', path.stem
                self._probe_video(fps)
        if max_frames is not None and self.num_frames is not None:
            self.num_frames = min(self.num_frames, int(max_frames))

    def _check_camera(self) -> None:
        cap = cv2.VideoCapture(self.camera)
        try:
            if not cap.isOpened():
                raise OSError(f'cannot open camera {self.camera}')
            cam_fps = cap.get(cv2.CAP_PROP_FPS)
            self.fps = self.fps or (cam_fps if cam_fps and cam_fps > 0 else None)
        finally:
            cap.release()

    def _probe_video(self, fps: float | None) -> None:
        cap = cv2.VideoCapture(str(self.path))
        try:
            if not cap.isOpened():
                raise OSError(f'cannot open {str(self.path)!r} as a video (unknown format or '
                              f'corrupt file)')
            video_fps = cap.get(cv2.CAP_PROP_FPS)
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        finally:
            cap.release()
        self.fps = fps or (video_fps if video_fps and video_fps > 0 else None)
        self.num_frames = count if count > 0 else None
        self.size = (w, h) if w > 0 and h > 0 else None

    def file_name(self, frame_idx: int) -> str | None:
        """The image file of a frame (image folders only)."""
        return self.files[frame_idx].name if self.kind == 'images' else None

    def __len__(self) -> int:
        return self.num_frames or 0

    def _skip(self, what: Any) -> None:
        self.skipped += 1
        self.skipped_frames.append(what)

    def __iter__(self) -> Iterator[tuple[int, float | None, np.ndarray]]:
        self.skipped, self.skipped_frames = 0, []
        if self.kind == 'images':
            yield from self._iter_images()
        else:
            yield from self._iter_capture()

    def _iter_images(self) -> Iterator[tuple[int, float | None, np.ndarray]]:
        for idx, path in enumerate(self.files):
            if self.max_frames is not None and idx >= self.max_frames:
                return
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is None:
                self._skip(dict(frame_idx=idx, file_name=path.name))
                continue
            yield idx, (idx / self.fps if self.fps else None), frame

    def _iter_capture(self) -> Iterator[tuple[int, float | None, np.ndarray]]:
        is_camera = self.kind == 'camera'
        cap = cv2.VideoCapture(self.camera if is_camera else str(self.path))
        if not cap.isOpened():
            raise OSError(f'cannot open {self.name if is_camera else str(self.path)!r}')
        start = time.monotonic()
        idx = failures = 0
        try:
            while self.max_frames is None or idx < self.max_frames:
                ok, frame = cap.read()
                if not ok or frame is None:
                    # Past the known end (or a camera that stopped): done.
                    if is_camera or self.num_frames is None or idx >= self.num_frames - 1:
                        return
                    failures += 1
                    if failures > MAX_CONSECUTIVE_FAILURES:
                        return
                    self._skip(dict(frame_idx=idx))
                    idx += 1
                    continue
                failures = 0
                if is_camera:
                    stamp: float | None = time.monotonic() - start
                else:
                    stamp = idx / self.fps if self.fps else cap.get(cv2.CAP_PROP_POS_MSEC) / 1e3
                yield idx, stamp, frame
                idx += 1
        finally:
            cap.release()


def open_source(src: str | int | Path, fps: float | None = None,
                max_frames: int | None = None) -> FrameSource:
    """Open a video file, an image folder (sorted in natural order) or a
    camera index (``0`` or ``'0'``).

    Args:
        src: the input.
        fps: frame rate for timestamps; by default the video's own (image
            folders then have no timestamps).
        max_frames: stop after this many frame indices.

    Raises:
        FileNotFoundError: the path does not exist (the message names it).
        ValueError: a folder without images.
        OSError: a file that is not a readable video, or a camera that
            cannot be opened.
    """
    return FrameSource(src, fps=fps, max_frames=max_frames)


def _is_config(obj: Any) -> bool:
    return isinstance(obj, Mapping)


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

    Attributes:
        timings: seconds spent per stage ('boxes', 'model', 'tracking',
            'smoothing') since the last :meth:`reset`.
        frames: number of frames processed.
    """

    def __init__(self, predictor: Any,
                 box_provider: Mapping[str, Any] | BoxProvider | None = None,
                 tracker: Mapping[str, Any] | Any | None = None,
                 smoother: Mapping[str, Any] | Any | None = None,
                 score_thr: float = 0.3) -> None:
        self.predictor = predictor
        self.meta = dict(getattr(predictor, 'meta', None) or {})
        self.score_thr = float(score_thr)
        self.box_provider = build_box_provider(box_provider if box_provider is not None
                                               else dict(type='FullFrameBoxes'))
        self.tracker = self._build_tracker(tracker)
        self.smoother = self._build_smoother(smoother)
        self.offline = self.smoother is not None and not getattr(self.smoother, 'online', True)
        self.reset()

    def _build_tracker(self, cfg: Any) -> Any:
        if cfg is None or not _is_config(cfg):
            return cfg
        from customkpt.smoothing import PoseTracker
        cfg = dict(cfg)
        if cfg.get('match', 'oks') == 'oks' and cfg.get('sigmas') is None and \
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
        self._smoothed_ids: set[int] = set()
        if self.tracker is not None and hasattr(self.tracker, 'reset'):
            self.tracker.reset()
        if self.smoother is not None and hasattr(self.smoother, 'reset'):
            self.smoother.reset()

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
        self.timings['model'] += time.perf_counter() - t1
        return preds

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
        n = len(kpts)

        t0 = time.perf_counter()
        if self.tracker is not None:
            ids = np.asarray(self.tracker.update(bboxes, kpts, scores, frame_idx),
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
                smoothed[i] = self.smoother.update(int(tid), kpts[i], scores[i], t=timestamp)
                self._smoothed_ids.add(int(tid))
        self.timings['smoothing'] += time.perf_counter() - t1

        self.previous = dict(keypoints=kpts, keypoint_scores=scores, bboxes=bboxes,
                             track_ids=ids)
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


def result_arrays(result: Mapping[str, Any], key: str = 'keypoints'
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A result's instances as arrays: ``key`` points (N, K, 2), scores
    (N, K), boxes (N, 4), track ids (N,)."""
    insts = result['instances']
    if not insts:
        return (np.zeros((0, 0, 2), np.float32), np.zeros((0, 0), np.float32),
                np.zeros((0, 4), np.float32), np.zeros(0, np.int64))
    return (np.stack([np.asarray(i[key], np.float32) for i in insts]),
            np.stack([np.asarray(i['keypoint_scores'], np.float32) for i in insts]),
            np.stack([np.asarray(i['bbox'], np.float32) for i in insts]),
            np.array([i['track_id'] for i in insts], np.int64))


# ------------------------------------------------------------------ writers
class PoseVideoWriter:
    """An mp4 (``mp4v``) with boxes, skeletons and track ids drawn.

    The frame size is taken from the first frame; later frames of another
    size are resized to it.

    Args:
        path: the output file.
        meta: keypoint definition (``keypoint_names``, ``skeleton``, colours).
        fps: frame rate of the output (30 when unknown).
        score_thr: points scored at or below this are not drawn.
        draw_boxes: draw the instance boxes.
    """

    def __init__(self, path: str | Path, meta: Mapping[str, Any], fps: float | None = None,
                 score_thr: float = 0.3, draw_boxes: bool = True) -> None:
        self.path = Path(path)
        self.meta = dict(meta)
        self.fps = float(fps) if fps else 30.0
        self.score_thr = score_thr
        self.draw_boxes = draw_boxes
        self.size: tuple[int, int] | None = None
        self.frames = 0
        self._writer: cv2.VideoWriter | None = None

    def draw(self, frame: np.ndarray, result: Mapping[str, Any]) -> np.ndarray:
        """The frame with the result drawn on it (a new image)."""
        from customkpt.visualization.draw import default_radius, draw_instances, draw_text
        kpts, scores, boxes, ids = result_arrays(result)
        if not len(kpts):
            return frame.copy()
        out = draw_instances(frame, kpts, scores, self.meta, score_thr=self.score_thr,
                             bboxes=boxes if self.draw_boxes else None)
        scale = max(0.4, max(frame.shape[:2]) / 1000)
        for box, tid in zip(boxes, ids):
            x, y = int(box[0]) + 2, int(box[1]) + default_radius(frame.shape) * 2 + 8
            draw_text(out, f'#{tid}', (x, min(y, frame.shape[0] - 2)), scale=scale)
        return out

    def write(self, image: np.ndarray) -> None:
        """Append one drawn frame."""
        if self._writer is None:
            self.size = (image.shape[1], image.shape[0])
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*'mp4v'),
                                           self.fps, self.size)
            if not self._writer.isOpened():
                self._writer = None
                raise OSError(f'cannot write video {str(self.path)!r} (mp4v codec missing?)')
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size)
        self._writer.write(image)
        self.frames += 1

    def close(self) -> None:
        """Finish the file (safe to call twice)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None


def _round(values: Any, digits: int = 3) -> Any:
    """Lists of rounded floats (None for NaN/inf) for JSON."""
    arr = np.asarray(values, np.float64)
    out = np.round(arr, digits).tolist()
    if np.isfinite(arr).all():
        return out

    def clean(v: Any) -> Any:
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v if math.isfinite(v) else None
    return clean(out)


def _frame_record(result: Mapping[str, Any], file_name: str | None = None) -> dict[str, Any]:
    rec: dict[str, Any] = dict(frame_idx=int(result['frame_idx']),
                               timestamp=(None if result.get('timestamp') is None
                                          else round(float(result['timestamp']), 6)))
    if file_name is not None:
        rec['file_name'] = file_name
    rec['instances'] = [dict(
        track_id=int(inst['track_id']), bbox=_round(inst['bbox'], 2),
        bbox_score=round(float(inst['bbox_score']), 4),
        keypoints=_round(inst['keypoints']),
        keypoint_scores=_round(inst['keypoint_scores'], 4),
        keypoints_raw=_round(inst['keypoints_raw'])) for inst in result['instances']]
    return rec


class PoseJsonWriter:
    """Per-frame results as JSON Lines while running, one JSON at the end.

    ``<stem>.jsonl`` gets a header line (``{"header": {...}}``: source,
    fps, keypoint names, skeleton, settings) and then one line per frame,
    flushed as it is written, so an interrupted or crashed run keeps every
    finished frame. :meth:`close` assembles ``<stem>.json``::

        {"source", "fps", "keypoint_names", "skeleton", "settings",
         "num_frames", "skipped_frames": [...], "frames": [
            {"frame_idx", "timestamp", ["file_name",] "instances": [
                {"track_id", "bbox" [x1, y1, x2, y2], "bbox_score",
                 "keypoints" [[x, y] * K], "keypoint_scores" [K],
                 "keypoints_raw" [[x, y] * K]}]}]}

    ``keypoints`` are smoothed, ``keypoints_raw`` as the model gave them;
    pixels of the input frames; 3 decimals.
    :func:`read_pose_jsonl` rebuilds the same dict from a ``.jsonl`` left
    by an interrupted run.

    Args:
        path: the final ``.json``; the ``.jsonl`` lies beside it.
        header: what goes into the header (source, fps, meta, settings).
    """

    def __init__(self, path: str | Path, header: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.lines_path = self.path.with_suffix('.jsonl')
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.header = dict(header)
        self.frames = 0
        self._fh = open(self.lines_path, 'w', encoding='utf-8')
        self._write_line(dict(header=self.header))

    def _write_line(self, obj: Any) -> None:
        self._fh.write(json.dumps(obj, separators=(',', ':')) + '\n')
        self._fh.flush()

    def add(self, result: Mapping[str, Any], file_name: str | None = None) -> None:
        """Append one frame's result."""
        self._write_line(_frame_record(result, file_name))
        self.frames += 1

    def close(self, skipped_frames: Sequence[Any] = (),
              results: Sequence[Mapping[str, Any]] | None = None,
              file_names: Mapping[int, str] | None = None) -> Path:
        """Close the ``.jsonl`` and write the ``.json``.

        Args:
            skipped_frames: what the source skipped, recorded as is.
            results: write these frames instead of the lines written so
                far (after offline smoothing).
            file_names: per frame index, for ``results``.
        """
        if not self._fh.closed:
            self._fh.close()
        data = read_pose_jsonl(self.lines_path)
        if results is not None:
            names = file_names or {}
            data['frames'] = [_frame_record(r, names.get(int(r['frame_idx'])))
                              for r in results]
            data['num_frames'] = len(data['frames'])
        data['skipped_frames'] = list(skipped_frames)
        tmp = self.path.with_suffix('.json.tmp')
        tmp.write_text(json.dumps(data), encoding='utf-8')
        os.replace(tmp, self.path)
        return self.path


def read_pose_jsonl(path: str | Path) -> dict[str, Any]:
    """The ``.json`` dict from a ``.jsonl`` written by
    :class:`PoseJsonWriter`; a last line cut short by a crash is ignored.

    Raises:
        ValueError: the file has no header line (naming the file).
    """
    path = Path(path)
    header = None
    frames = []
    with open(path, encoding='utf-8') as fh:
        for number, text in enumerate(fh, 1):
            text = text.strip()
            if not text:
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError:
                break  # a partial last line
            if number == 1:
                if not isinstance(obj, dict) or 'header' not in obj:
                    raise ValueError(f'{path}: line 1 is not a pose-results header')
                header = obj['header']
            else:
                frames.append(obj)
    if header is None:
        raise ValueError(f'{path}: empty, no pose-results header')
    return dict(header, num_frames=len(frames), frames=frames)


class DlcCsvWriter:
    """Results as a DeepLabCut-style CSV, written on :meth:`close`.

    With one track id in the whole run the single-animal layout is used::

        scorer,customkpt,customkpt,customkpt,...
        bodyparts,snout,snout,snout,leftear,...
        coords,x,y,likelihood,x,...
        0,312.5,200.1,0.93,...

    With several, the multi-animal layout, with an ``individuals`` row
    (``track<id>`` per track) between ``scorer`` and ``bodyparts``. The first
    column is the frame index; a frame where a track is absent has empty
    cells. Values are the smoothed keypoints and their scores.

    Args:
        path: the output ``.csv``.
        keypoint_names: K body-part names.
        scorer: the ``scorer`` header value.
    """

    def __init__(self, path: str | Path, keypoint_names: Sequence[str],
                 scorer: str = 'customkpt') -> None:
        self.path = Path(path)
        self.names = [str(n) for n in keypoint_names]
        self.scorer = scorer
        self.rows: dict[int, dict[int, tuple[np.ndarray, np.ndarray]]] = {}

    def add(self, result: Mapping[str, Any]) -> None:
        """Keep one frame's result."""
        row = self.rows.setdefault(int(result['frame_idx']), {})
        for inst in result['instances']:
            kpts = np.asarray(inst['keypoints'], np.float64).reshape(-1, 2)
            if len(kpts) != len(self.names):
                raise ValueError(f'DlcCsvWriter: frame {result["frame_idx"]}: {len(kpts)} '
                                 f'keypoints, the header has {len(self.names)}')
            row[int(inst['track_id'])] = (
                kpts, np.asarray(inst['keypoint_scores'], np.float64).reshape(-1))

    @property
    def track_ids(self) -> list[int]:
        """Every track id seen, sorted."""
        return sorted({tid for row in self.rows.values() for tid in row})

    def close(self) -> Path:
        """Write the file."""
        tracks = self.track_ids
        multi = len(tracks) > 1
        blocks = tracks if tracks else [0]
        per_block = 3 * len(self.names)
        header = [['scorer'] + [self.scorer] * per_block * len(blocks)]
        if multi:
            header.append(['individuals'] + [f'track{t}' for t in blocks
                                             for _ in range(per_block)])
        header.append(['bodyparts'] + [n for _ in blocks for n in self.names for _ in range(3)])
        header.append(['coords'] + ['x', 'y', 'likelihood'] * len(self.names) * len(blocks))

        def fmt(v: float, digits: int) -> str:
            return f'{v:.{digits}f}' if math.isfinite(v) else ''

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, 'w', newline='', encoding='utf-8') as fh:
            writer = csv.writer(fh)
            writer.writerows(header)
            for frame in sorted(self.rows):
                cells = [str(frame)]
                for tid in blocks:
                    got = self.rows[frame].get(tid)
                    if got is None:
                        cells += [''] * per_block
                        continue
                    kpts, scores = got
                    for (x, y), s in zip(kpts, scores):
                        cells += [fmt(x, 3), fmt(y, 3), fmt(s, 4)]
                writer.writerow(cells)
        return self.path
