"""Image sizes from file headers (PNG, JPEG with its EXIF rotation), as OpenCV
decodes them, without decoding."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from .common import ConversionError

__all__ = ['image_size']


def _exif_orientation(tiff: bytes) -> int:
    """The orientation tag (1..8) of a TIFF/EXIF block, 1 when absent."""
    if len(tiff) < 8 or tiff[:2] not in (b'II', b'MM'):
        return 1
    end = '<' if tiff[:2] == b'II' else '>'
    (ifd,) = struct.unpack(end + 'I', tiff[4:8])
    if ifd + 2 > len(tiff):
        return 1
    (count,) = struct.unpack(end + 'H', tiff[ifd:ifd + 2])
    for i in range(count):
        entry = tiff[ifd + 2 + 12 * i: ifd + 14 + 12 * i]
        if len(entry) < 12:
            break
        tag, kind = struct.unpack(end + 'HH', entry[:4])
        if tag == 0x0112 and kind == 3:  # orientation, SHORT
            return struct.unpack(end + 'H', entry[8:10])[0]
    return 1


def _jpeg_size(fh: Any) -> tuple[int, int] | None:
    """(w, h) from JPEG markers, after EXIF rotation as decoders apply it."""
    orientation = 1
    fh.seek(2)
    while True:
        byte = fh.read(1)
        while byte and byte != b'\xff':
            byte = fh.read(1)
        while byte == b'\xff':
            byte = fh.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            continue  # markers without a length
        if marker in (0xD9, 0xDA):
            return None  # end of image / start of scan before any frame header
        raw = fh.read(2)
        if len(raw) < 2:
            return None
        (length,) = struct.unpack('>H', raw)
        seg = fh.read(length - 2)
        if marker == 0xE1 and seg.startswith(b'Exif\x00\x00'):
            orientation = _exif_orientation(seg[6:])
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and len(seg) >= 5:
            h, w = struct.unpack('>HH', seg[1:5])
            return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def image_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` of an image as OpenCV decodes it.

    PNG and JPEG sizes come from the file header (JPEG EXIF rotation
    included, as ``cv2.imread`` applies it); other formats are decoded.

    Raises:
        ConversionError: if the file is missing or unreadable.
    """
    path = Path(path)
    if not path.is_file():
        raise ConversionError(f'image not found: {path}')
    with open(path, 'rb') as fh:
        head = fh.read(32)
        if head.startswith(b'\x89PNG\r\n\x1a\n') and head[12:16] == b'IHDR':
            w, h = struct.unpack('>II', head[16:24])
            return int(w), int(h)
        if head.startswith(b'\xff\xd8'):
            size = _jpeg_size(fh)
            if size is not None:
                return size
    import cv2
    img = cv2.imread(str(path))
    if img is None:
        raise ConversionError(f'cannot read image {path}')
    return int(img.shape[1]), int(img.shape[0])
