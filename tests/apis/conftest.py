"""Shared stand-ins of the video tests: a synthetic white-square frame, a
model that finds the square, and a small mp4 writer."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

NAMES = ['tl', 'tr', 'br', 'bl', 'c']
META = dict(keypoint_names=NAMES, skeleton=[[0, 1], [1, 2], [2, 3], [3, 0]],
            sigmas=[0.05] * 5)


def square_frame(x: int, y: int, size: int = 20, shape=(120, 160)) -> np.ndarray:
    """A black frame with a white square whose top-left corner is (x, y)."""
    frame = np.zeros((*shape, 3), np.uint8)
    frame[y:y + size, x:x + size] = 255
    return frame


class SquareFinder:
    """A stand-in keypoint model: in each box, finds the white pixels and
    returns their corners and centre (score 0.9), or the box centre with
    score 0.05 when the box holds none. Records the boxes it was given."""

    meta = META

    def __init__(self):
        self.calls = []

    def __call__(self, img, bboxes, bbox_scores):
        boxes = np.asarray(bboxes, np.float32).reshape(-1, 4)
        self.calls.append(boxes.copy())
        kpts = np.zeros((len(boxes), 5, 2), np.float32)
        scores = np.zeros((len(boxes), 5), np.float32)
        for i, (x1, y1, x2, y2) in enumerate(boxes.astype(int)):
            ys, xs = np.nonzero(img[y1:y2, x1:x2, 0] > 128)
            if len(xs) == 0:
                kpts[i] = [(x1 + x2) / 2, (y1 + y2) / 2]
                scores[i] = 0.05
                continue
            l, r, t, b = xs.min() + x1, xs.max() + x1 + 1, ys.min() + y1, ys.max() + y1 + 1
            kpts[i] = [[l, t], [r, t], [r, b], [l, b], [(l + r) / 2, (t + b) / 2]]
            scores[i] = 0.9
        return dict(keypoints=kpts, keypoint_scores=scores, bboxes=boxes,
                    bbox_scores=np.asarray(bbox_scores, np.float32).reshape(-1))


def write_video(path: Path, frames) -> Path:
    """Write ``frames`` (BGR uint8) as a 10 fps mp4v video at ``path``."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10.0, (w, h))
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()
    return path
