"""An mp4 written in closed segments, so that a killed run leaves playable video.

An mp4 (``mp4v``) only becomes playable when its writer is closed (the index
goes at the end of the file). :class:`SegmentedMp4` therefore writes
``<name>.mp4.parts/part00000.mp4``, ``part00001.mp4``, ... of
``segment_frames`` frames each, closing every part when it is full and then
listing it in ``<name>.mp4.parts/parts.txt`` (one ``file 'part00000.mp4'`` line
per closed part: the concat-list format that ``ffmpeg -f concat -i parts.txt -c
copy out.mp4`` joins without re-encoding). :meth:`SegmentedMp4.close` joins the
parts into ``<name>.mp4`` and removes the folder. After a kill every listed part
is a complete, playable file; only the frames of the part being written are
lost (``customkpt video --finish`` draws them again from the source).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np

__all__ = ['SegmentedMp4', 'parts_dir', 'listed_parts', 'copy_frames', 'open_mp4']

LIST_NAME = 'parts.txt'


def parts_dir(path: str | Path) -> Path:
    """The folder of an mp4's segments: ``<path>.parts``."""
    path = Path(path)
    return path.with_name(path.name + '.parts')


def listed_parts(folder: str | Path) -> list[Path]:
    """The closed (complete) parts named in ``parts.txt``, in order."""
    folder = Path(folder)
    listing = folder / LIST_NAME
    if not listing.is_file():
        return []
    out = []
    for line in listing.read_text(encoding='utf-8').splitlines():
        line = line.strip()
        if line.startswith("file '") and line.endswith("'"):
            out.append(folder / line[6:-1])
    return [p for p in out if p.is_file()]


def open_mp4(path: str | Path, fps: float, size: tuple[int, int]) -> cv2.VideoWriter:
    """A ``mp4v`` writer of (w, h) frames.

    Raises:
        OSError: the file cannot be written (the message names it).
    """
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), float(fps), size)
    if not writer.isOpened():
        raise OSError(f'cannot write video {str(path)!r} (mp4v codec missing?)')
    return writer


def copy_frames(parts: list[Path], writer: cv2.VideoWriter, size: tuple[int, int]) -> int:
    """Decode the parts and write their frames (resized to ``size`` (w, h));
    returns the number of frames copied."""
    count = 0
    for part in parts:
        cap = cv2.VideoCapture(str(part))
        try:
            while True:
                ok, frame = cap.read()
                if not ok or frame is None:
                    break
                if (frame.shape[1], frame.shape[0]) != size:
                    frame = cv2.resize(frame, size)
                writer.write(frame)
                count += 1
        finally:
            cap.release()
    return count


class SegmentedMp4:
    """Frames go into closed-when-full parts; :meth:`close` joins them.

    Args:
        path: the final ``.mp4``.
        fps: frame rate.
        size: (w, h) of every frame.
        segment_frames: frames per part.
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int],
                 segment_frames: int) -> None:
        if segment_frames < 1:
            raise ValueError(f'segment_frames must be >= 1, got {segment_frames}')
        self.path = Path(path)
        self.fps, self.size, self.segment_frames = float(fps), size, int(segment_frames)
        self.folder = parts_dir(self.path)
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        self.parts: list[Path] = []
        self._writer: cv2.VideoWriter | None = None
        self._in_part = 0

    def write(self, image: np.ndarray) -> None:
        """Append one frame of the writer's size."""
        if self._writer is None:
            part = self.folder / f'part{len(self.parts):05d}.mp4'
            self._writer = open_mp4(part, self.fps, self.size)
            self.parts.append(part)
            self._in_part = 0
        self._writer.write(image)
        self._in_part += 1
        if self._in_part >= self.segment_frames:
            self._close_part()

    def _close_part(self) -> None:
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        with open(self.folder / LIST_NAME, 'a', encoding='utf-8') as fh:
            fh.write(f"file '{self.parts[-1].name}'\n")

    def close(self) -> None:
        """Close the last part and join the parts into :attr:`path` (one part
        is moved there; several are decoded and written again)."""
        self._close_part()
        parts = listed_parts(self.folder)
        if len(parts) == 1:
            os.replace(parts[0], self.path)
        elif parts:
            tmp = self.path.with_name(self.path.stem + '.joining.mp4')
            writer = open_mp4(tmp, self.fps, self.size)
            try:
                copy_frames(parts, writer, self.size)
            finally:
                writer.release()
            os.replace(tmp, self.path)
        shutil.rmtree(self.folder, ignore_errors=True)
