"""Time to build a CocoKeypointDataset (parse + up-front validation) from a
COCO-sized annotation file: 2000 images, 20000 instances, 17 points.

    OMP_NUM_THREADS=1 python benchmarks/bench_dataset_load.py [--instances 20000]

Prints a markdown row: instances, seconds, instances per second.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from customkpt.datasets import CocoKeypointDataset


def write_file(folder: Path, num_instances: int) -> Path:
    """A synthetic COCO-keypoint json with ``num_instances`` 17-point instances."""
    rng = np.random.default_rng(0)
    num_images = max(1, num_instances // 10)
    images = [{'id': i, 'file_name': f'{i}.png', 'width': 640, 'height': 480}
              for i in range(num_images)]
    kpts = np.concatenate([rng.uniform(1, 400, (num_instances, 17, 2)),
                           rng.integers(0, 3, (num_instances, 17, 1))], axis=2).round(1)
    anns = [{'id': i, 'image_id': i % num_images, 'category_id': 1, 'bbox': [1, 1, 300, 400],
             'iscrowd': 0, 'area': 1000.0, 'keypoints': kpts[i].ravel().tolist()}
            for i in range(num_instances)]
    cats = [{'id': 1, 'name': 'thing', 'keypoints': [f'k{i}' for i in range(17)]}]
    path = folder / 'ann.json'
    path.write_text(json.dumps(dict(images=images, annotations=anns, categories=cats)))
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--instances', type=int, default=20000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_file(Path(tmp), args.instances)
        start = time.perf_counter()
        ds = CocoKeypointDataset(ann_file=str(path), pipeline=[], check_images=False,
                                 metainfo=dict(sigmas=[0.05] * 17))
        seconds = time.perf_counter() - start
    print('| instances | samples | seconds | instances/s |')
    print('| --- | --- | --- | --- |')
    print(f'| {args.instances} | {len(ds)} | {seconds:.2f} | {args.instances / seconds:.0f} |')


if __name__ == '__main__':
    main()
