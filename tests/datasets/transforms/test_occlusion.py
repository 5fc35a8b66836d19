"""Occlusion augmentations: what the random ones share (config, prob,
seeding, fills, occluded flags), their argument checks, OcclusionWeight and
registration."""
import numpy as np
import pytest

from customkpt.registry import TRANSFORMS

from .common import build, make_sample, run
from .conftest import CROP_H, CROP_KPTS, CROP_VIS, CROP_W, crop_sample, keypoints_on

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


def with_mask(cfg, **changes):
    return dict(cfg, record_mask=True, **changes)


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


# ------------------------------------------------------------------ arguments and inputs
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


def test_importing_the_transforms_package_registers_every_occlusion_transform():
    import customkpt.datasets.transforms as transforms
    from customkpt.datasets.transforms import occlusion
    for name in ('KeypointInfoDrop', 'CoarseDropout', 'GridDropout', 'RandomErasing',
                 'RandomOccluder', 'FixedOcclusion', 'OcclusionWeight'):
        assert TRANSFORMS.get(name) is getattr(occlusion, name) is getattr(transforms, name)
