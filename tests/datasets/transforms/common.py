"""Shared test data: a small asymmetric K=5 definition drawn as coloured dots."""
from __future__ import annotations

import cv2
import numpy as np

from customkpt.registry import TRANSFORMS

# 1 <-> 2 and 3 <-> 4 are left/right partners, 0 is unpaired.
FLIP = [0, 2, 1, 4, 3]
# A unique BGR colour per keypoint, none equal to the background or to 0.
COLOURS = np.array([(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)],
                   np.uint8)
BACKGROUND = 90
IMG_H, IMG_W = 160, 128
KPTS = np.array([[[60, 30], [40, 70], [85, 65], [50, 120], [75, 125]]], np.float32)
BBOX = np.array([[30, 20, 95, 135]], np.float32)


def dotted_image(kpts: np.ndarray = KPTS, radius: int = 4) -> np.ndarray:
    """A grey image with a dot of ``COLOURS[k]`` centred on keypoint k."""
    img = np.full((IMG_H, IMG_W, 3), BACKGROUND, np.uint8)
    for (x, y), colour in zip(kpts[0].astype(int), COLOURS):
        cv2.circle(img, (int(x), int(y)), radius, tuple(int(c) for c in colour), -1)
    return img


def make_sample(img: np.ndarray | None = None) -> dict:
    """A sample dict as a dataset + LoadImage would produce it."""
    img = dotted_image() if img is None else img
    return dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], bbox=BBOX.copy(),
                bbox_score=np.ones(1, np.float32), keypoints=KPTS.copy(),
                keypoints_visible=np.ones((1, 5), np.float32), area=np.array([7000.0], np.float32),
                flip_indices=list(FLIP), img_id=1, id=7, img_path='x.png', category_id=1,
                iscrowd=0, num_keypoints=5, dataset_name='five')


def build(cfg: dict):
    """Build from a config dict and check the repr names the class and args."""
    t = TRANSFORMS.build(cfg)
    text = repr(t)
    assert text.startswith(type(t).__name__ + '('), text
    for key in cfg:
        if key != 'type':
            assert f'{key}=' in text, (key, text)
    return t


def run(pipeline: list, results: dict) -> dict:
    for t in pipeline:
        results = t(results)
    return results
