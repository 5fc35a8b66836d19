"""Placing text labels beside points so that they stay inside the image and
do not cover each other.

:func:`place_labels` is greedy: labels are placed in order, each trying a
few positions around its point (beside it first, then further away) and
keeping the first that lies inside the image without overlapping a label
placed before it or a point. A position that sticks out of the image is shifted inward
before it is tried. When every position overlaps, the one overlapping least
is kept.
"""
from __future__ import annotations

import numpy as np

#: Where a label goes relative to its point, in order of preference: the
#: (x, y) direction from the point to the nearest box corner or edge centre.
#: (1, -1) is right of and above the point.
DIRECTIONS = ((1, -1), (1, 1), (-1, -1), (-1, 1), (1, 0), (-1, 0), (0, -1), (0, 1))


def candidate_boxes(point: np.ndarray, size: np.ndarray, gap: float,
                    rings: int = 2) -> np.ndarray:
    """Label boxes around ``point``, in order of preference.

    Args:
        point: (2,) x, y of the point.
        size: (2,) label width, height.
        gap: distance between the point and the nearest box edge.
        rings: how many distances to try: ``gap``, ``gap + height``, ...

    Returns:
        (rings * 8, 4) float64 xyxy boxes.
    """
    x, y = float(point[0]), float(point[1])
    w, h = float(size[0]), float(size[1])
    boxes = []
    for ring in range(rings):
        d = gap + ring * h
        for dx, dy in DIRECTIONS:
            x1 = x + d if dx > 0 else x - d - w if dx < 0 else x - w / 2
            y1 = y + d if dy > 0 else y - d - h if dy < 0 else y - h / 2
            boxes.append((x1, y1, x1 + w, y1 + h))
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def shift_inside(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """(M, 4) xyxy boxes moved (not resized) to lie inside a ``width`` x
    ``height`` image; a box larger than the image starts at its top-left."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    for lo, hi, limit in ((0, 2, width), (1, 3, height)):
        span = boxes[:, hi] - boxes[:, lo]
        start = np.clip(boxes[:, lo], 0.0, np.maximum(limit - span, 0.0))
        boxes[:, lo], boxes[:, hi] = start, start + span
    return boxes


def overlap_areas(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(M,) intersection areas of one xyxy ``box`` with (M, 4) ``boxes``."""
    if len(boxes) == 0:
        return np.zeros(0)
    w = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    h = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def place_labels(points: np.ndarray, sizes: np.ndarray, image_size: tuple[int, int],
                 gap: float = 4.0, point_radius: float | None = None) -> np.ndarray:
    """Boxes for labels of ``points``, inside the image and, where there is
    room, covering no other label and no point.

    Args:
        points: (M, 2) x, y pixel coordinates of the labelled points.
        sizes: (M, 2) label width, height in pixels.
        image_size: (width, height) of the image.
        gap: distance between a point and its label in pixels.
        point_radius: the drawn points' radius (``gap / 2`` by default);
            labels avoid the squares of this half-size around every point.

    Returns:
        (M, 4) float64 xyxy label boxes, in the order of ``points``.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    if len(points) != len(sizes):
        raise ValueError(f'{len(points)} points but {len(sizes)} label sizes')
    width, height = int(image_size[0]), int(image_size[1])
    r = gap / 2 if point_radius is None else float(point_radius)
    dots = np.concatenate([points - r, points + r], axis=1)
    placed = np.zeros((0, 4), dtype=np.float64)
    for point, size in zip(points, sizes):
        candidates = shift_inside(candidate_boxes(point, size, gap), width, height)
        costs = np.array([overlap_areas(c, placed).sum() + overlap_areas(c, dots).sum()
                          for c in candidates])
        # argmin keeps the first candidate among those without overlap.
        placed = np.vstack([placed, candidates[int(np.argmin(costs))]])
    return placed
