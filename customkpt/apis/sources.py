"""Frame sources for video inference: a video file, a folder of images or a
camera, each yielding ``(frame_idx, timestamp, frame)`` (:func:`open_source`).

Unreadable frames are skipped and counted; an unreadable source raises an
error that names it.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np

__all__ = ['IMAGE_EXTENSIONS', 'FrameSource', 'open_source']

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
