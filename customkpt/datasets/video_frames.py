"""Video frames for training: where clips start, and a disk cache of the
frames they use.

Seeking in a compressed video costs a decode from the last key frame
(about half a second per clip on a 640x480 mp4), far more than a training
step's crop. :func:`cache_frames` therefore reads each video once, in order,
and keeps the frames that the sampled clips need as PNG files (lossless), so
the training pipeline loads them like any image (``LoadImage``, with its own
memory or disk cache). A frame's file is keyed by the video's resolved path,
size and modification time and by the frame index, so runs and dataloader
workers share it and an edited video is never read from stale files. Files
are written under a temporary name and renamed, so concurrent processes
(distributed ranks) never read half a file.
"""
from __future__ import annotations

import glob
import hashlib
import os
import uuid
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from ..errors import UserError

__all__ = ['VideoClipError', 'expand_videos', 'video_info', 'sample_clip_starts', 'cache_frames']


class VideoClipError(UserError, ValueError):
    """Unusable video input for :class:`~customkpt.datasets.VideoClipDataset`
    (the message names the video or box file and the field)."""


def expand_videos(videos: str | Sequence[str], root: str = '') -> list[str]:
    """Video paths from paths and glob patterns (``*``, ``?``, ``[``),
    each relative to ``root`` unless absolute; patterns give their matches
    sorted.

    Raises:
        VideoClipError: no video given.
        FileNotFoundError: a path that does not exist or a pattern that
            matches nothing (named).
    """
    items = [videos] if isinstance(videos, (str, Path)) else list(videos or [])
    if not items:
        raise VideoClipError('VideoClipDataset: videos is empty; give video paths or patterns')
    out: list[str] = []
    for item in items:
        path = os.path.join(root, str(item)) if root and not os.path.isabs(str(item)) \
            else str(item)
        if glob.has_magic(path):
            matches = sorted(p for p in glob.glob(path) if os.path.isfile(p))
            if not matches:
                raise FileNotFoundError(f'VideoClipDataset: no video matches {path!r}')
            out += matches
        elif os.path.isfile(path):
            out.append(path)
        else:
            raise FileNotFoundError(f'VideoClipDataset: video {path!r} not found')
    return out


def video_info(path: str) -> tuple[int, tuple[int, int]]:
    """(frame count, (w, h)) of a video; the count is read to the end when the
    container does not declare it.

    Raises:
        VideoClipError: the file cannot be opened as a video (named).
    """
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise VideoClipError(f'VideoClipDataset: cannot open {path!r} as a video')
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        if count <= 0:
            count = 0
            while cap.grab():
                count += 1
    finally:
        cap.release()
    return count, size


def sample_clip_starts(num_frames: int, span: int, num_clips: int,
                       rng: np.random.Generator) -> list[int]:
    """First frames of up to ``num_clips`` clips that each cover ``span``
    frames, spread over the video: the possible starts are cut into
    ``num_clips`` equal strata and one start is drawn in each (the same
    ``rng`` state gives the same starts).

    Returns:
        Sorted distinct starts in ``[0, num_frames - span]`` (empty when the
        video is shorter than ``span``).
    """
    choices = num_frames - span + 1
    if choices <= 0 or num_clips <= 0:
        return []
    count = min(int(num_clips), choices)
    edges = np.linspace(0, choices, count + 1)
    starts = [int(lo + rng.random() * (hi - lo)) for lo, hi in zip(edges[:-1], edges[1:])]
    return sorted({min(s, choices - 1) for s in starts})


def _video_key(path: str) -> str:
    stat = os.stat(path)
    key = f'{Path(path).resolve()}|{stat.st_size}|{stat.st_mtime_ns}'
    return f'{Path(path).stem}-{hashlib.sha1(key.encode()).hexdigest()[:16]}'


def _write_png(path: Path, frame: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f'{path.stem}.{os.getpid()}.{uuid.uuid4().hex}.tmp.png')
    if not cv2.imwrite(str(tmp), frame, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
        raise VideoClipError(f'VideoClipDataset: cannot write frame cache file {str(tmp)!r}')
    os.replace(tmp, path)


def cache_frames(path: str, frames: Sequence[int], cache_dir: str) -> dict[int, str]:
    """PNG files of ``frames`` (0-based indices) of the video at ``path``.

    Frames already in the cache are not decoded again; the others are
    decoded in one pass through the video, up to the last one needed.

    Returns:
        ``frame index -> file`` for every frame that could be read (a
        frame past the real end of the video, or undecodable, is missing).
    """
    folder = Path(cache_dir) / _video_key(path)
    files = {int(i): folder / f'{int(i):07d}.png' for i in sorted(set(frames))}
    missing = sorted(i for i, f in files.items() if not f.is_file())
    if missing:
        todo = set(missing)
        cap = cv2.VideoCapture(path)
        try:
            index = 0
            while todo and index <= missing[-1]:
                if index in todo:
                    ok, frame = cap.read()
                    if ok and frame is not None:
                        _write_png(files[index], frame)
                    todo.discard(index)
                elif not cap.grab():
                    break
                index += 1
        finally:
            cap.release()
    return {i: str(f) for i, f in files.items() if f.is_file()}
