"""Numpy crop geometry for deployment, without torch.

The same top-down convention as ``GetBBoxCenterScale`` + ``TopdownAffine``
(no rotation) and ``crop_to_image`` in the estimator, written here because
importing those modules imports torch. Boxes are (N, 4) xyxy float32 in
image pixels; sizes are (w, h).
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

__all__ = ['boxes_to_regions', 'crop_matrix', 'crop_regions', 'crop_to_image']


def boxes_to_regions(boxes: np.ndarray, padding: float, input_size: Sequence[int]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Crop regions of (N, 4) xyxy boxes: centres float32 (N, 2) and sizes
    float32 (N, 2), the box size times ``padding`` with the shorter side
    grown to the aspect ratio of ``input_size``."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    center = ((boxes[:, :2] + boxes[:, 2:]) * 0.5).astype(np.float32)
    size = ((boxes[:, 2:] - boxes[:, :2]) * np.float32(padding)).astype(np.float32)
    aspect = input_size[0] / input_size[1]
    w, h = size[:, 0], size[:, 1]
    wider = w > h * aspect
    size = np.stack([np.where(wider, w, h * aspect), np.where(wider, w / aspect, h)],
                    axis=-1).astype(np.float32)
    return center, size


def crop_matrix(center: Sequence[float], size: Sequence[float], input_size: Sequence[int],
                use_udp: bool = False) -> np.ndarray:
    """(2, 3) float64 affine mapping the region ``center``/``size`` (image
    pixels) onto the ``input_size`` crop; with ``use_udp`` the region's edges
    land on the centres of the first and last crop pixels."""
    span_w, span_h = float(input_size[0]), float(input_size[1])
    if use_udp:
        span_w, span_h = span_w - 1.0, span_h - 1.0
    sx, sy = span_w / float(size[0]), span_h / float(size[1])
    return np.array([[sx, 0.0, span_w / 2.0 - sx * float(center[0])],
                     [0.0, sy, span_h / 2.0 - sy * float(center[1])]])


def crop_regions(img: np.ndarray, centers: np.ndarray, sizes: np.ndarray,
                 input_size: Sequence[int], use_udp: bool = False) -> np.ndarray:
    """Bilinear crops (zero border) of every region: uint8 (N, h, w, C)."""
    w, h = int(input_size[0]), int(input_size[1])
    crops = np.zeros((len(centers), h, w, img.shape[2]), dtype=img.dtype)
    for i, (center, size) in enumerate(zip(centers, sizes)):
        if not (size[0] > 0 and size[1] > 0):
            raise ValueError(f'box {i} has no area (crop size {size.tolist()})')
        matrix = crop_matrix(center, size, input_size, use_udp)
        crops[i] = cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT,
                                  borderValue=0).reshape(h, w, -1)
    return crops


def crop_to_image(keypoints: np.ndarray, input_size: Sequence[int], centers: np.ndarray,
                  sizes: np.ndarray, use_udp: bool = False) -> np.ndarray:
    """Map (N, K, 2) crop-pixel keypoints of N regions back to image pixels:
    ``crop / input_size * size + center - size / 2`` (``input_size - 1``
    with UDP). Returns float32 (N, K, 2)."""
    span = np.asarray(input_size, np.float32) - (1.0 if use_udp else 0.0)
    sizes = np.asarray(sizes, np.float32)[:, None, :]
    centers = np.asarray(centers, np.float32)[:, None, :]
    out = np.asarray(keypoints, np.float32) / span * sizes + centers - sizes / 2
    return out.astype(np.float32)
