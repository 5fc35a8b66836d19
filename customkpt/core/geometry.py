"""Top-down crop geometry in numpy: boxes to crop regions, the affine warp
and its inverse mapping.

The training transforms (``GetBBoxCenterScale``, ``RandomHalfBody``,
``TopdownAffine``), the estimator and the torch-free ONNX predictor all use
these functions. Boxes are (N, 4) xyxy float32 in image pixels; sizes are
(w, h). ``crop_to_image`` is the one mapping from crop pixels back to image
pixels. See :mod:`customkpt.datasets.transforms.topdown` for the plain and
UDP pixel conventions.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

__all__ = ['get_warp_matrix', 'apply_affine', 'fix_aspect_ratio', 'bbox_xyxy2cs',
           'boxes_to_regions', 'crop_regions', 'crop_to_image']


def get_warp_matrix(center: Sequence[float], scale: Sequence[float], rot: float,
                    output_size: Sequence[int], use_udp: bool = False,
                    inv: bool = False) -> np.ndarray:
    """The affine that maps a rotated box onto an ``output_size`` crop.

    Args:
        center: (2,) box centre (x, y) in image pixels.
        scale: (2,) box (w, h) in image pixels, both > 0.
        rot: rotation in degrees. A positive angle turns the image content
            counter-clockwise in the crop (a point right of the centre ends
            up above it).
        output_size: crop (w, h) in pixels.
        use_udp: map the box onto pixel centres ``0 .. output_size - 1``
            (unbiased data processing) instead of ``0 .. output_size``.
        inv: return the inverse map, crop pixels -> image pixels.

    Returns:
        float64 (2, 3) matrix, usable with ``cv2.warpAffine`` and
        :func:`apply_affine`.
    """
    cx, cy = float(center[0]), float(center[1])
    sw, sh = float(scale[0]), float(scale[1])
    if not (sw > 0 and sh > 0):
        raise ValueError(f'box scale must be positive, got {(sw, sh)}')
    out_w, out_h = float(output_size[0]), float(output_size[1])
    span_w, span_h = (out_w - 1.0, out_h - 1.0) if use_udp else (out_w, out_h)
    rad = np.deg2rad(float(rot))
    c, s = np.cos(rad), np.sin(rad)
    # image -> crop: move the centre to the origin, rotate, scale, move to
    # the crop centre. Image y points down, so [[c, s], [-s, c]] turns the
    # content counter-clockwise on screen.
    linear = np.array([[c, s], [-s, c]]) * np.array([[span_w / sw], [span_h / sh]])
    crop_center = np.array([span_w / 2.0, span_h / 2.0])
    if inv:
        inverse = np.linalg.inv(linear)
        offset = np.array([cx, cy]) - inverse @ crop_center
        return np.hstack([inverse, offset[:, None]])
    offset = crop_center - linear @ np.array([cx, cy])
    return np.hstack([linear, offset[:, None]])


def apply_affine(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Map (..., 2) points with a (2, 3) affine matrix.

    Returns:
        float32 (..., 2) (computed in float64).
    """
    pts = np.asarray(points, dtype=np.float64)
    m = np.asarray(matrix, dtype=np.float64)
    return (pts @ m[:, :2].T + m[:, 2]).astype(np.float32)


def fix_aspect_ratio(scale: np.ndarray, aspect_ratio: float) -> np.ndarray:
    """Grow the shorter side of (..., 2) box sizes (w, h) so that
    ``w / h == aspect_ratio``; nothing is ever shrunk. Returns float32."""
    scale = np.asarray(scale, dtype=np.float32)
    w, h = scale[..., 0], scale[..., 1]
    wider = w > h * aspect_ratio
    return np.stack([np.where(wider, w, h * aspect_ratio),
                     np.where(wider, w / aspect_ratio, h)], axis=-1).astype(np.float32)


def bbox_xyxy2cs(bbox: np.ndarray, padding: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(N, 4) xyxy boxes -> centres (N, 2) and ``padding``-scaled sizes (N, 2),
    float32."""
    bbox = np.asarray(bbox, dtype=np.float32).reshape(-1, 4)
    center = (bbox[:, :2] + bbox[:, 2:]) * 0.5
    scale = (bbox[:, 2:] - bbox[:, :2]) * np.float32(padding)
    return center.astype(np.float32), scale.astype(np.float32)


def boxes_to_regions(boxes: np.ndarray, padding: float, input_size: Sequence[int]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Crop regions of (N, 4) xyxy boxes: centres float32 (N, 2) and sizes
    float32 (N, 2), the box size times ``padding`` with the shorter side
    grown to the aspect ratio of ``input_size``."""
    center, size = bbox_xyxy2cs(boxes, padding)
    return center, fix_aspect_ratio(size, input_size[0] / input_size[1])


def crop_regions(img: np.ndarray, centers: np.ndarray, sizes: np.ndarray,
                 input_size: Sequence[int], use_udp: bool = False) -> np.ndarray:
    """Bilinear crops (zero border) of every region: uint8 (N, h, w, C)."""
    w, h = int(input_size[0]), int(input_size[1])
    crops = np.zeros((len(centers), h, w, img.shape[2]), dtype=img.dtype)
    for i, (center, size) in enumerate(zip(centers, sizes)):
        if not (size[0] > 0 and size[1] > 0):
            raise ValueError(f'box {i} has no area (crop size {size.tolist()})')
        matrix = get_warp_matrix(center, size, 0.0, input_size, use_udp=use_udp)
        crops[i] = cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT,
                                  borderValue=0).reshape(h, w, -1)
    return crops


def crop_to_image(keypoints: np.ndarray, input_size: Sequence[int], centers: np.ndarray,
                  sizes: np.ndarray, use_udp: bool = False) -> np.ndarray:
    """Map crop-pixel keypoints of N regions back to image pixels.

    ``image = crop / input_size * size + center - size / 2`` per axis; with
    ``use_udp`` the crop spans ``input_size - 1`` pixel steps instead.

    Args:
        keypoints: (N, K, 2) (x, y) in crop pixels (a single region's (K, 2)
            broadcasts when N is 1).
        input_size: crop (w, h).
        centers: (N, 2) region centres in image pixels ((2,) for one region).
        sizes: (N, 2) region (w, h) in image pixels ((2,) for one region).
        use_udp: the crop used the UDP (pixel-centre) convention.

    Returns:
        float32 (N, K, 2) keypoints in image pixels.
    """
    span = np.asarray(input_size, np.float32) - (1.0 if use_udp else 0.0)
    sizes = np.asarray(sizes, np.float32).reshape(-1, 2)[:, None, :]
    centers = np.asarray(centers, np.float32).reshape(-1, 2)[:, None, :]
    out = np.asarray(keypoints, np.float32) / span * sizes + centers - sizes / 2
    return out.astype(np.float32)
