"""RandomHSV, Blur and MedianBlur: image-only, seeded, within their ranges."""
import cv2
import numpy as np
import pytest

from .common import build, make_sample

IMG = np.random.default_rng(0).integers(0, 256, (48, 40, 3), dtype=np.uint8)
ALL = [dict(type='RandomHSV', prob=1.0, channel_prob=1.0), dict(type='Blur', prob=1.0),
       dict(type='MedianBlur', prob=1.0)]


@pytest.mark.parametrize('cfg', ALL, ids=lambda c: c['type'])
def test_changes_only_the_image_and_is_deterministic_under_the_seed(cfg):
    t = build(cfg)

    def run(seed):
        np.random.seed(seed)
        return [t(make_sample()) for _ in range(8)]

    first, again, other = run(3), run(3), run(4)
    reference = make_sample()
    for out, twin in zip(first, again):
        np.testing.assert_array_equal(out['img'], twin['img'])
        assert out['img'].shape == reference['img'].shape and out['img'].dtype == np.uint8
        assert np.any(out['img'] != reference['img'])
        for key in ('keypoints', 'keypoints_visible', 'bbox'):
            np.testing.assert_array_equal(out[key], reference[key])
    assert any(not np.array_equal(a['img'], b['img']) for a, b in zip(first, other))


@pytest.mark.parametrize('cfg', ALL, ids=lambda c: c['type'])
def test_prob_zero_is_identity_with_the_same_draws(cfg):
    t = build(dict(cfg, prob=0.0))
    np.random.seed(0)
    out = t(dict(img=IMG.copy()))['img']
    np.testing.assert_array_equal(out, IMG)
    after_skip = np.random.rand()
    np.random.seed(0)
    build(dict(cfg, prob=1.0))(dict(img=IMG.copy()))
    assert np.random.rand() == after_skip        # a fixed number of draws per call


def test_hsv_shifts_stay_within_the_deltas():
    t = build(dict(type='RandomHSV', hue_delta=5, saturation_delta=30, value_delta=30,
                   channel_prob=1.0))
    img = np.zeros((4, 4, 3), np.uint8)
    img[..., 1] = 120   # green: hue 60, saturation 255, value 120
    img[..., 0] = 60
    base = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)[0, 0].astype(int)
    np.random.seed(5)
    shifts = np.array([cv2.cvtColor(t(dict(img=img.copy()))['img'], cv2.COLOR_BGR2HSV)[0, 0]
                       .astype(int) - base for _ in range(40)])
    assert np.abs(shifts[:, 0]).max() <= 5 + 1 and np.abs(shifts[:, 2]).max() <= 30 + 1
    assert len(set(shifts[:, 2])) > 5


def test_hsv_leaves_a_grey_image_without_shifts_alone_and_skips_grey_channels():
    t = build(dict(type='RandomHSV', channel_prob=0.0))
    out = t(dict(img=IMG.copy()))['img']
    np.testing.assert_array_equal(out, IMG)
    grey = IMG[..., 0].copy()
    np.testing.assert_array_equal(build(dict(type='RandomHSV', channel_prob=1.0))(
        dict(img=grey))['img'], IMG[..., 0])


@pytest.mark.parametrize('kind', ['Blur', 'MedianBlur'])
def test_the_kernel_size_is_odd_and_inside_the_range(kind):
    t = build(dict(type=kind, kernel_range=(3, 7), prob=1.0))
    img = np.zeros((21, 21), np.uint8)
    img[8:13, 8:13] = 250 if kind == 'MedianBlur' else 0
    img[10, 10] = 250
    sizes = set()
    np.random.seed(0)
    for _ in range(30):
        out = t(dict(img=img.copy()))['img']
        if kind == 'Blur':   # an impulse spreads over a k x k square
            sizes.add(int((out[10] > 0).sum()))
        else:                # a 5 x 5 square loses more of its corners the larger k
            sizes.add(int((out > 0).sum()))
    assert sizes == ({3, 5, 7} if kind == 'Blur' else {21, 13, 9})


@pytest.mark.parametrize('kind', ['Blur', 'MedianBlur'])
def test_float_images_keep_their_dtype_and_bad_ranges_are_refused(kind):
    out = build(dict(type=kind, prob=1.0))(dict(img=IMG.astype(np.float32)))['img']
    assert out.dtype == np.float32 and out.shape == IMG.shape
    t = build(dict(type=kind, kernel_range=(4, 6)))
    assert t.kernel_range == (5, 5)
    with pytest.raises(ValueError, match='kernel_range'):
        build(dict(type=kind, kernel_range=(1, 1)))
