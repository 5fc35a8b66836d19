"""Writing the frames a label file holds or points at as image files.

SLEAP packages and DeepPoseKit files carry their images inside the HDF5
file, and SLEAP projects may point at videos; a COCO dataset needs image
files. :class:`FrameWriter` writes them below one folder (the converted
dataset's image root) and returns each file's name relative to it, with the
image size.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from .common import ConversionError
from .images import image_size

__all__ = ['FrameWriter', 'encoded_extension', 'read_video_frames']

_MAGIC = ((b'\x89PNG\r\n\x1a\n', '.png'), (b'\xff\xd8\xff', '.jpg'))


def encoded_extension(data: bytes) -> str | None:
    """``.png`` / ``.jpg`` when ``data`` starts like such a file, else ``None``."""
    for magic, ext in _MAGIC:
        if data.startswith(magic):
            return ext
    return None


class FrameWriter:
    """Writes frames as image files below ``root``.

    Args:
        root: the output image folder (created on first write).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.written = 0

    def _target(self, stem: str, ext: str) -> tuple[str, Path]:
        rel = stem + ext
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.written += 1
        return rel, path

    def write_encoded(self, stem: str, data: bytes, where: str) -> tuple[str, int, int]:
        """Write encoded image bytes: PNG and JPEG byte for byte, anything
        OpenCV decodes as PNG.

        Args:
            stem: the file name relative to the root, without extension.
            data: the encoded image.
            where: the frame, for messages.

        Returns:
            ``(file_name, width, height)``.
        """
        ext = encoded_extension(data)
        if ext is None:
            import cv2
            img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
            if img is None:
                raise ConversionError(f'{where}: the stored frame is not a decodable image '
                                      f'({len(data)} bytes)')
            return self.write_array(stem, img, where)
        rel, path = self._target(stem, ext)
        tmp = path.with_name(path.name + '.tmp')
        tmp.write_bytes(data)
        os.replace(tmp, path)
        width, height = image_size(path)
        return rel, width, height

    def write_array(self, stem: str, img: np.ndarray, where: str) -> tuple[str, int, int]:
        """Write an (H, W), (H, W, 1) or (H, W, 3) uint8 array as PNG, its
        channels in OpenCV's (BGR) order. Returns ``(file_name, width, height)``."""
        import cv2
        img = np.asarray(img)
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[:, :, 0]
        if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3
                                                               and img.shape[2] not in (3, 4)):
            raise ConversionError(f'{where}: expected an (H, W[, C]) uint8 image with C in '
                                  f'1, 3, 4; got {img.dtype} {img.shape}')
        rel, path = self._target(stem, '.png')
        if not cv2.imwrite(str(path), np.ascontiguousarray(img)):
            raise ConversionError(f'{where}: cannot write {path}')
        return rel, int(img.shape[1]), int(img.shape[0])

    def copy_file(self, stem: str, src: Path) -> tuple[str, int, int]:
        """Copy an image file (keeping its extension). Returns
        ``(file_name, width, height)``."""
        width, height = image_size(src)
        rel, path = self._target(stem, src.suffix.lower())
        shutil.copyfile(src, path)
        return rel, width, height


def read_video_frames(video: Path, frame_indices: Sequence[int], where: str
                      ) -> Iterator[tuple[int, np.ndarray]]:
    """The frames ``frame_indices`` of a video, as OpenCV decodes them (BGR).

    Frames are read in increasing order; the reader seeks
    (``CAP_PROP_POS_FRAMES``) only when the next wanted frame is not the next
    one in the stream, which is how SLEAP's own video reader fetches a frame,
    so the images match those the labels were placed on.

    Raises:
        ConversionError: the video cannot be opened, or a frame cannot be
            read (naming the frame and ``where``).
    """
    import cv2
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise ConversionError(f'{where}: OpenCV cannot open the video {video}')
    try:
        position = 0
        for idx in sorted(set(int(i) for i in frame_indices)):
            if idx != position:
                cap.set(cv2.CAP_PROP_POS_FRAMES, idx)
            ok, img = cap.read()
            if not ok or img is None:
                total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
                raise ConversionError(f'{where}: cannot read frame {idx} of {video} (the video '
                                      f'reports {total} frames)')
            position = idx + 1
            yield idx, img
    finally:
        cap.release()
