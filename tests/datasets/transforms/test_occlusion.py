"""Occlusion augmentations, OcclusionWeight and the seeded FixedOcclusion."""
import cv2
import numpy as np
import pytest

from customkpt.registry import TRANSFORMS

from .common import build, make_sample, run

CROP_W, CROP_H = 96, 128
# Crop-pixel keypoints: 0-2 inside, 3 unlabelled, 4 outside the crop.
CROP_KPTS = np.array([[[48, 64], [20, 30], [70, 100], [30, 110], [120, 20]]], np.float32)
CROP_VIS = np.array([[1, 1, 1, 0, 1]], np.float32)
LABELLED = np.array([[True, True, True, False, False]])

RANDOM_CFGS = [
    dict(type='KeypointInfoDrop', prob=1.0, num_patch=2, offset_factor=0.05,
         radius_range=(0.1, 0.2), fill='constant', value=0),
    dict(type='CoarseDropout', num_holes=(1, 8), hole_size=(10, 40), fill='mean', prob=1.0),
    dict(type='GridDropout', unit_size=(10, 40), ratio=0.5, random_offset=True, fill='noise',
         prob=1.0),
    dict(type='RandomErasing', area_range=(0.02, 0.33), aspect_range=(0.3, 3.3), fill='noise',
         prob=1.0),
    dict(type='RandomOccluder', prob=1.0, source='both', num_occluders=(1, 2),
         scale_range=(0.2, 0.5), pool_size=8),
]
NAMES = [c['type'] for c in RANDOM_CFGS]


def crop_sample(img=None, kpts=CROP_KPTS, vis=CROP_VIS, **extra):
    """A sample as TopdownAffine leaves it (noise image without zeros)."""
    if img is None:
        img = np.random.default_rng(5).integers(1, 256, (CROP_H, CROP_W, 3), dtype=np.uint8)
    sample = dict(img=img.copy(), img_shape=img.shape[:2], transformed_keypoints=kpts.copy(),
                  keypoints=kpts.copy() + 100, keypoints_visible=vis.copy(), img_id=3, id=11,
                  img_path='img_3.png', input_size=(CROP_W, CROP_H))
    sample.update(extra)
    return sample


def with_mask(cfg, **changes):
    return dict(cfg, record_mask=True, **changes)


def keypoints_on(mask, kpts=CROP_KPTS, labelled=LABELLED):
    px = np.floor(kpts[0] + 0.5).astype(int)
    out = np.zeros(labelled.shape, bool)
    for k, (x, y) in enumerate(px):
        if labelled[0, k]:
            out[0, k] = mask[y, x]
    return out


# ------------------------------------------------------------------ common behaviour
@pytest.mark.parametrize('cfg', RANDOM_CFGS + [
    dict(type='OcclusionWeight', weight=0.25),
    dict(type='FixedOcclusion', seed=3, keypoint_prob=0.5, scale_range=(0.1, 0.2)),
], ids=NAMES + ['OcclusionWeight', 'FixedOcclusion'])
def test_builds_from_config_with_repr(cfg):
    t = build(cfg)
    assert type(t).__name__ == cfg['type']


@pytest.mark.parametrize('cfg', RANDOM_CFGS, ids=NAMES)
def test_prob_zero_is_a_no_op(cfg):
    t = build(dict(cfg, prob=0.0))
    sample = crop_sample()
    np.random.seed(0)
    out = t(crop_sample())
    np.testing.assert_array_equal(out['img'], sample['img'])
    assert 'keypoints_occluded' not in out


@pytest.mark.parametrize('cfg', RANDOM_CFGS, ids=NAMES)
def test_seeded_output_is_deterministic(cfg):
    def outputs(seed):
        t = build(cfg)  # fresh pool for RandomOccluder
        np.random.seed(seed)
        return [t(crop_sample())['img'] for _ in range(4)]

    first, again, other = outputs(7), outputs(7), outputs(8)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(first, other))


@pytest.mark.parametrize('cfg', RANDOM_CFGS, ids=NAMES)
def test_keypoints_and_visibility_untouched_and_occluded_flags_match_mask(cfg):
    t = build(with_mask(cfg))
    np.random.seed(1)
    seen_occluded = 0
    for _ in range(12):
        sample = crop_sample()
        out = t(sample)
        np.testing.assert_array_equal(out['transformed_keypoints'], CROP_KPTS)
        np.testing.assert_array_equal(out['keypoints'], CROP_KPTS + 100)
        np.testing.assert_array_equal(out['keypoints_visible'], CROP_VIS)
        assert out['img'].shape == (CROP_H, CROP_W, 3) and out['img'].dtype == np.uint8
        mask = out['occlusion_mask']
        assert mask.shape == (CROP_H, CROP_W) and mask.any()
        occluded = out['keypoints_occluded']
        assert occluded.shape == (1, 5) and occluded.dtype == bool
        np.testing.assert_array_equal(occluded, keypoints_on(mask))
        assert not occluded[0, 3] and not occluded[0, 4]  # unlabelled, outside
        seen_occluded += int(occluded.sum())
    assert seen_occluded > 0


@pytest.mark.parametrize('cfg', RANDOM_CFGS[:4], ids=NAMES[:4])
def test_fills_change_exactly_the_reported_pixels(cfg):
    # Fill 0 on an image without zeros: every filled pixel changes.
    t = build(with_mask(cfg, fill='constant', value=0))
    np.random.seed(2)
    for _ in range(8):
        sample = crop_sample()
        out = t(crop_sample())
        changed = np.any(out['img'] != sample['img'], axis=-1)
        np.testing.assert_array_equal(changed, out['occlusion_mask'])
        assert np.all(out['img'][out['occlusion_mask']] == 0)


def test_mean_and_noise_fills():
    img = np.zeros((CROP_H, CROP_W, 3), np.uint8)
    img[:, :, 0] = 10
    img[:, :, 1] = 200
    img[:, :, 2] = np.arange(CROP_W, dtype=np.uint8)[None] + 50
    mean = build(dict(type='RandomErasing', fill='mean', prob=1.0, record_mask=True))
    np.random.seed(0)
    out = mean(crop_sample(img))
    expected = np.rint(img.reshape(-1, 3).mean(0)).astype(np.uint8)
    assert np.all(out['img'][out['occlusion_mask']] == expected)
    noise = build(dict(type='RandomErasing', area_range=(0.3, 0.33), fill='noise', prob=1.0,
                       record_mask=True))
    out = noise(crop_sample(img))
    values = out['img'][out['occlusion_mask']]
    assert values.std() > 50 and len(np.unique(values[:, 0])) > 100


def test_occluded_flags_combine_with_earlier_ones():
    earlier = np.array([[False, False, False, True, False]])
    t = build(dict(type='CoarseDropout', num_holes=(1, 1), hole_size=(1, 1), prob=1.0,
                   record_mask=True))
    np.random.seed(0)
    out = t(crop_sample(keypoints_occluded=earlier.copy()))
    expected = keypoints_on(out['occlusion_mask']) | earlier
    np.testing.assert_array_equal(out['keypoints_occluded'], expected)
    assert out['keypoints_occluded'][0, 3]


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


def test_bad_arguments_name_the_field():
    with pytest.raises(ValueError, match='hole_size'):
        TRANSFORMS.build(dict(type='CoarseDropout', hole_size=(0.5, 40)))
    with pytest.raises(ValueError, match='fill'):
        TRANSFORMS.build(dict(type='GridDropout', fill='blur'))
    with pytest.raises(ValueError, match='source'):
        TRANSFORMS.build(dict(type='RandomOccluder', source='web'))
    with pytest.raises(ValueError, match='prob'):
        TRANSFORMS.build(dict(type='RandomErasing', prob=1.5))


def test_per_channel_fill_value_and_its_check():
    t = build(dict(type='RandomErasing', fill='constant', value=(1, 2, 3), prob=1.0,
                   record_mask=True))
    np.random.seed(0)
    out = t(crop_sample())
    assert np.all(out['img'][out['occlusion_mask']] == (1, 2, 3))
    grey = crop_sample(np.full((CROP_H, CROP_W), 90, np.uint8))
    with pytest.raises(ValueError, match='channel'):
        t(grey)


def test_missing_crop_keypoints_is_a_clear_error():
    t = build(dict(type='CoarseDropout', prob=1.0))
    sample = crop_sample()
    del sample['transformed_keypoints']
    with pytest.raises(KeyError, match='TopdownAffine'):
        t(sample)


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


# ------------------------------------------------------------------ OcclusionWeight
def test_occlusion_weight_scales_only_occluded_points():
    t = build(dict(type='OcclusionWeight', weight=0.25))
    weights = np.array([[1, 1, 0, 1, 0.5]], np.float32)
    occluded = np.array([[True, False, True, False, True]])
    out = t(dict(keypoint_weights=weights.copy(), keypoints_occluded=occluded))
    np.testing.assert_allclose(out['keypoint_weights'], [[0.25, 1, 0, 1, 0.125]])
    assert out['keypoint_weights'].dtype == np.float32
    untouched = t(dict(keypoint_weights=weights.copy()))
    np.testing.assert_array_equal(untouched['keypoint_weights'], weights)
    with pytest.raises(KeyError, match='GenerateTarget'):
        t(dict(keypoints_occluded=occluded))


def test_full_training_pipeline_with_occlusion_and_weights():
    codec = dict(type='MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=2)
    pipeline = [build(c) for c in [
        dict(type='GetBBoxCenterScale'),
        dict(type='TopdownAffine', input_size=(48, 64)),
        dict(type='KeypointInfoDrop', prob=1.0, num_patch=3, radius_range=(0.3, 0.4)),
        dict(type='CoarseDropout', prob=1.0),
        dict(type='GenerateTarget', encoder=codec),
        dict(type='OcclusionWeight', weight=0.0),
    ]]
    np.random.seed(12)
    out = run(pipeline, make_sample())
    occluded = out['keypoints_occluded']
    assert occluded.any()
    np.testing.assert_array_equal(out['keypoint_weights'][occluded], 0)
    assert np.all(out['keypoint_weights'][~occluded] == 1)
    packed = build(dict(type='PackPoseInputs'))(out)
    assert tuple(packed['inputs'].shape) == (3, 64, 48)


# ------------------------------------------------------------------ FixedOcclusion
def test_fixed_occlusion_is_the_same_on_every_call_and_ignores_the_global_rng():
    t = build(dict(type='FixedOcclusion', seed=0, record_mask=True))
    np.random.seed(0)
    state = np.random.get_state()
    first = t(crop_sample())
    np.random.seed(123)
    again = build(dict(type='FixedOcclusion', seed=0, record_mask=True))(crop_sample())
    np.testing.assert_array_equal(first['img'], again['img'])
    np.testing.assert_array_equal(first['keypoints_occluded'], again['keypoints_occluded'])
    np.random.set_state(state)
    t(crop_sample())
    after = np.random.rand()
    np.random.set_state(state)
    assert after == np.random.rand()  # the global RNG was not drawn from


def test_fixed_occlusion_differs_across_samples_and_seeds():
    t = build(dict(type='FixedOcclusion', seed=0, keypoint_prob=1.0))
    base = t(crop_sample())['img']
    assert not np.array_equal(base, t(crop_sample(id=12))['img'])
    assert not np.array_equal(base, t(crop_sample(img_id=4))['img'])
    other_seed = build(dict(type='FixedOcclusion', seed=1, keypoint_prob=1.0))
    assert not np.array_equal(base, other_seed(crop_sample())['img'])
    # Without ids the image path identifies the sample.
    a = t(crop_sample(img_id=None, id=None))['img']
    b = t(crop_sample(img_id=None, id=None, img_path='other.png'))['img']
    assert not np.array_equal(a, b)


def test_fixed_occlusion_covers_about_a_quarter_of_the_keypoints():
    t = build(dict(type='FixedOcclusion', seed=0, record_mask=True))
    rng = np.random.default_rng(0)
    occluded = labelled = 0
    for i in range(150):
        kpts = np.concatenate([rng.uniform(5, CROP_W - 5, (1, 5, 1)),
                               rng.uniform(5, CROP_H - 5, (1, 5, 1))], axis=-1)
        out = t(crop_sample(kpts=kpts.astype(np.float32), vis=np.ones((1, 5), np.float32),
                            id=i))
        np.testing.assert_array_equal(out['keypoints_occluded'],
                                      keypoints_on(out['occlusion_mask'], kpts,
                                                   np.ones((1, 5), bool)))
        occluded += int(out['keypoints_occluded'].sum())
        labelled += 5
    assert 0.15 < occluded / labelled < 0.4


def test_fixed_occlusion_rate_does_not_grow_with_clustered_keypoints():
    # Five points within a few pixels: one occluder would hide them all, but
    # FixedOcclusion hides only the points it targets.
    t = build(dict(type='FixedOcclusion', seed=0, keypoint_prob=0.25, max_tries=10))
    rng = np.random.default_rng(1)
    occluded = 0
    for i in range(150):
        centre = rng.uniform(20, 70, 2)
        kpts = (centre + rng.uniform(-6, 6, (1, 5, 2))).astype(np.float32)
        out = t(crop_sample(kpts=kpts, vis=np.ones((1, 5), np.float32), id=i))
        occluded += int(out['keypoints_occluded'].sum())
    assert 0.08 < occluded / 750 < 0.3


def test_importing_the_transforms_package_registers_every_occlusion_transform():
    import customkpt.datasets.transforms as transforms
    from customkpt.datasets.transforms import occlusion
    for name in ('KeypointInfoDrop', 'CoarseDropout', 'GridDropout', 'RandomErasing',
                 'RandomOccluder', 'FixedOcclusion', 'OcclusionWeight'):
        assert TRANSFORMS.get(name) is getattr(occlusion, name) is getattr(transforms, name)
