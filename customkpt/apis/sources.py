"""Frame sources for video inference: a video file, a folder of images or a
camera, each yielding ``(frame_idx, timestamp, frame)`` (:func:`open_source`).

Unreadable frames are skipped and counted, and reading goes on past them up
to the frame count the container declares; an unreadable source raises an
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
#: Consecutive unreadable frames tried one by one; past them, frames further
#: and further ahead are tried (bad frames are skipped, never the rest).
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
        skipped: number of frames skipped as unreadable; for a video, every
            frame up to the declared count that could not be read, so that
            frames read + ``skipped`` == ``num_frames``.
        skipped_frames: their indices (and for folders, file names).
        unreadable_tail: of those, the frames at the end of a video after
            the last readable one (a cut-short file).
    """

    def __init__(self, src: str | int | Path, fps: float | None = None,
                 max_frames: int | None = None) -> None:
        self.src = src
        self.max_frames = max_frames
        self.skipped = 0
        self.skipped_frames: list[Any] = []
        self.unreadable_tail = 0
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
        self.skipped, self.skipped_frames, self.unreadable_tail = 0, [], 0
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
        idx = 0
        try:
            while self.max_frames is None or idx < self.max_frames:
                ok, frame = cap.read()
                if not ok or frame is None:
                    if is_camera or self.num_frames is None or idx >= self.num_frames:
                        return   # a camera that stopped, or past the declared end
                    idx, frame = self._skip_bad(cap, idx)
                    if frame is None:
                        return
                if is_camera:
                    stamp: float | None = time.monotonic() - start
                else:
                    stamp = idx / self.fps if self.fps else cap.get(cv2.CAP_PROP_POS_MSEC) / 1e3
                yield idx, stamp, frame
                idx += 1
        finally:
            cap.release()

    def _skip_bad(self, cap: cv2.VideoCapture, idx: int) -> tuple[int, np.ndarray | None]:
        """Frame ``idx`` of a video could not be read: count it and seek on.

        The next frames are tried one by one (seeking to each) for
        :data:`MAX_CONSECUTIVE_FAILURES` frames; past them, frames 2, 4, 8, ...
        further on, and once one reads, the first readable frame after the bad
        run is found by bisection. Every frame not read is counted as skipped;
        when nothing up to the declared end (or ``max_frames``) can be read, the
        rest is also counted in :attr:`unreadable_tail`.

        Returns:
            the index of the next frame read and the frame, or ``(end, None)``.
        """
        end = self.num_frames or 0
        bad, step = idx, 1          # the last index known to be unreadable
        found: tuple[int, np.ndarray] | None = None
        while bad + 1 < end and found is None:
            if bad - idx + 1 >= MAX_CONSECUTIVE_FAILURES:
                step *= 2
            probe = min(bad + step, end - 1)
            frame = _read_at(cap, probe)
            if frame is not None:
                found = probe, frame
            else:
                bad = probe
        if found is not None:
            good, frame = found
            while good - bad > 1:   # the first readable frame after the run
                mid = (bad + good) // 2
                got = _read_at(cap, mid)
                bad, good, frame = (bad, mid, got) if got is not None else (mid, good, frame)
            _read_at(cap, good)     # leaves the capture at good + 1
        else:
            good, frame = end, None
            self.unreadable_tail = end - idx
        for skipped in range(idx, good):
            self._skip(dict(frame_idx=skipped))
        return good, frame


def _read_at(cap: cv2.VideoCapture, index: int) -> np.ndarray | None:
    """Seek to a frame and read it (``None`` when it cannot be decoded)."""
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = cap.read()
    return frame if ok and frame is not None else None


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
