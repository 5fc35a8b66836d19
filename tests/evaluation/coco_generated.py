"""A generated COCO keypoint set (ground truth, predictions, sigmas) for the backend tests."""
from __future__ import annotations

import numpy as np

NUM_KPTS = 7


def _instance(rng: np.random.Generator, img_id: int,
              num_kpts: int = NUM_KPTS) -> tuple[dict, np.ndarray]:
    """One ground-truth annotation (small, medium or large; some points
    unlabelled; a few crowd or without labelled points) and its points."""
    side = rng.choice([24.0, 60.0, 160.0]) * rng.uniform(0.8, 1.2)
    w, h = side * rng.uniform(0.7, 1.3, 2)
    x, y = rng.uniform(0, 400, 2)
    pts = np.stack([x + rng.uniform(0, w, num_kpts), y + rng.uniform(0, h, num_kpts)], 1)
    vis = rng.choice([0, 1, 2], num_kpts, p=[0.25, 0.25, 0.5])
    kind = rng.uniform()
    if kind < 0.08:
        vis[:] = 0  # COCOeval ignores it
    flat = np.concatenate([np.where(vis[:, None] > 0, pts, 0.0), vis[:, None]], 1)
    ann = dict(image_id=img_id, category_id=int(rng.integers(1, 3)),
               iscrowd=int(0.08 <= kind < 0.16), keypoints=flat.reshape(-1).tolist(),
               num_keypoints=int((vis > 0).sum()), bbox=[x, y, w, h],
               area=float(w * h * rng.uniform(0.5, 0.9)))
    return ann, pts


def _prediction(rng: np.random.Generator, ann: dict, pts: np.ndarray) -> dict:
    """A noisy copy of an instance's points with a random score."""
    noise = rng.normal(0, rng.uniform(0.005, 0.12) * np.sqrt(ann['area']), pts.shape)
    flat = np.concatenate([pts + noise, rng.uniform(0.1, 1.0, (len(pts), 1))], 1)
    return dict(image_id=ann['image_id'], category_id=ann['category_id'],
                keypoints=flat.reshape(-1).tolist(), score=float(rng.uniform(0.05, 1.0)))


def generated_set(seed: int = 0, num_images: int = 14,
                  num_kpts: int = NUM_KPTS) -> tuple[dict, list, np.ndarray]:
    """Ground truth (two categories, crowd and unlabelled instances, all area
    ranges), predictions (matches, misses, false positives, one image over
    the 20-detection limit) and custom sigmas."""
    rng = np.random.default_rng(seed)
    images, anns, preds = [], [], []
    for img_id in range(1, num_images + 1):
        images.append(dict(id=img_id, width=640, height=480))
        for _ in range(int(rng.integers(1, 5))):
            ann, pts = _instance(rng, img_id, num_kpts)
            anns.append(ann)
            for _ in range(25 if img_id == 3 else int(rng.uniform() < 0.85)):
                preds.append(_prediction(rng, ann, pts))
        for _ in range(int(rng.integers(0, 3))):  # false positives
            ann, pts = _instance(rng, img_id, num_kpts)
            preds.append(_prediction(rng, ann, pts))
    cats = [dict(id=c, name=f'c{c}', keypoints=[f'k{i}' for i in range(num_kpts)])
            for c in (1, 2)]
    gt = dict(images=images, categories=cats, annotations=anns)
    return gt, preds, rng.uniform(0.02, 0.12, num_kpts)
