"""Tiny datasets on disk for the ``train --data`` tests: a COCO-keypoint file,
a single-animal DeepLabCut project and a Labelme folder, each with real
(grey) images."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import yaml

#: Four points; the ears pair up by their left/right words.
NAMES = ['snout', 'leftear', 'rightear', 'tailbase']
IMAGE_SIZE = (64, 48)  # (w, h)


def image(path: Path, size: tuple[int, int] = IMAGE_SIZE) -> Path:
    """A grey PNG of ``size`` (w, h)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((size[1], size[0], 3), 90, np.uint8))
    return path


def points(i: int) -> np.ndarray:
    """(4, 2) float points of frame ``i``: a body twice as tall as wide."""
    x, y = 20.0 + i % 5, 10.0 + i % 3
    return np.array([[x + 5, y], [x, y + 6], [x + 10, y + 6], [x + 5, y + 24]])


def coco(folder: Path, num_images: int, flip_pairs: list | None = None,
         file_name: str = 'train.json', image_dir: str = 'images') -> Path:
    """A COCO-keypoint file of ``num_images`` one-instance images (images in
    ``folder/image_dir``, ``file_name`` relative to it)."""
    images, anns = [], []
    for i in range(1, num_images + 1):
        name = f'frame{i:03d}.png'
        image(folder / image_dir / name)
        images.append(dict(id=i, file_name=name, width=IMAGE_SIZE[0], height=IMAGE_SIZE[1]))
        xy = points(i)
        kpts = np.concatenate([xy, np.full((4, 1), 2.0)], axis=1).ravel().tolist()
        anns.append(dict(id=i, image_id=i, category_id=1, iscrowd=0, num_keypoints=4,
                         keypoints=kpts, bbox=[float(xy[:, 0].min() - 2), float(xy[:, 1].min() - 2),
                                               14.0, 28.0], area=14.0 * 28.0))
    category = dict(id=1, name='mouse', keypoints=NAMES, skeleton=[[1, 4]])
    if flip_pairs is not None:
        category['flip_pairs'] = flip_pairs
    path = folder / file_name
    path.write_text(json.dumps(dict(images=images, annotations=anns, categories=[category])))
    return path


def dlc_project(folder: Path, num_frames: int) -> Path:
    """A single-animal DeepLabCut project: ``config.yaml`` and one labelled
    folder ``labeled-data/video1`` with ``CollectedData_me.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / 'config.yaml').write_text(yaml.safe_dump(dict(
        Task='mouse', scorer='me', bodyparts=NAMES, skeleton=[['snout', 'tailbase']])))
    rows = [['scorer'] + ['me'] * 8, ['bodyparts'] + [n for n in NAMES for _ in 'xy'],
            ['coords'] + ['x', 'y'] * 4]
    for i in range(num_frames):
        rel = f'labeled-data/video1/img{i:03d}.png'
        image(folder / rel)
        rows.append([rel] + [f'{v:.1f}' for v in points(i).ravel()])
    with open(folder / 'labeled-data' / 'video1' / 'CollectedData_me.csv', 'w', newline='') as fh:
        csv.writer(fh).writerows(rows)
    return folder


def labelme(folder: Path, num_images: int) -> Path:
    """A folder of Labelme files, one point shape per keypoint."""
    for i in range(num_images):
        name = f'shot{i}.png'
        image(folder / name)
        shapes = [dict(label=n, points=[xy.tolist()], shape_type='point', group_id=None)
                  for n, xy in zip(NAMES, points(i))]
        (folder / f'shot{i}.json').write_text(json.dumps(dict(
            shapes=shapes, imagePath=name, imageWidth=IMAGE_SIZE[0],
            imageHeight=IMAGE_SIZE[1])))
    return folder


def no_memory_limit() -> tuple[int, str]:
    """A memory reader for tests: 64 GiB, so only the data caps the batch."""
    return 64 * 1024 ** 3, 'the test'
