"""The seeded FixedOcclusion: the same occlusion for a sample on every call,
about a quarter of the keypoints hidden."""
import numpy as np

from .common import build
from .conftest import CROP_H, CROP_W, crop_sample, keypoints_on


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
