"""Grid helpers of :class:`~customkpt.codecs.CentreLabel`: the Gaussian
radius of a box, the 3 x 3 peak test, the letterbox region of an image and
the mapping of decoded objects back onto the image (numpy only)."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ..core.boxes import clip_boxes
from ..core.geometry import boxes_to_regions, crop_to_image

__all__ = ['gaussian_radius', 'radius_sigma', 'local_maxima', 'letterbox_region',
           'objects_to_image']


def gaussian_radius(height: np.ndarray, width: np.ndarray, min_overlap: float = 0.7
                    ) -> np.ndarray:
    """CornerNet's Gaussian radius for boxes of ``height`` x ``width`` cells.

    The smallest of the three radii at which a box with both corners moved
    (both inwards, both outwards, one of each) still has IoU ``min_overlap``
    with the true box, each the larger root of its quadratic
    ``a r^2 - b r + c = 0`` as CornerNet computes it (``(b + sqrt(b^2 - 4 a
    c)) / 2``).

    Returns:
        float64 array of the broadcast shape of ``height`` and ``width``.
    """
    h = np.asarray(height, np.float64)
    w = np.asarray(width, np.float64)
    m = float(min_overlap)
    roots = []
    for a, b, c in ((1.0, h + w, w * h * (1 - m) / (1 + m)),
                    (4.0, 2 * (h + w), (1 - m) * w * h),
                    (4 * m, -2 * m * (h + w), (m - 1) * w * h)):
        roots.append((b + np.sqrt(np.maximum(b ** 2 - 4 * a * c, 0.0))) / 2)
    return np.minimum(np.minimum(roots[0], roots[1]), roots[2])


def radius_sigma(radius: float) -> float:
    """The Gaussian sigma of a :func:`gaussian_radius` (in cells): the
    radius truncated to whole cells ``r``, then ``(2 r + 1) / 6``."""
    return (2 * int(radius) + 1) / 6


def local_maxima(maps: np.ndarray) -> np.ndarray:
    """Cells of (..., H, W) maps equal to the maximum of their 3 x 3
    neighbourhood (the max-pooling peak test); bool of the same shape."""
    maps = np.asarray(maps)
    h, w = maps.shape[-2:]
    pad = [(0, 0)] * (maps.ndim - 2) + [(1, 1), (1, 1)]
    padded = np.pad(maps, pad, constant_values=-np.inf)
    best = maps.copy()
    for dy in range(3):
        for dx in range(3):
            best = np.maximum(best, padded[..., dy:dy + h, dx:dx + w])
    return maps >= best


def letterbox_region(width: float, height: float, input_size: Sequence[int]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The image region a whole-image model sees: centre float32 (2,) and
    size (2,) of a ``width`` x ``height`` image grown about its centre to
    the aspect ratio of ``input_size`` (the letterbox). Warp it with
    :func:`~customkpt.core.geometry.crop_regions`, map predictions back with
    :func:`~customkpt.core.geometry.crop_to_image`."""
    centre, size = boxes_to_regions(np.array([[0, 0, width, height]], np.float32), 1.0,
                                    input_size)
    return centre[0], size[0]


def objects_to_image(objects: Mapping[str, np.ndarray], input_size: Sequence[int],
                     centre: Sequence[float], size: Sequence[float],
                     image_shape: Sequence[int] | None = None) -> dict[str, np.ndarray]:
    """Decoded objects (one image's dict: ``bboxes`` (N, 4) xyxy and, when
    present, ``keypoints`` (N, K, 2)) from ``input_size`` input pixels to
    image pixels, for an input that shows the image region ``centre`` (2,),
    ``size`` (2,) (:func:`letterbox_region`). With ``image_shape`` (h, w,
    ...) boxes are clipped to the image and objects whose box is then empty
    (found in the letterbox border) are dropped."""
    def back(points: np.ndarray) -> np.ndarray:
        return crop_to_image(points, input_size, centre, size)

    out = dict(objects)
    boxes = back(np.asarray(objects['bboxes'], np.float32).reshape(-1, 2, 2)).reshape(-1, 4)
    if 'keypoints' in objects:
        out['keypoints'] = back(objects['keypoints'])
    out['bboxes'] = boxes
    if image_shape is None:
        return out
    out['bboxes'] = clip_boxes(boxes, image_shape[1], image_shape[0])
    keep = (out['bboxes'][:, 2:] > out['bboxes'][:, :2]).all(1)
    return {name: value[keep] for name, value in out.items()}
