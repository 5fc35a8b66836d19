"""Writers of video inference results (see :mod:`customkpt.apis.video` for a
frame's result dict): an mp4 with the skeleton drawn (:class:`PoseVideoWriter`),
JSON Lines flushed per frame plus a final JSON (:class:`PoseJsonWriter`), and
a DeepLabCut-layout CSV (:class:`DlcCsvWriter`).
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from ..converters.export_dlc import write_dlc_table

__all__ = ['PoseVideoWriter', 'PoseJsonWriter', 'DlcCsvWriter', 'read_pose_jsonl',
           'result_arrays', 'write_pose_json']


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
    size are resized to it. By default the file is written in closed parts
    of ``segment_frames`` frames (:class:`~customkpt.apis.segments.SegmentedMp4`)
    joined on :meth:`close`, so that a killed run still leaves playable video.

    Args:
        path: the output file.
        meta: keypoint definition (``keypoint_names``, ``skeleton``, colours).
        fps: frame rate of the output (30 when unknown).
        score_thr: points scored at or below this are not drawn.
        draw_boxes: draw the instance boxes.
        segment_frames: frames per closed part; ``None``: one file written
            directly (unplayable until closed).
    """

    def __init__(self, path: str | Path, meta: Mapping[str, Any], fps: float | None = None,
                 score_thr: float = 0.3, draw_boxes: bool = True,
                 segment_frames: int | None = 300) -> None:
        self.path = Path(path)
        self.meta = dict(meta)
        self.fps = float(fps) if fps else 30.0
        self.score_thr = score_thr
        self.draw_boxes = draw_boxes
        self.segment_frames = segment_frames
        self.size: tuple[int, int] | None = None
        self.frames = 0
        self._writer: Any = None

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
            from .segments import SegmentedMp4, open_mp4
            self.size = (image.shape[1], image.shape[0])
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = (open_mp4(self.path, self.fps, self.size)
                            if self.segment_frames is None else
                            SegmentedMp4(self.path, self.fps, self.size, self.segment_frames))
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size)
        self._writer.write(image)
        self.frames += 1

    def close(self) -> None:
        """Finish the file (safe to call twice)."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            if isinstance(writer, cv2.VideoWriter):
                writer.release()
            else:
                writer.close()


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

    def skip(self, what: Any) -> None:
        """Record a frame the source could not read (a ``{"skipped": ...}``
        line, gathered into ``skipped_frames`` by :func:`read_pose_jsonl`)."""
        self._write_line(dict(skipped=what))

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
        return write_pose_json(self.path, data)


def write_pose_json(path: str | Path, data: Mapping[str, Any]) -> Path:
    """Write the final JSON atomically (a ``.json.tmp`` renamed)."""
    path = Path(path)
    tmp = path.with_suffix('.json.tmp')
    tmp.write_text(json.dumps(data), encoding='utf-8')
    os.replace(tmp, path)
    return path


def read_pose_jsonl(path: str | Path) -> dict[str, Any]:
    """The ``.json`` dict from a ``.jsonl`` written by
    :class:`PoseJsonWriter`; a last line cut short by a crash is ignored,
    ``{"skipped": ...}`` lines make ``skipped_frames``.

    Raises:
        ValueError: the file has no header line (naming the file).
    """
    path = Path(path)
    header = None
    frames, skipped = [], []
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
            elif isinstance(obj, dict) and set(obj) == {'skipped'}:
                skipped.append(obj['skipped'])
            else:
                frames.append(obj)
    if header is None:
        raise ValueError(f'{path}: empty, no pose-results header')
    return dict(header, num_frames=len(frames), skipped_frames=skipped, frames=frames)


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
    cells. Values are the smoothed keypoints and their scores; a likelihood
    is a probability in DeepLabCut, so scores are clipped to [0, 1] here
    (heatmap peaks can exceed 1; the JSON keeps them as the model gave them).
    The layout is :func:`customkpt.converters.export_dlc.write_dlc_table`'s.

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
        blocks = tracks if tracks else [0]
        frames = sorted(self.rows)
        points = np.full((len(frames), len(blocks), len(self.names), 2), np.nan)
        scores = np.full(points.shape[:3], np.nan)
        for f, frame in enumerate(frames):
            for b, tid in enumerate(blocks):
                got = self.rows[frame].get(tid)
                if got is not None:
                    points[f, b], scores[f, b] = got
        multi = len(tracks) > 1
        return write_dlc_table(self.path, [str(f) for f in frames],
                               points if multi else points[:, 0], self.names,
                               scores=scores if multi else scores[:, 0], scorer=self.scorer,
                               individuals=[f'track{t}' for t in blocks] if multi else None,
                               digits=3, score_digits=4)
