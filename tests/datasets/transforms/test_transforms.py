"""Top-down transforms: geometry, flip tables, targets, packing, caching."""
import cv2
import numpy as np
import pytest
import torch

import customkpt.datasets.transforms.loading as loading
from customkpt.datasets.transforms import apply_affine, flip_keypoints, get_warp_matrix
from customkpt.registry import TRANSFORMS
from customkpt.structures import PoseDataSample

FLIP = [0, 2, 1, 4, 3]  # asymmetric K=5 definition: 1<->2, 3<->4
COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
KPTS = np.array([[[60, 30], [40, 70], [85, 65], [50, 120], [75, 125]]], np.float32)


def _sample(img=None):
    if img is None:
        img = np.full((160, 128, 3), 90, np.uint8)
        for (x, y), c in zip(KPTS[0].astype(int), COLOURS):
            cv2.circle(img, (int(x), int(y)), 4, c, -1)
    return dict(img=img, img_shape=img.shape[:2], bbox=np.array([[30, 20, 95, 135]], np.float32),
                keypoints=KPTS.copy(), keypoints_visible=np.ones((1, 5), np.float32),
                flip_indices=FLIP, img_id=1, id=7, img_path='x.png', category_id=1,
                bbox_score=np.ones(1, np.float32), area=np.array([7000.0], np.float32))


def _build(cfg):
    t = TRANSFORMS.build(cfg)
    assert type(t).__name__ in repr(t)
    return t


@pytest.mark.parametrize('use_udp', [False, True])
def test_point_colour_survives_flip_jitter_rotation_and_crop(use_udp):
    np.random.seed(0)
    pipeline = [_build(dict(type='GetBBoxCenterScale')),
                _build(dict(type='RandomFlip', prob=1.0)),
                _build(dict(type='RandomBBoxTransform', shift_prob=1.0, rotate_prob=1.0,
                            rotate_factor=40.0)),
                _build(dict(type='TopdownAffine', input_size=(96, 128), use_udp=use_udp))]
    for trial in range(5):
        r = _sample()
        for t in pipeline:
            r = t(r)
        assert r['flip'] is True and r['img'].shape == (128, 96, 3)
        assert abs(float(r['bbox_rotation'][0])) > 0 or trial > 0
        for k, (x, y) in enumerate(r['transformed_keypoints'][0]):
            if not (2 <= x < 94 and 2 <= y < 126):
                continue
            # After the flip, slot k holds the partner's point: its colour.
            want = np.array(COLOURS[FLIP[k]])
            got = r['img'][int(round(y)), int(round(x))].astype(int)
            assert np.abs(got - want).max() < 60, (k, got, want)


def test_flip_twice_restores_and_left_lands_on_right_slot():
    flip = _build(dict(type='RandomFlip', prob=1.0))
    r = flip(_sample())
    w = 128
    np.testing.assert_allclose(r['keypoints'][0, 2], [w - 1 - KPTS[0, 1, 0], KPTS[0, 1, 1]])
    np.testing.assert_allclose(r['keypoints'][0, 0], [w - 1 - KPTS[0, 0, 0], KPTS[0, 0, 1]])
    np.testing.assert_allclose(r['bbox'], [[w - 1 - 95, 20, w - 1 - 30, 135]])
    back = flip(r)
    np.testing.assert_allclose(back['keypoints'], KPTS)
    np.testing.assert_array_equal(back['img'], _sample()['img'])
    with pytest.raises(ValueError, match='flip_indices'):
        flip_keypoints(KPTS, None, w, [0, 1])


def test_no_flip_pairs_means_identity_indices():
    r = _sample()
    r['flip_indices'] = list(range(5))
    r = _build(dict(type='RandomFlip', prob=1.0))(r)
    np.testing.assert_allclose(r['keypoints'][0, :, 0], 127 - KPTS[0, :, 0])


def test_warp_matrix_maps_box_onto_crop():
    m = get_warp_matrix(np.array([50, 60]), np.array([40, 80]), 0.0, (20, 40))
    np.testing.assert_allclose(apply_affine(np.array([[30, 20], [70, 100], [50, 60]]), m),
                               [[0, 0], [20, 40], [10, 20]], atol=1e-4)
    m = get_warp_matrix(np.array([50, 60]), np.array([40, 80]), 0.0, (20, 40), use_udp=True)
    np.testing.assert_allclose(apply_affine(np.array([[30, 20], [70, 100]]), m),
                               [[0, 0], [19, 39]], atol=1e-4)
    # 90 degrees: a point right of the centre moves onto the vertical axis.
    m = get_warp_matrix(np.array([0, 0]), np.array([10, 10]), 90.0, (10, 10))
    x, y = apply_affine(np.array([[3.0, 0.0]]), m)[0]
    assert abs(x - 5) < 1e-4 and abs(abs(y - 5) - 3) < 1e-4


def test_half_body_uses_meta_ids_and_is_a_noop_without():
    np.random.seed(1)
    r = _build(dict(type='GetBBoxCenterScale'))(_sample())
    before = r['bbox_center'].copy()
    r = _build(dict(type='RandomHalfBody', prob=1.0, min_total_keypoints=1))(r)
    np.testing.assert_array_equal(r['bbox_center'], before)
    r = _build(dict(type='RandomHalfBody', prob=1.0, min_total_keypoints=1,
                    min_upper_keypoints=2, min_lower_keypoints=9,
                    upper_body_ids=[0, 1, 2], lower_body_ids=[3, 4]))(r)
    np.testing.assert_allclose(r['bbox_center'][0], KPTS[0, :3].min(0) / 2 + KPTS[0, :3].max(0) / 2)


def test_photometric_changes_pixels_keeps_dtype():
    np.random.seed(0)
    img = np.random.randint(0, 255, (32, 32, 3), np.uint8)
    out = _build(dict(type='PhotometricDistortion', prob=1.0))(dict(img=img.copy()))['img']
    assert out.dtype == np.uint8 and out.shape == img.shape and np.any(out != img)


def test_target_weights_and_packing():
    r = _sample()
    r['keypoints_visible'][0, 3] = 0
    for cfg in (dict(type='GetBBoxCenterScale'),
                dict(type='TopdownAffine', input_size=(48, 64))):
        r = _build(cfg)(r)
    r['transformed_keypoints'][0, 4] = [500, 500]  # outside the crop
    codec = dict(type='MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=2)
    r = _build(dict(type='GenerateTarget', encoder=codec))(r)
    np.testing.assert_array_equal(r['keypoint_weights'], [[1, 1, 1, 0, 0]])
    assert r['heatmaps'].shape == (5, 16, 12) and r['heatmaps'][3:].max() == 0
    packed = _build(dict(type='PackPoseInputs'))(r)
    assert packed['inputs'].dtype == torch.uint8 and packed['inputs'].shape == (3, 64, 48)
    s = packed['data_samples']
    assert isinstance(s, PoseDataSample)
    assert s.gt_instances.keypoints.shape == (1, 5, 2)
    np.testing.assert_allclose(s.gt_instances.keypoints, KPTS)  # image pixels kept
    assert s.gt_fields.heatmaps.shape == (5, 16, 12)
    assert s.gt_instance_labels.keypoint_weights.shape == (1, 5)
    assert s.metainfo['input_size'] == (48, 64) and s.metainfo['flip_indices'] == FLIP


@pytest.mark.parametrize('cache', [None, 'memory', 'disk'])
def test_load_image_and_cache(tmp_path, monkeypatch, cache):
    path = tmp_path / 'a.png'
    img = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    cv2.imwrite(str(path), img)
    calls = []
    real = loading.cv2.imread
    monkeypatch.setattr(loading.cv2, 'imread', lambda *a: calls.append(1) or real(*a))
    t = _build(dict(type='LoadImage', cache=cache, cache_dir=str(tmp_path / 'c')))
    first = t(dict(img_path=str(path)))['img']
    second = t(dict(img_path=str(path)))['img']
    np.testing.assert_array_equal(first, img)
    np.testing.assert_array_equal(second, img)
    assert len(calls) == (2 if cache is None else 1)
    second[0, 0] = 0  # the caller owns its copy: the cache stays intact
    np.testing.assert_array_equal(t(dict(img_path=str(path)))['img'], img)
    with pytest.raises(OSError, match='nope.png'):
        t(dict(img_path=str(tmp_path / 'nope.png')))
