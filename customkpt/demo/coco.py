"""COCO keypoint files of the self5 splits: records, json and JPEG writing."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import cv2
import numpy as np

from .figure import FLIP_PAIRS, KEYPOINT_NAMES, SKELETON
from .scene import Instance, render_image

__all__ = ['GENERATOR_VERSION', 'JPEG_QUALITY', 'SPLIT_CODES', 'round2', 'coco_annotation',
           'coco_category', 'write_json', 'write_jpg', 'write_split']

#: Bumped whenever the drawing or the file layout changes, so that a cached
#: dataset made by an older generator is rebuilt.
GENERATOR_VERSION = 1
#: JPEG quality of every written image.
JPEG_QUALITY = 92
#: Seed component of each part: image ``i`` of ``split`` draws from
#: ``numpy.random.default_rng([seed, SPLIT_CODES[split], i])``.
SPLIT_CODES = {'train': 0, 'val': 1, 'video': 2}


def round2(x: float) -> float:
    """Round for json (2 decimals; integers stay exact)."""
    return round(float(x), 2)


def _coco_keypoints(kps: np.ndarray) -> List[float]:
    out: List[float] = []
    for x, y, v in kps:
        out += [round2(x), round2(y), int(v)] if v > 0 else [0.0, 0.0, 0]
    return out


def coco_annotation(ann_id: int, image_id: int, inst: Instance) -> Dict[str, Any]:
    x, y, bw, bh = (float(v) for v in inst.bbox)
    return dict(id=ann_id, image_id=image_id, category_id=1, bbox=[x, y, bw, bh],
                area=round2(bw * bh), iscrowd=0, num_keypoints=inst.num_keypoints,
                keypoints=_coco_keypoints(inst.keypoints))


def coco_category() -> Dict[str, Any]:
    return dict(id=1, name='self5', supercategory='person', keypoints=list(KEYPOINT_NAMES),
                skeleton=[[a + 1, b + 1] for a, b in SKELETON],
                flip_pairs=[list(p) for p in FLIP_PAIRS])


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, separators=(',', ':')) + '\n', encoding='utf-8')


def write_jpg(path: Path, img: np.ndarray) -> None:
    if not cv2.imwrite(str(path), img, [int(cv2.IMWRITE_JPEG_QUALITY), JPEG_QUALITY]):
        raise OSError(f'could not write {path}')


def write_split(out: Path, split: str, count: int, image_size: Tuple[int, int], seed: int,
                 tick: Callable[[], None]) -> Dict[str, int]:
    images, anns = [], []
    w, h = image_size
    for i in range(count):
        rng = np.random.default_rng([seed, SPLIT_CODES[split], i])
        img, instances = render_image(rng, image_size)
        name = f'{split}_{i + 1:06d}.jpg'
        write_jpg(out / 'images' / name, img)
        images.append(dict(id=i + 1, file_name=name, width=w, height=h))
        for inst in instances:
            anns.append(coco_annotation(len(anns) + 1, i + 1, inst))
        tick()
    write_json(out / f'{split}_coco_joint.json', dict(
        info=dict(description=f'synthetic self5 {split} split', generator='customkpt.demo',
                  generator_version=GENERATOR_VERSION, seed=seed),
        images=images, annotations=anns, categories=[coco_category()]))
    return {f'{split}_images': len(images), f'{split}_instances': len(anns)}
