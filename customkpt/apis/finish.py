"""Rebuild a run's outputs from what a killed run left behind
(:func:`finish_run`, ``customkpt video --finish``).

A run that is killed outright (SIGKILL, power loss) cannot close its writers.
What survives: ``<stem>.jsonl`` (one flushed line per processed frame, one
per skipped frame) and the closed parts of the mp4 in ``<stem>.mp4.parts/``
(:mod:`customkpt.apis.segments`). From these :func:`finish_run` writes
``<stem>.json`` and ``<stem>.csv`` as a finished run would, and ``<stem>.mp4``:
the closed parts first, then the frames after them drawn again from the
source video named in the JSONL header (when it can still be read). The
frame count of all four then agrees with the JSONL.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .segments import copy_frames, listed_parts, open_mp4, parts_dir
from .sources import open_source
from .writers import DlcCsvWriter, PoseVideoWriter, read_pose_jsonl, write_pose_json

__all__ = ['FinishSummary', 'finish_run', 'find_runs']


@dataclass
class FinishSummary:
    """What :func:`finish_run` rebuilt.

    Attributes:
        frames: frames in the JSONL (and now in the JSON and CSV).
        video_frames: frames in the rebuilt mp4 (``None``: no mp4 parts).
        redrawn: of those, frames drawn again from the source.
        outputs: the files written.
        notes: what could not be rebuilt.
    """

    frames: int = 0
    video_frames: int | None = None
    redrawn: int = 0
    outputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_runs(target: str | Path) -> list[Path]:
    """The ``*_pose.jsonl`` files named by ``target``: the file itself, or
    those in a folder (an ``--out-dir``).

    Raises:
        FileNotFoundError: nothing to finish there (the message names it).
    """
    target = Path(target)
    if target.is_file() and target.suffix == '.jsonl':
        return [target]
    runs = sorted(target.glob('*_pose.jsonl')) if target.is_dir() else []
    if not runs:
        raise FileNotFoundError(f'--finish: no *_pose.jsonl in {str(target)!r}')
    return runs


def _redraw(data: Mapping[str, Any], frames: list[dict[str, Any]], writer: Any,
            painter: PoseVideoWriter, size: tuple[int, int]) -> int:
    """Draw ``frames`` (JSONL records) on the source's frames; returns how
    many were drawn."""
    import cv2
    wanted = {int(f['frame_idx']): f for f in frames}
    drawn = 0
    for idx, _, image in open_source(data['source'], fps=data.get('fps')):
        if idx in wanted:
            image = painter.draw(image, wanted.pop(idx))
            if (image.shape[1], image.shape[0]) != size:
                image = cv2.resize(image, size)
            writer.write(image)
            drawn += 1
        if not wanted:
            break
    return drawn


def _rebuild_video(jsonl: Path, data: Mapping[str, Any], summary: FinishSummary) -> None:
    """``<stem>.mp4`` from the closed parts plus the frames drawn again."""
    mp4 = jsonl.with_suffix('.mp4')
    folder = parts_dir(mp4)
    if not folder.is_dir():
        return
    import cv2
    parts = listed_parts(folder)
    meta = dict(keypoint_names=data.get('keypoint_names') or [],
                skeleton=data.get('skeleton') or [])
    thr = float((data.get('settings') or {}).get('kpt_thr', 0.3))
    painter = PoseVideoWriter(mp4, meta, fps=data.get('fps'), score_thr=thr)
    size = None
    if parts:
        cap = cv2.VideoCapture(str(parts[0]))
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        cap.release()
    rest_needed = data.get('kind') in ('video', 'images')   # a camera cannot be read again
    try:
        size = size or (open_source(data['source']).size if rest_needed else None)
    except (OSError, ValueError, KeyError):
        rest_needed = False
    if size is None:
        summary.notes.append(f'{mp4.name}: no closed part and the source cannot be read')
        return
    tmp = mp4.with_name(mp4.stem + '.joining.mp4')
    writer = open_mp4(tmp, painter.fps, size)
    try:
        copied = copy_frames(parts, writer, size)
        rest = data['frames'][copied:]
        if rest and rest_needed:
            summary.redrawn = _redraw(data, rest, writer, painter, size)
        elif rest:
            summary.notes.append(f'{mp4.name}: the source {data.get("source")!r} cannot be '
                                 f'read; {len(rest)} frames after the closed parts are missing')
    finally:
        writer.release()
    tmp.replace(mp4)
    shutil.rmtree(folder, ignore_errors=True)
    summary.video_frames = copied + summary.redrawn
    summary.outputs.append(mp4)


def finish_run(jsonl: str | Path) -> FinishSummary:
    """Write ``<stem>.json``, ``<stem>.csv`` and (when its parts are there)
    ``<stem>.mp4`` from ``<stem>.jsonl``.

    Raises:
        ValueError: the JSONL has no header (the message names it).
    """
    jsonl = Path(jsonl)
    data = read_pose_jsonl(jsonl)
    summary = FinishSummary(frames=data['num_frames'])
    _rebuild_video(jsonl, data, summary)
    summary.outputs.append(write_pose_json(jsonl.with_suffix('.json'), data))
    csv = DlcCsvWriter(jsonl.with_suffix('.csv'), data.get('keypoint_names') or [])
    for frame in data['frames']:
        csv.add(frame)
    summary.outputs.append(csv.close())
    return summary
