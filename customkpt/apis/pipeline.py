"""The video loop as one call (:func:`run_video`)::

    source frames -> VideoPoseEstimator (boxes -> model -> tracks -> smoothing)
                  -> VideoOutputs (JSON Lines + JSON, DeepLabCut CSV, drawn mp4)

A run shows a progress bar, survives Ctrl-C and SIGTERM (the frame in hand
is finished, every writer is closed, so JSON, CSV and mp4 agree) and
returns a :class:`VideoRunSummary` with the time spent in each stage. With
an offline smoother (Savitzky-Golay) the frames are smoothed once the loop
ends; the CSV then gets the smoothed keypoints and the video is drawn in a
second pass over the source (not possible for a camera).
"""
from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from .sources import FrameSource
from .video import VideoPoseEstimator
from .writers import DlcCsvWriter, PoseJsonWriter, PoseVideoWriter

__all__ = ['STAGES', 'VideoOutputs', 'VideoRunSummary', 'run_video']

#: Stages timed by :func:`run_video`, in pipeline order.
STAGES = ('decode', 'boxes', 'model', 'tracking', 'smoothing', 'drawing', 'writing')


@dataclass
class VideoOutputs:
    """The writers a run feeds; any of them may be ``None``."""

    json: PoseJsonWriter | None = None
    csv: DlcCsvWriter | None = None
    video: PoseVideoWriter | None = None

    @classmethod
    def open(cls, out_dir: str | Path, source: FrameSource, meta: Mapping[str, Any],
             header: Mapping[str, Any] | None = None, score_thr: float = 0.3,
             video: bool = True, segment_frames: int | None = 300) -> 'VideoOutputs':
        """``<out_dir>/<source name>_pose.{json,jsonl,csv,mp4}``.

        Args:
            out_dir: created when missing.
            source: names the files; gives the video's frame rate.
            meta: keypoint definition (``keypoint_names``, ``skeleton``).
            header: the JSON header (source, fps, names, settings); by
                default the source, its kind and fps and the keypoint
                definition.
            score_thr: points scored at or below this are not drawn.
            video: also write the drawn mp4.
            segment_frames: the mp4 is written in closed parts of this many
                frames (:class:`~customkpt.apis.segments.SegmentedMp4`).
        """
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = out_dir / f'{source.name}_pose'
        names = list(meta.get('keypoint_names') or [])
        if header is None:
            header = dict(source=str(source.src), kind=source.kind, fps=source.fps,
                          keypoint_names=names, skeleton=meta.get('skeleton') or [])
        return cls(json=PoseJsonWriter(stem.with_suffix('.json'), header),
                   csv=DlcCsvWriter(stem.with_suffix('.csv'), names),
                   video=PoseVideoWriter(stem.with_suffix('.mp4'), meta, fps=source.fps,
                                         score_thr=score_thr, segment_frames=segment_frames)
                   if video else None)

    def paths(self) -> list[Path]:
        """The files written (the video only when it got frames)."""
        out: list[Path] = []
        if self.video is not None and self.video.frames:
            out.append(self.video.path)
        if self.json is not None:
            out += [self.json.path, self.json.lines_path]
        if self.csv is not None:
            out.append(self.csv.path)
        return out


@dataclass
class VideoRunSummary:
    """What :func:`run_video` did.

    Attributes:
        frames: frames processed.
        skipped: frames the source could not decode.
        skipped_frames: their indices (and for folders, file names).
        seconds: time of the frame loop (offline smoothing and the second
            drawing pass not included).
        unreadable_tail: of the skipped frames, those at the end of a video
            after its last readable frame (a cut-short file).
        interrupted: the run was stopped by Ctrl-C or SIGTERM.
        stopped_by: ``'SIGINT'`` or ``'SIGTERM'`` when interrupted.
        outputs: the files written.
        timings: seconds per stage of :data:`STAGES`.
        notes: things the caller should tell the user (e.g. no video).
        results: every frame's result when asked for (``keep_results``),
            smoothed when the smoother is offline.
    """

    frames: int = 0
    skipped: int = 0
    skipped_frames: list[Any] = field(default_factory=list)
    unreadable_tail: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    stopped_by: str | None = None
    outputs: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    notes: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] | None = None

    @property
    def fps(self) -> float:
        """Frames per second of the loop."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def _timed_frames(source: FrameSource, timings: dict[str, float], progress: bool,
                  desc: str) -> Iterator[tuple[int, float | None, np.ndarray]]:
    """The source's frames behind a progress bar; decoding time is counted."""
    from tqdm import tqdm
    bar = tqdm(source, total=len(source) or None, unit='frame', desc=desc,
               disable=not progress)
    iterator = iter(bar)
    while True:
        t0 = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            return
        timings['decode'] += time.perf_counter() - t0
        yield item


def _write_online(outputs: VideoOutputs, frame: np.ndarray, result: dict[str, Any],
                  timings: dict[str, float]) -> None:
    t0 = time.perf_counter()
    drawn = outputs.video.draw(frame, result) if outputs.video is not None else None
    t1 = time.perf_counter()
    if drawn is not None:
        outputs.video.write(drawn)
    if outputs.csv is not None:
        outputs.csv.add(result)
    timings['drawing'] += t1 - t0
    timings['writing'] += time.perf_counter() - t1


def _draw_second_pass(source: FrameSource, results: list[dict[str, Any]],
                      writer: PoseVideoWriter, progress: bool) -> None:
    """Read the source again and draw the (offline-smoothed) results."""
    from tqdm import tqdm
    by_frame = {r['frame_idx']: r for r in results}
    for idx, _, frame in tqdm(source, total=len(source) or None, unit='frame',
                              desc='drawing', disable=not progress):
        if idx in by_frame:
            writer.write(writer.draw(frame, by_frame[idx]))


def _finish_offline(source: FrameSource, estimator: VideoPoseEstimator,
                    outputs: VideoOutputs, raw: list[dict[str, Any]],
                    summary: VideoRunSummary, progress: bool) -> list[dict[str, Any]]:
    """Smooth the finished frames, write the CSV and JSON, draw the video."""
    smoothed = estimator.smooth_offline(raw)
    if outputs.csv is not None:
        for result in smoothed:
            outputs.csv.add(result)
    if outputs.json is not None:
        outputs.json.close(source.skipped_frames, results=smoothed,
                           file_names={r['frame_idx']: source.file_name(r['frame_idx'])
                                       for r in smoothed})
    if outputs.video is not None and not summary.interrupted:
        if source.kind == 'camera':
            summary.notes.append('a camera cannot be read twice; no video with an '
                                 'offline smoother')
        else:
            _draw_second_pass(source, smoothed, outputs.video, progress)
    return smoothed


class _StopRequests:
    """SIGINT and SIGTERM set :attr:`signal` instead of stopping the process,
    so the frame being written is finished and the writers are closed; a
    second signal stops at once (``KeyboardInterrupt``). Handlers are only
    installed from the main thread, and restored on exit."""

    SIGNALS = ('SIGINT', 'SIGTERM')

    def __init__(self) -> None:
        self.signal: str | None = None
        self._old: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signal.Signals(signum).name

    def __enter__(self) -> '_StopRequests':
        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                num = getattr(signal, name, None)
                if num is not None:
                    self._old[num] = signal.signal(num, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for num, old in self._old.items():
            signal.signal(num, old)
        self._old.clear()


def _record_skips(source: FrameSource, outputs: VideoOutputs, done: int) -> int:
    """Write the source's newly skipped frames to the JSON Lines; returns how
    many are written now."""
    skipped = source.skipped_frames
    if outputs.json is not None:
        for what in skipped[done:]:
            outputs.json.skip(what)
    return len(skipped)


def _frame_loop(source: FrameSource, estimator: VideoPoseEstimator, outputs: VideoOutputs,
                summary: VideoRunSummary, progress: bool, kept: list[dict[str, Any]],
                keep_results: bool) -> None:
    """Every frame through the estimator into the writers, until the source
    ends, Ctrl-C or SIGTERM. A frame is written to every output or to none."""
    skips = 0
    with _StopRequests() as stop:
        try:
            for idx, stamp, frame in _timed_frames(source, summary.timings, progress,
                                                   source.name):
                skips = _record_skips(source, outputs, skips)
                result = estimator.process(frame, idx, stamp)
                if outputs.json is not None:
                    outputs.json.add(result, source.file_name(idx))
                if estimator.offline or keep_results:
                    kept.append(result)
                if not estimator.offline:
                    _write_online(outputs, frame, result, summary.timings)
                summary.frames += 1
                if stop.signal is not None:
                    break
            else:
                _record_skips(source, outputs, skips)
        except KeyboardInterrupt:
            summary.interrupted = True
        summary.stopped_by = stop.signal or ('SIGINT' if summary.interrupted else None)
        summary.interrupted = summary.stopped_by is not None


def run_video(source: FrameSource, estimator: VideoPoseEstimator,
              outputs: VideoOutputs | None = None, progress: bool = True,
              keep_results: bool = False) -> VideoRunSummary:
    """Run the estimator on every frame of the source and feed the writers.

    Args:
        source: frames (:func:`customkpt.apis.open_source`).
        estimator: boxes, model, tracker and smoother
            (:class:`customkpt.apis.VideoPoseEstimator`); its timings are
            reset first.
        outputs: where results go (:meth:`VideoOutputs.open`); all writers
            are closed on return, also after Ctrl-C, SIGTERM or an error.
        progress: show a tqdm progress bar.
        keep_results: also return every frame's result.

    Returns:
        The summary; ``interrupted`` tells whether Ctrl-C or SIGTERM
        stopped the loop (``stopped_by`` which).
    """
    outputs = outputs if outputs is not None else VideoOutputs()
    summary = VideoRunSummary()
    estimator.reset()
    kept: list[dict[str, Any]] = []
    json_done = False
    try:
        start = time.perf_counter()
        _frame_loop(source, estimator, outputs, summary, progress, kept, keep_results)
        summary.seconds = time.perf_counter() - start
        if estimator.offline:
            with _StopRequests():
                kept = _finish_offline(source, estimator, outputs, kept, summary, progress)
            json_done = True
    finally:
        t0 = time.perf_counter()
        with _StopRequests():
            if outputs.json is not None and not json_done:
                outputs.json.close(source.skipped_frames)
            for writer in (outputs.csv, outputs.video):
                if writer is not None:
                    writer.close()
        summary.timings['writing'] += time.perf_counter() - t0
    for stage in ('boxes', 'model', 'tracking', 'smoothing'):
        summary.timings[stage] = estimator.timings[stage]
    summary.skipped, summary.skipped_frames = source.skipped, list(source.skipped_frames)
    summary.unreadable_tail = source.unreadable_tail
    summary.outputs = outputs.paths()
    summary.results = kept if keep_results else None
    return summary
