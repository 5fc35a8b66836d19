"""Where each random occlusion transform puts its occlusion: KeypointInfoDrop
discs, CoarseDropout holes, the GridDropout grid, RandomErasing rectangles
and RandomOccluder patches."""
import cv2
import numpy as np
import pytest

from .common import build
from .conftest import CROP_H, CROP_KPTS, CROP_W, crop_sample

# ------------------------------------------------------------------ KeypointInfoDrop
def test_info_drop_disc_is_centred_near_the_only_labelled_point():
    vis = np.array([[1, 0, 0, 0, 0]], np.float32)
    t = build(dict(type='KeypointInfoDrop', prob=1.0, num_patch=1, offset_factor=0.05,
                   radius_range=(0.1, 0.2), record_mask=True))
    ys, xs = np.mgrid[0:CROP_H, 0:CROP_W]
    np.random.seed(3)
    offsets = []
    for _ in range(40):
        mask = t(crop_sample(vis=vis))['occlusion_mask']
        cx, cy = xs[mask].mean(), ys[mask].mean()
        radius = np.sqrt(mask.sum() / np.pi)
        assert 0.1 * CROP_W - 1 <= radius <= 0.2 * CROP_W + 1
        # A disc: no pixel farther than its radius from the centre.
        assert np.hypot(xs[mask] - cx, ys[mask] - cy).max() <= radius + 1.5
        offsets.append(np.hypot(cx - 48, cy - 64))
    offsets = np.array(offsets)
    sigma = 0.05 * CROP_W
    assert offsets.max() < 4 * sigma * 1.5 and 0.3 * sigma < offsets.mean() < 2.5 * sigma


def test_info_drop_without_offset_centres_on_labelled_points_only():
    t = build(dict(type='KeypointInfoDrop', prob=1.0, num_patch=1, offset_factor=0.0,
                   radius_range=(0.05, 0.05), record_mask=True))
    ys, xs = np.mgrid[0:CROP_H, 0:CROP_W]
    np.random.seed(4)
    centres = set()
    for _ in range(30):
        mask = t(crop_sample())['occlusion_mask']
        centres.add((int(round(xs[mask].mean())), int(round(ys[mask].mean()))))
    assert centres == {(48, 64), (20, 30), (70, 100)}  # never the unlabelled or outside one


def test_info_drop_without_labelled_points_leaves_the_sample():
    t = build(dict(type='KeypointInfoDrop', prob=1.0))
    sample = crop_sample(vis=np.zeros((1, 5), np.float32))
    out = t(crop_sample(vis=np.zeros((1, 5), np.float32)))
    np.testing.assert_array_equal(out['img'], sample['img'])


# ------------------------------------------------------------------ CoarseDropout
@pytest.mark.parametrize('hole_size,low,high', [((10, 40), (10, 10), (40, 40)),
                                                ((0.1, 0.25), (9.6, 12.8), (24, 32))])
def test_coarse_dropout_hole_counts_and_sizes_in_range(hole_size, low, high):
    t = build(dict(type='CoarseDropout', num_holes=(2, 5), hole_size=hole_size, prob=1.0))
    np.random.seed(5)
    counts = []
    for _ in range(200):
        boxes = t.sample_holes(CROP_H, CROP_W)
        counts.append(len(boxes))
        sizes_w, sizes_h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        assert np.all(sizes_w >= np.floor(low[0])) and np.all(sizes_w <= np.ceil(high[0]))
        assert np.all(sizes_h >= np.floor(low[1])) and np.all(sizes_h <= np.ceil(high[1]))
        assert np.all(boxes[:, :2] >= 0) and np.all(boxes[:, 2] <= CROP_W)
        assert np.all(boxes[:, 3] <= CROP_H)
    assert set(counts) == {2, 3, 4, 5}


def test_coarse_dropout_fills_the_union_of_its_holes():
    t = build(dict(type='CoarseDropout', prob=1.0, record_mask=True))
    np.random.seed(6)
    out = t(crop_sample())
    np.random.seed(6)
    np.random.rand()  # the prob draw
    boxes = t.sample_holes(CROP_H, CROP_W)
    expected = np.zeros((CROP_H, CROP_W), bool)
    for x0, y0, x1, y1 in boxes:
        expected[y0:y1, x0:x1] = True
    np.testing.assert_array_equal(out['occlusion_mask'], expected)


# ------------------------------------------------------------------ GridDropout
def _runs(profile):
    """(start, length) of the True runs of a 1-d bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], profile.astype(int), [0]])))
    return edges[::2], edges[1::2] - edges[::2]


@pytest.mark.parametrize('random_offset', [True, False])
def test_grid_dropout_makes_a_regular_grid(random_offset):
    t = build(dict(type='GridDropout', unit_size=(10, 40), ratio=0.5,
                   random_offset=random_offset, prob=1.0, record_mask=True))
    np.random.seed(7)
    units = set()
    for _ in range(30):
        mask = t(crop_sample())['occlusion_mask']
        for profile, extent in ((mask.any(0), CROP_W), (mask.any(1), CROP_H)):
            starts, lengths = _runs(profile)
            periods = np.diff(starts)
            assert len(set(periods)) <= 1 and len(starts) >= 2
            unit = periods[0]
            hole = lengths[0]
            assert 10 <= unit <= 40 and hole == max(1, round(unit * 0.5))
            # Every run but a last one cut by the edge is a full hole.
            assert np.all(lengths[:-1] == hole)
            assert starts[0] <= unit - hole
            if not random_offset:
                assert starts[0] == 0
            units.add(int(unit))
        # Holes sit at the crossings of the row and column bands.
        np.testing.assert_array_equal(mask, mask.any(1)[:, None] & mask.any(0)[None, :])
    assert len(units) > 5


# ------------------------------------------------------------------ RandomErasing
def test_random_erasing_area_and_aspect_in_range():
    t = build(dict(type='RandomErasing', area_range=(0.02, 0.33), aspect_range=(0.3, 3.3),
                   prob=1.0, record_mask=True))
    np.random.seed(8)
    for _ in range(40):
        mask = t(crop_sample())['occlusion_mask']
        ys, xs = np.nonzero(mask)
        box_w, box_h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
        assert mask.sum() == box_w * box_h  # one filled rectangle
        area = box_w * box_h / (CROP_W * CROP_H)
        assert 0.02 * 0.8 <= area <= 0.33 * 1.2
        assert 0.3 * 0.75 <= box_h / box_w <= 3.3 / 0.75


# ------------------------------------------------------------------ RandomOccluder
def test_random_occluder_changes_pixels_only_near_its_mask():
    t = build(dict(type='RandomOccluder', prob=1.0, source='procedural', edge_blur=0.05,
                   record_mask=True))
    np.random.seed(9)
    for _ in range(10):
        sample = crop_sample()
        out = t(crop_sample())
        mask = out['occlusion_mask']
        changed = np.any(out['img'] != sample['img'], axis=-1)
        # The soft edge reaches at most 2 sigma (<= 0.05 * 2 * crop side) past the mask.
        grown = cv2.dilate(mask.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
        assert not np.any(changed & ~grown)
        assert changed[mask].mean() > 0.95


def test_random_occluder_pastes_patches_of_earlier_samples():
    t = build(dict(type='RandomOccluder', prob=0.0, source='samples', pool_size=3))
    green = np.zeros((CROP_H, CROP_W, 3), np.uint8)
    green[:] = (10, 200, 30)
    np.random.seed(10)
    t(crop_sample(green))  # prob 0: only fills the pool
    assert len(t.pool) == 1 and np.all(t.pool[0] == (10, 200, 30))
    t.prob = 1.0
    grey = np.full((CROP_H, CROP_W, 3), 90, np.uint8)
    t.record_mask = True
    out = t(crop_sample(grey))
    inside = out['img'][out['occlusion_mask']]
    assert np.mean(np.all(inside == (10, 200, 30), axis=-1)) > 0.5
    for _ in range(20):
        t(crop_sample(grey))
    assert len(t.pool) == 3  # a bounded ring buffer: the green patch was replaced
    assert all(np.all(p == 90) for p in t.pool)


def test_random_occluder_pool_patches_avoid_keypoints():
    img = np.full((CROP_H, CROP_W, 3), 90, np.uint8)
    px = np.floor(CROP_KPTS[0, :3] + 0.5).astype(int)
    img[px[:, 1], px[:, 0]] = (0, 0, 255)  # one marker pixel per labelled point
    t = build(dict(type='RandomOccluder', prob=0.0, source='both', scale_range=(0.2, 0.4),
                   pool_size=50))
    np.random.seed(11)
    for _ in range(50):
        t(crop_sample(img))
    assert len(t.pool) > 20
    for patch in t.pool:
        assert not np.any(np.all(patch == (0, 0, 255), axis=-1))
