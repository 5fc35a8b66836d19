"""Top-down geometry: centre/scale, warp helpers, jitter, half body, affine crop."""
import cv2
import numpy as np
import pytest

from customkpt.datasets.transforms import apply_affine, get_warp_matrix

from .common import COLOURS, FLIP, KPTS, build, make_sample, run

INPUT = (96, 128)  # (w, h)


def test_bbox_center_scale():
    r = build(dict(type='GetBBoxCenterScale', padding=1.25))(make_sample())
    np.testing.assert_allclose(r['bbox_center'], [[62.5, 77.5]])
    np.testing.assert_allclose(r['bbox_scale'], [[65 * 1.25, 115 * 1.25]])
    assert r['bbox_center'].shape == (1, 2) and r['bbox_center'].dtype == np.float32
    assert r['bbox_scale'].shape == (1, 2) and r['bbox_scale'].dtype == np.float32


# ------------------------------------------------------------- warp helpers
def test_warp_matrix_maps_box_edges_onto_crop():
    center, scale = np.array([50.0, 60.0]), np.array([40.0, 80.0])
    corners = np.array([[30, 20], [70, 100], [50, 60]])
    m = get_warp_matrix(center, scale, 0.0, (20, 40))
    assert m.shape == (2, 3)
    np.testing.assert_allclose(apply_affine(corners, m), [[0, 0], [20, 40], [10, 20]], atol=1e-5)
    m = get_warp_matrix(center, scale, 0.0, (20, 40), use_udp=True)
    np.testing.assert_allclose(apply_affine(corners, m), [[0, 0], [19, 39], [9.5, 19.5]],
                               atol=1e-5)


def test_rotation_direction():
    # Positive angles turn the content counter-clockwise: right of centre -> above it.
    m = get_warp_matrix(np.array([0.0, 0.0]), np.array([10.0, 10.0]), 90.0, (10, 10))
    np.testing.assert_allclose(apply_affine(np.array([[3.0, 0.0]]), m), [[5, 2]], atol=1e-5)


@pytest.mark.parametrize('use_udp', [False, True])
@pytest.mark.parametrize('rot', [0.0, 37.0, -120.0])
def test_warp_matrix_inverts(use_udp, rot):
    center, scale, size = np.array([123.4, 56.7]), np.array([80.0, 64.0]), (40, 32)
    fwd = get_warp_matrix(center, scale, rot, size, use_udp=use_udp)
    inv = get_warp_matrix(center, scale, rot, size, use_udp=use_udp, inv=True)
    np.testing.assert_allclose(inv, cv2.invertAffineTransform(fwd), atol=1e-9)
    pts = np.random.default_rng(0).uniform(0, 200, (4, 3, 2))  # any leading shape
    back = apply_affine(apply_affine(pts, fwd), inv)
    assert back.shape == pts.shape and back.dtype == np.float32
    np.testing.assert_allclose(back, pts, atol=1e-3)


def test_zero_scale_is_rejected():
    with pytest.raises(ValueError, match='positive'):
        get_warp_matrix(np.zeros(2), np.array([0.0, 5.0]), 0.0, (4, 4))


# ----------------------------------------------------------- affine crop
@pytest.mark.parametrize('use_udp', [False, True])
def test_topdown_affine_keys_shapes_and_aspect(use_udp):
    r = make_sample()
    r = build(dict(type='GetBBoxCenterScale'))(r)
    r = build(dict(type='TopdownAffine', input_size=INPUT, use_udp=use_udp))(r)
    assert r['img'].shape == (128, 96, 3) and r['img'].dtype == np.uint8
    assert r['img_shape'] == (128, 96) and r['input_size'] == INPUT
    assert r['input_center'].shape == (2,) and r['input_center'].dtype == np.float32
    assert r['input_scale'].shape == (2,) and r['input_scale'].dtype == np.float32
    # (81.25, 143.75) is too narrow for 96:128, so the width grows; the height stays.
    np.testing.assert_allclose(r['input_scale'], [143.75 * 0.75, 143.75], rtol=1e-6)
    np.testing.assert_allclose(r['bbox_scale'], r['input_scale'][None])
    assert r['transformed_keypoints'].shape == (1, 5, 2)
    assert r['transformed_keypoints'].dtype == np.float32
    np.testing.assert_array_equal(r['keypoints'], KPTS)  # image pixels kept for the metric
    # Crop pixels map back to image pixels by the documented formula.
    size = np.array(INPUT, np.float64) - (1 if use_udp else 0)
    back = (r['transformed_keypoints'] / size * r['input_scale'] + r['input_center']
            - r['input_scale'] / 2)
    np.testing.assert_allclose(back, KPTS, atol=1e-3)


def test_topdown_affine_grows_the_short_side_only():
    r = dict(img=np.zeros((50, 50, 3), np.uint8), bbox_center=np.array([[25, 25]], np.float32),
             bbox_scale=np.array([[90, 30]], np.float32))
    r = build(dict(type='TopdownAffine', input_size=(32, 64)))(r)
    np.testing.assert_allclose(r['input_scale'], [90, 180])


def _colour_at(img, point):
    x, y = np.rint(point).astype(int)
    return img[y, x]


def _assert_dots_under_points(r, flipped):
    """Each transformed keypoint must sit on its own dot in the crop."""
    w, h = r['input_size']
    inside = 0
    for k, point in enumerate(r['transformed_keypoints'][0]):
        if not (0 <= point[0] <= w - 1 and 0 <= point[1] <= h - 1):
            continue
        inside += 1
        # After a flip slot k holds the partner's point, which sits on the partner's dot.
        want = COLOURS[FLIP[k] if flipped else k]
        np.testing.assert_array_equal(_colour_at(r['img'], point), want, err_msg=f'point {k}')
    return inside


@pytest.mark.parametrize('use_udp', [False, True])
@pytest.mark.parametrize('flip', [False, True])
@pytest.mark.parametrize('rot', [0.0, 35.0, -70.0, 90.0, 160.0])
def test_dot_colour_under_each_point_after_flip_rotation_and_crop(use_udp, flip, rot):
    pipeline = [build(dict(type='GetBBoxCenterScale')),
                build(dict(type='RandomFlip', prob=1.0 if flip else 0.0))]
    r = run(pipeline, make_sample())
    r['bbox_rotation'] = np.array([rot], np.float32)
    r = build(dict(type='TopdownAffine', input_size=INPUT, use_udp=use_udp))(r)
    assert _assert_dots_under_points(r, flip) == 5


@pytest.mark.parametrize('use_udp', [False, True])
def test_dot_colour_survives_the_random_training_geometry(use_udp):
    pipeline = [build(dict(type='GetBBoxCenterScale')),
                build(dict(type='RandomFlip', prob=0.5)),
                build(dict(type='RandomBBoxTransform', shift_prob=1.0, rotate_prob=1.0)),
                build(dict(type='TopdownAffine', input_size=INPUT, use_udp=use_udp))]
    np.random.seed(0)
    checked, rotations, flips = 0, [], []
    for _ in range(40):
        r = run(pipeline, make_sample())
        checked += _assert_dots_under_points(r, r['flip'])
        rotations.append(float(r['bbox_rotation'][0]))
        flips.append(r['flip'])
    assert checked > 100 and max(np.abs(rotations)) > 40 and 5 < sum(flips) < 35


def test_udp_crop_of_the_flipped_image_is_the_mirrored_crop():
    # With UDP the pixel grids line up exactly, so flip-then-crop equals
    # crop-then-mirror, rotation included (RandomFlip negates bbox_rotation).
    r = build(dict(type='GetBBoxCenterScale'))(make_sample())
    r['bbox_rotation'] = np.array([25.0], np.float32)
    crop = build(dict(type='TopdownAffine', input_size=INPUT, use_udp=True))
    plain = crop({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in r.items()})
    flipped = crop(build(dict(type='RandomFlip', prob=1.0))(r))
    diff = np.abs(flipped['img'].astype(int) - plain['img'][:, ::-1].astype(int))
    assert np.mean(diff > 0) < 0.01  # only bilinear rounding differences
    mirrored = plain['transformed_keypoints'][:, FLIP].copy()
    mirrored[..., 0] = INPUT[0] - 1 - mirrored[..., 0]
    np.testing.assert_allclose(flipped['transformed_keypoints'], mirrored, atol=1e-3)


def test_single_channel_crop_keeps_channel_axis():
    r = dict(img=np.zeros((40, 40, 1), np.uint8), bbox_center=np.array([[20, 20]], np.float32),
             bbox_scale=np.array([[30, 40]], np.float32))
    assert build(dict(type='TopdownAffine', input_size=(24, 32)))(r)['img'].shape == (32, 24, 1)


# ------------------------------------------------------------- box jitter
def test_random_bbox_transform_ranges_and_probabilities():
    t = build(dict(type='RandomBBoxTransform', shift_factor=0.16, shift_prob=0.3,
                   scale_factor=(0.5, 1.5), scale_prob=1.0, rotate_factor=80.0, rotate_prob=0.6))
    np.random.seed(0)
    center, scale = np.array([[100.0, 50.0]], np.float32), np.array([[40.0, 80.0]], np.float32)
    shifts, factors, rotations = [], [], []
    for _ in range(3000):
        r = t(dict(bbox_center=center.copy(), bbox_scale=scale.copy()))
        assert r['bbox_rotation'].shape == (1,) and r['bbox_rotation'].dtype == np.float32
        assert r['bbox_center'].dtype == np.float32 and r['bbox_scale'].dtype == np.float32
        shifts.append((r['bbox_center'] - center)[0] / scale[0])
        factors.append((r['bbox_scale'] / scale)[0])
        rotations.append(r['bbox_rotation'][0])
    shifts, factors, rotations = np.array(shifts), np.array(factors), np.array(rotations)
    assert np.abs(shifts).max() <= 0.16 + 1e-5 and np.abs(shifts).max() > 0.15
    assert abs(np.mean(np.abs(shifts).max(1) > 0) - 0.3) < 0.04
    np.testing.assert_allclose(factors[:, 0], factors[:, 1], rtol=1e-5)  # aspect kept
    assert factors.min() >= 0.5 - 1e-5 and factors.max() <= 1.5 + 1e-5
    assert factors.min() < 0.52 and factors.max() > 1.48
    assert np.abs(rotations).max() <= 80 + 1e-4 and np.abs(rotations).max() > 79
    assert abs(np.mean(rotations != 0) - 0.6) < 0.04


def test_random_bbox_transform_draws_a_truncated_normal():
    """Amounts follow N(0, 1) cut to [-1, 1]: mean |draw| 0.460, std 0.540,
    and few draws near the bounds (clipping N(0, 1) would give 0.631, 0.718
    and 32% of the draws exactly on the bounds)."""
    t = build(dict(type='RandomBBoxTransform', shift_prob=1.0, scale_prob=1.0,
                   rotate_prob=1.0, scale_factor=(0.5, 1.5), rotate_factor=80.0))
    np.random.seed(1)
    draws = []
    for _ in range(4000):
        r = t(dict(bbox_center=np.zeros((1, 2), np.float32),
                   bbox_scale=np.ones((1, 2), np.float32)))
        draws.append([*(r['bbox_center'][0] / 0.16), (r['bbox_scale'][0, 0] - 1) / 0.5,
                      r['bbox_rotation'][0] / 80.0])
    draws = np.array(draws)
    assert np.abs(draws).max() <= 1 + 1e-5
    for column in draws.T:  # shift x, shift y, scale, rotation
        assert np.mean(np.abs(column)) == pytest.approx(0.460, abs=0.02)
        assert column.std() == pytest.approx(0.540, abs=0.02)
        assert np.mean(np.abs(column) > 0.95) < 0.04  # truncated normal: 2.6%


def test_random_bbox_transform_probability_zero_is_identity():
    t = build(dict(type='RandomBBoxTransform', shift_prob=0, scale_prob=0, rotate_prob=0))
    r = t(dict(bbox_center=np.array([[10, 20]], np.float32),
               bbox_scale=np.array([[30, 40]], np.float32)))
    np.testing.assert_array_equal(r['bbox_center'], [[10, 20]])
    np.testing.assert_array_equal(r['bbox_scale'], [[30, 40]])
    np.testing.assert_array_equal(r['bbox_rotation'], [0])


# -------------------------------------------------------------- half body
def _half_body_sample():
    return build(dict(type='GetBBoxCenterScale'))(make_sample())


def _expected_box(points, box_scale, padding=1.5):
    """The half's extent times padding (TopdownAffine fixes the aspect
    ratio; ``box_scale`` plays no part)."""
    lo, hi = points.min(0), points.max(0)
    return (lo + hi) / 2, (hi - lo) * padding


def test_half_body_is_a_noop_without_body_halves():
    r = _half_body_sample()
    before = (r['bbox_center'].copy(), r['bbox_scale'].copy())
    t = build(dict(type='RandomHalfBody', prob=1.0, min_total_keypoints=1,
                   min_upper_keypoints=1, min_lower_keypoints=1))
    for ids in (None, []):
        r['upper_body_ids'] = r['lower_body_ids'] = ids
        r = t(r)
        np.testing.assert_array_equal(r['bbox_center'], before[0])
        np.testing.assert_array_equal(r['bbox_scale'], before[1])


@pytest.mark.parametrize('source', ['args', 'results', 'numpy'])
def test_half_body_crops_to_the_chosen_half(source):
    r = _half_body_sample()
    cfg = dict(type='RandomHalfBody', prob=1.0, min_total_keypoints=4,
               min_upper_keypoints=2, min_lower_keypoints=3)  # lower has only 2 points
    upper, lower = [0, 1, 2], [3, 4]
    if source == 'args':
        cfg.update(upper_body_ids=upper, lower_body_ids=lower)
    else:
        wrap = np.array if source == 'numpy' else list
        r['upper_body_ids'], r['lower_body_ids'] = wrap(upper), wrap(lower)
    box_scale = r['bbox_scale'][0].copy()
    r = build(cfg)(r)
    center, scale = _expected_box(KPTS[0, :3], box_scale)
    np.testing.assert_allclose(r['bbox_center'], center[None], rtol=1e-6)
    np.testing.assert_allclose(r['bbox_scale'], scale[None], rtol=1e-6)
    assert r['bbox_center'].dtype == np.float32 and r['bbox_scale'].shape == (1, 2)


def test_half_body_ignores_unlabelled_points_and_respects_minimums():
    base = dict(type='RandomHalfBody', prob=1.0, min_total_keypoints=3, min_upper_keypoints=2,
                min_lower_keypoints=2, upper_body_ids=[0, 1, 2], lower_body_ids=[3, 4])
    r = _half_body_sample()
    r['keypoints_visible'][0] = [1, 0, 1, 0, 1]  # one lower point labelled, point 1 not
    box_scale = r['bbox_scale'][0].copy()
    r = build(base)(r)
    center, scale = _expected_box(KPTS[0, [0, 2]], box_scale)
    np.testing.assert_allclose(r['bbox_center'], center[None], rtol=1e-6)
    np.testing.assert_allclose(r['bbox_scale'], scale[None], rtol=1e-6)

    r = _half_body_sample()
    r['keypoints_visible'][0] = [1, 0, 1, 0, 1]
    before = r['bbox_center'].copy()
    r = build(dict(base, min_total_keypoints=3 + 1))(r)  # too few labelled points
    np.testing.assert_array_equal(r['bbox_center'], before)
    with pytest.raises(ValueError, match='upper_body_ids'):
        build(dict(base, upper_body_ids=[0, 9]))(_half_body_sample())


def test_half_body_picks_both_halves_at_random():
    t = build(dict(type='RandomHalfBody', prob=0.5, min_total_keypoints=5,
                   min_upper_keypoints=2, min_lower_keypoints=2,
                   upper_body_ids=[0, 1, 2], lower_body_ids=[3, 4]))
    np.random.seed(0)
    centres = [tuple(t(_half_body_sample())['bbox_center'][0]) for _ in range(200)]
    kinds = {c: centres.count(c) for c in set(centres)}
    assert len(kinds) == 3  # untouched, upper, lower
    assert 60 < kinds[tuple(_half_body_sample()['bbox_center'][0])] < 140


def test_half_body_prefers_the_upper_half_and_is_zoomed_in():
    t = build(dict(type='RandomHalfBody', prob=1.0, min_total_keypoints=5,
                   min_upper_keypoints=2, min_lower_keypoints=2,
                   upper_body_ids=[0, 1, 2], lower_body_ids=[3, 4],
                   upper_prioritized_prob=0.7))
    np.random.seed(0)
    upper_centre = _expected_box(KPTS[0, :3], None)[0]
    picks = [np.allclose(t(_half_body_sample())['bbox_center'][0], upper_centre)
             for _ in range(1000)]
    assert 0.65 < np.mean(picks) < 0.75
    # After the crop the upper half fills the input height: the crop is its
    # extent x 1.5, not grown to the whole (tall) box's aspect ratio first.
    r = build(dict(type='RandomHalfBody', prob=1.0, min_total_keypoints=5,
                   min_upper_keypoints=2, min_lower_keypoints=2, upper_body_ids=[0, 1, 2],
                   lower_body_ids=[3, 4], upper_prioritized_prob=1.0))(_half_body_sample())
    r = build(dict(type='TopdownAffine', input_size=INPUT))(r)
    span = np.ptp(r['transformed_keypoints'][0, :3], axis=0)
    assert span[0] == pytest.approx(INPUT[0] / 1.5, rel=1e-4)  # the half's width fills it
    with pytest.raises(ValueError, match='upper_prioritized_prob'):
        build(dict(type='RandomHalfBody', upper_prioritized_prob=1.5))


# ---------------------------------------------------------- determinism
def test_seeded_geometry_is_deterministic():
    pipeline = [build(dict(type='GetBBoxCenterScale')),
                build(dict(type='RandomFlip')),
                build(dict(type='RandomHalfBody', min_total_keypoints=1, upper_body_ids=[0, 1, 2],
                           lower_body_ids=[3, 4])),
                build(dict(type='RandomBBoxTransform')),
                build(dict(type='TopdownAffine', input_size=INPUT))]

    def outputs(seed):
        np.random.seed(seed)
        return [run(pipeline, make_sample()) for _ in range(5)]

    a, b, c = outputs(4), outputs(4), outputs(5)
    for ra, rb in zip(a, b):
        np.testing.assert_array_equal(ra['img'], rb['img'])
        np.testing.assert_array_equal(ra['transformed_keypoints'], rb['transformed_keypoints'])
    assert any(not np.array_equal(ra['transformed_keypoints'], rc['transformed_keypoints'])
               for ra, rc in zip(a, c))
