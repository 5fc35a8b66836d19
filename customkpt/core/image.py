"""Reading an image file with a clear error; numpy and OpenCV only, so the
torch-free predictor, the training pipeline and the apis share it."""
from __future__ import annotations

import os

import cv2
import numpy as np

__all__ = ['read_image']


def read_image(path: str | os.PathLike, owner: str, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """``cv2.imread(path, flags)``, or an ``OSError`` that names ``owner``, the
    file and why (missing, or not a readable image)."""
    path = str(path)
    image = cv2.imread(path, flags)
    if image is None:
        reason = 'file not found' if not os.path.exists(path) else 'not a readable image'
        raise OSError(f'{owner}: cannot read image {path!r} ({reason})')
    return image
