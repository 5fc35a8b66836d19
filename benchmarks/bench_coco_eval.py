"""COCO keypoint evaluation time per COCOeval backend, on the same predictions.

A seeded synthetic split (``--images`` images x ``--instances`` people with
COCO's 17 points and sigmas, a quarter of the points unlabelled, boxes from
small to large) and predictions (a noisy copy of most instances, one false
positive per image) go through
:func:`customkpt.evaluation.coco_eval.evaluate_keypoints` once per backend,
``--repeats`` times; the table shows the best wall time, the ratio to
pycocotools and the largest difference of any of the ten summary numbers
from pycocotools'.

    OMP_NUM_THREADS=1 python benchmarks/bench_coco_eval.py
    python benchmarks/bench_coco_eval.py --images 5000 --backends faster pycocotools
"""
from __future__ import annotations

import argparse
import logging
import time

import numpy as np
from mmengine.logging import MMLogger

from customkpt.core.presets import COCO_SIGMAS
from customkpt.evaluation.coco_backends import resolve_backend
from customkpt.evaluation.coco_eval import evaluate_keypoints


def synthetic_split(num_images: int, instances: int, seed: int) -> tuple[dict, list[dict]]:
    """COCO ground truth and keypoint results of ``num_images`` images."""
    rng = np.random.default_rng(seed)
    k = len(COCO_SIGMAS)
    n = num_images * instances
    sides = rng.uniform(20, 300, (n, 2))
    corners = rng.uniform(0, 600, (n, 2))
    pts = corners[:, None] + rng.uniform(0, 1, (n, k, 2)) * sides[:, None]
    vis = rng.choice([0, 1, 2], (n, k), p=[0.25, 0.25, 0.5])
    areas = sides.prod(1) * 0.7
    noise = rng.normal(0, 1, (n, k, 2)) * rng.uniform(0.005, 0.08, (n, 1, 1)) \
        * np.sqrt(areas)[:, None, None]
    images, anns, preds = [], [], []
    for i in range(n):
        img_id = i // instances + 1
        if i % instances == 0:
            images.append(dict(id=img_id, width=1000, height=1000))
            fake = pts[rng.integers(n)] + rng.uniform(-100, 100, 2)
            preds.append(_result(img_id, fake, rng.uniform(0.05, 0.5)))
        flat = np.concatenate([np.where(vis[i, :, None] > 0, pts[i], 0), vis[i, :, None]], 1)
        anns.append(dict(image_id=img_id, category_id=1, iscrowd=0,
                         keypoints=flat.reshape(-1).tolist(),
                         num_keypoints=int((vis[i] > 0).sum()),
                         bbox=[*corners[i].tolist(), *sides[i].tolist()],
                         area=float(areas[i])))
        if rng.uniform() < 0.9:
            preds.append(_result(img_id, pts[i] + noise[i], rng.uniform(0.3, 1.0)))
    gt = dict(images=images, annotations=anns,
              categories=[dict(id=1, name='person', keypoints=[f'k{j}' for j in range(k)])])
    return gt, preds


def _result(img_id: int, points: np.ndarray, score: float) -> dict:
    """One COCO keypoint result (scores 1 per point)."""
    flat = np.concatenate([points, np.ones((len(points), 1))], 1)
    return dict(image_id=img_id, category_id=1, keypoints=flat.reshape(-1).tolist(),
                score=float(score))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=2000)
    parser.add_argument('--instances', type=int, default=3, help='people per image')
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--backends', nargs='+',
                        default=['pycocotools', 'faster', 'xtcocotools'])
    args = parser.parse_args()
    MMLogger.get_current_instance().setLevel(logging.WARNING)  # no per-run summaries
    gt, preds = synthetic_split(args.images, args.instances, args.seed)
    print(f'{len(gt["images"])} images, {len(gt["annotations"])} instances, '
          f'{len(preds)} predictions, K={len(COCO_SIGMAS)}')
    sigmas = np.asarray(COCO_SIGMAS)
    rows = []
    for backend in args.backends:
        try:
            resolve_backend(backend)
        except ImportError as exc:
            print(f'{backend}: skipped ({exc})')
            continue
        times = []
        for _ in range(args.repeats):
            tic = time.perf_counter()
            stats = evaluate_keypoints(gt, preds, sigmas, backend, True)
            times.append(time.perf_counter() - tic)
        rows.append((backend, min(times), stats))
    base = next((r for r in rows if r[0] == 'pycocotools'), rows[0])
    print(f'{"backend":<12} {"time (s)":>9} {"x faster":>9} {"AP":>7} '
          f'{"max |diff| vs " + base[0]:>28}')
    for backend, seconds, stats in rows:
        diff = max(abs(stats[name] - base[2][name]) for name in stats)
        print(f'{backend:<12} {seconds:9.3f} {base[1] / seconds:9.2f} {stats["AP"]:7.4f} '
              f'{diff:28.2e}')


if __name__ == '__main__':
    main()
