"""Crowded self5 images: an exact number of figures per image, overlapping.

Unlike the main dataset's scenes (1-4 figures that barely overlap), an image
here holds exactly ``count`` figures (1, 2, 4, 8 ...) whose boxes may
overlap up to ``max_iou``, so figures cover each other. Figures are drawn
far (small) to near (large) by :func:`customkpt.demo.scene.render_figures`;
visibility comes from its owner map: a point covered by a figure drawn
later, or by an occluder, is labelled ``v=1``.

The COCO file (``multi_coco_joint.json``) has one annotation per figure;
its images carry ``num_figures``.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

from ..core.boxes import box_iou
from .coco import (GENERATOR_VERSION, coco_annotation, coco_category, write_jpg, write_json)
from .figure import Figure, Palette, sample_pose
from .scene import Instance, render_figures

__all__ = ['MULTI_CODES', 'crowd_heights', 'place_crowd', 'render_multi_image',
           'write_multi_images']

#: Seed components of the crowded parts: image ``i`` with ``count`` figures
#: draws from ``numpy.random.default_rng([seed, MULTI_CODES['images'], count, i])``
#: (the main dataset uses 0-2).
MULTI_CODES = {'images': 3, 'video': 4}


def crowd_heights(image_size: Tuple[int, int], count: int) -> Tuple[float, float]:
    """(min, max) figure height in pixels for ``count`` figures in an image:
    the more figures, the smaller they may be (max ``1.4 h / sqrt(count)``)."""
    h = float(image_size[1])
    hi = min(200.0, 0.95 * h, 1.4 * h / math.sqrt(max(1, count)))
    return min(40.0, 0.5 * hi), hi


def _fits(fig: Figure, w: int, h: int, boxes: List[np.ndarray], max_iou: float) -> bool:
    """Mostly inside the image, 4 of 5 points in it, overlapping little enough."""
    box = fig.extent()
    full = (box[2] - box[0]) * (box[3] - box[1])
    inside = (max(0.0, min(box[2], w) - max(box[0], 0.0)) *
              max(0.0, min(box[3], h) - max(box[1], 0.0)))
    kp = fig.keypoints()
    n_in = int(((kp[:, 0] >= 0) & (kp[:, 0] < w) & (kp[:, 1] >= 0) & (kp[:, 1] < h)).sum())
    if inside < 0.7 * full or n_in < 4:
        return False
    return not boxes or float(box_iou(box[None], np.stack(boxes)).max()) <= max_iou


def place_crowd(rng: np.random.Generator, image_size: Tuple[int, int], count: int, *,
                max_iou: float = 0.5, max_rotation: float = 30.0,
                tries: int = 40) -> List[Figure]:
    """Exactly ``count`` figures, far (small) ones first.

    Each figure gets ``tries`` random positions; when none fits it is made
    15% smaller and tried again (up to 40 times).

    Args:
        rng: the random generator.
        image_size: (w, h).
        count: number of figures (>= 1).
        max_iou: the largest box IoU between two figures.
        max_rotation: rotation within +- this, degrees.
        tries: positions tried per size.

    Returns:
        The figures in drawing order.

    Raises:
        ValueError: when ``count < 1`` or a figure finds no room.
    """
    if count < 1:
        raise ValueError(f'place_crowd: count must be >= 1, got {count}')
    w, h = int(image_size[0]), int(image_size[1])
    lo, hi = crowd_heights(image_size, count)
    placed: List[Figure] = []
    boxes: List[np.ndarray] = []
    for _ in range(count):
        height = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        pose, palette = sample_pose(rng), Palette.random(rng)
        angle = float(rng.uniform(-max_rotation, max_rotation))
        back = 1 if rng.random() < 0.5 else -1
        found = None
        for _size in range(40):
            for _try in range(tries):
                centre = (float(rng.uniform(0.1, 0.9) * w), float(rng.uniform(0.15, 0.85) * h))
                fig = Figure(pose, centre, height, angle, palette, back)
                if _fits(fig, w, h, boxes, max_iou):
                    found = fig
                    break
            if found is not None:
                break
            height *= 0.85
        if found is None:
            raise ValueError(f'place_crowd: no room for {count} figures in a {w}x{h} image')
        placed.append(found)
        boxes.append(found.extent())
    order = sorted(range(count), key=lambda i: (placed[i].height, boxes[i][3], i))
    return [placed[i] for i in order]


def render_multi_image(rng: np.random.Generator, image_size: Tuple[int, int] = (320, 240),
                       figures_per_image: int = 4, *, max_iou: float = 0.5,
                       occlusion_prob: float = 0.15) -> Tuple[np.ndarray, List[Instance]]:
    """One crowded image with exactly ``figures_per_image`` figures (at most
    254: the owner map is uint8 and 255 marks occluders)."""
    if not 1 <= figures_per_image <= 254:
        raise ValueError(f'figures_per_image must be in 1..254, got {figures_per_image}')
    figures = place_crowd(rng, image_size, figures_per_image, max_iou=max_iou)
    return render_figures(rng, image_size, figures, occlusion_prob)


def write_multi_images(out: Path, counts: Sequence[int], per_count: int,
                       image_size: Tuple[int, int], seed: int,
                       tick: Callable[[], None]) -> Dict[str, int]:
    """``images/multi_*.jpg`` and ``multi_coco_joint.json``: ``per_count``
    images for each figure count, in the order of ``counts``."""
    images: List[Dict] = []
    anns: List[Dict] = []
    w, h = image_size
    for count in counts:
        for i in range(per_count):
            rng = np.random.default_rng([seed, MULTI_CODES['images'], int(count), i])
            img, instances = render_multi_image(rng, image_size, int(count))
            image_id = len(images) + 1
            name = f'multi_{image_id:06d}.jpg'
            write_jpg(out / 'images' / name, img)
            images.append(dict(id=image_id, file_name=name, width=w, height=h,
                               num_figures=int(count)))
            anns += [coco_annotation(len(anns) + k + 1, image_id, inst)
                     for k, inst in enumerate(instances)]
            tick()
    write_json(out / 'multi_coco_joint.json', dict(
        info=dict(description='synthetic self5 images with several figures each',
                  generator='customkpt.demo.multi', generator_version=GENERATOR_VERSION,
                  seed=seed, figures_per_image=[int(c) for c in counts]),
        images=images, annotations=anns, categories=[coco_category()]))
    return dict(multi_images=len(images), multi_instances=len(anns))
