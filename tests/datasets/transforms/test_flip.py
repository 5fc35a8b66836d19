"""RandomFlip on an asymmetric K=5 definition (the flip maths itself is
tested in tests/core/test_flip.py)."""
import numpy as np
import pytest

from customkpt.core.flip import flip_boxes, flip_keypoints
from customkpt.datasets.transforms import RandomFlip

from .common import BBOX, FLIP, IMG_W, KPTS, build, make_sample


def test_keypoints_box_and_centre_follow_the_core_flip():
    r = make_sample()
    r['bbox_center'] = np.array([[62.5, 77.5]], np.float32)
    vis = np.array([[1, 0, 2, 1, 0]], np.float32)
    r['keypoints_visible'] = vis.copy()
    r = build(dict(type='RandomFlip', prob=1.0))(r)
    kpts, out_vis = flip_keypoints(KPTS, vis, IMG_W, FLIP)
    np.testing.assert_array_equal(r['keypoints'], kpts)
    np.testing.assert_array_equal(r['keypoints_visible'], out_vis)
    # Slot 2 (right) now holds the old slot-1 (left) point, mirrored.
    np.testing.assert_array_equal(r['keypoints'][0, 2], [IMG_W - 1 - KPTS[0, 1, 0], KPTS[0, 1, 1]])
    np.testing.assert_array_equal(r['bbox'], flip_boxes(BBOX, IMG_W))
    np.testing.assert_array_equal(r['bbox'], [[IMG_W - 1 - 95, 20, IMG_W - 1 - 30, 135]])
    np.testing.assert_array_equal(r['bbox_center'], [[IMG_W - 1 - 62.5, 77.5]])


def test_bad_flip_tables_are_rejected():
    r = make_sample()
    r['flip_indices'] = [0, 1]
    with pytest.raises(ValueError, match='flip_indices'):
        build(dict(type='RandomFlip', prob=1.0))(r)
    r = make_sample()
    r['flip_indices'] = [0, 2, 1, 4, 5]
    with pytest.raises(ValueError, match='outside'):
        build(dict(type='RandomFlip', prob=1.0))(r)
    with pytest.raises(ValueError, match='horizontal'):
        build(dict(type='RandomFlip', direction='vertical'))


def test_flipping_twice_restores_everything_exactly():
    flip = build(dict(type='RandomFlip', prob=1.0))
    original = make_sample()
    original['keypoints_visible'] = np.array([[1, 0, 1, 2, 0]], np.float32)
    original['keypoint_weights'] = np.array([[0.5, 1, 2, 3, 4]], np.float32)
    original['bbox_center'] = np.array([[62.5, 77.5]], np.float32)
    original['bbox_rotation'] = np.array([30.0], np.float32)
    keys = ('img', 'bbox', 'bbox_center', 'bbox_rotation', 'keypoints', 'keypoints_visible',
            'keypoint_weights')
    before = {k: np.array(original[k]) for k in keys}
    once = flip({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in original.items()})
    assert once['flip'] is True and once['flip_direction'] == 'horizontal'
    for k in keys:  # everything changed...
        assert not np.array_equal(once[k], before[k]), k
    np.testing.assert_array_equal(once['keypoint_weights'], [[0.5, 2, 1, 4, 3]])
    np.testing.assert_array_equal(once['bbox_rotation'], [-30.0])
    twice = flip(once)
    for k in keys:  # ... and came back bit for bit
        np.testing.assert_array_equal(twice[k], before[k], err_msg=k)
        assert np.asarray(twice[k]).dtype == before[k].dtype, k


def test_image_is_mirrored_pixel_for_pixel():
    r = make_sample()
    img = r['img'].copy()
    r = build(dict(type='RandomFlip', prob=1.0))(r)
    np.testing.assert_array_equal(r['img'], img[:, ::-1])
    # The dot under each (flipped) keypoint is the partner's dot.
    x, y = r['keypoints'][0, 1].astype(int)
    np.testing.assert_array_equal(r['img'][y, x], img[int(KPTS[0, 2, 1]), int(KPTS[0, 2, 0])])


def test_definition_without_pairs_only_mirrors():
    r = make_sample()
    r['flip_indices'] = list(range(5))
    r = build(dict(type='RandomFlip', prob=1.0))(r)
    np.testing.assert_array_equal(r['keypoints'][0, :, 0], IMG_W - 1 - KPTS[0, :, 0])
    np.testing.assert_array_equal(r['keypoints'][0, :, 1], KPTS[0, :, 1])


def test_prob_zero_changes_nothing_and_missing_table_is_explained():
    r = build(dict(type='RandomFlip', prob=0.0))(make_sample())
    assert r['flip'] is False and r['flip_direction'] is None
    np.testing.assert_array_equal(r['keypoints'], KPTS)
    r = make_sample()
    del r['flip_indices']
    with pytest.raises(KeyError, match='flip_indices'):
        RandomFlip(prob=1.0)(r)


def test_single_channel_image_keeps_its_shape():
    img = np.arange(6 * 4, dtype=np.uint8).reshape(6, 4, 1)
    r = RandomFlip(prob=1.0)(dict(img=img, flip_indices=[0]))
    assert r['img'].shape == (6, 4, 1)
    np.testing.assert_array_equal(r['img'], img[:, ::-1])


def test_seeded_flip_is_deterministic_and_uses_prob():
    flip = RandomFlip(prob=0.5)

    def draws(seed):
        np.random.seed(seed)
        return [flip(make_sample())['flip'] for _ in range(200)]

    a, b = draws(0), draws(0)
    assert a == b and a != draws(1)
    assert 70 < sum(a) < 130
