"""Shared data of the occlusion tests: a sample as TopdownAffine leaves it
(a 96 x 128 crop, K=5) and the labelled points a mask covers."""
import numpy as np

CROP_W, CROP_H = 96, 128
# Crop-pixel keypoints: 0-2 inside, 3 unlabelled, 4 outside the crop.
CROP_KPTS = np.array([[[48, 64], [20, 30], [70, 100], [30, 110], [120, 20]]], np.float32)
CROP_VIS = np.array([[1, 1, 1, 0, 1]], np.float32)
LABELLED = np.array([[True, True, True, False, False]])


def crop_sample(img=None, kpts=CROP_KPTS, vis=CROP_VIS, **extra):
    """A sample as TopdownAffine leaves it (noise image without zeros)."""
    if img is None:
        img = np.random.default_rng(5).integers(1, 256, (CROP_H, CROP_W, 3), dtype=np.uint8)
    sample = dict(img=img.copy(), img_shape=img.shape[:2], transformed_keypoints=kpts.copy(),
                  keypoints=kpts.copy() + 100, keypoints_visible=vis.copy(), img_id=3, id=11,
                  img_path='img_3.png', input_size=(CROP_W, CROP_H))
    sample.update(extra)
    return sample


def keypoints_on(mask, kpts=CROP_KPTS, labelled=LABELLED):
    """(1, K) bool: which labelled keypoints of ``kpts`` fall on a True pixel of
    ``mask`` (H, W)."""
    px = np.floor(kpts[0] + 0.5).astype(int)
    out = np.zeros(labelled.shape, bool)
    for k, (x, y) in enumerate(px):
        if labelled[0, k]:
            out[0, k] = mask[y, x]
    return out
