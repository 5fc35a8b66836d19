"""PhotometricDistortion on BGR uint8 images."""
import cv2
import numpy as np

from .common import build

IMG = np.random.default_rng(0).integers(0, 256, (48, 40, 3), dtype=np.uint8)


def test_keeps_dtype_and_shape_and_changes_pixels():
    t = build(dict(type='PhotometricDistortion', brightness_delta=32, contrast_range=(0.5, 1.5),
                   saturation_range=(0.5, 1.5), hue_delta=18, prob=1.0))
    np.random.seed(0)
    for _ in range(5):
        out = t(dict(img=IMG.copy()))['img']
        assert out.dtype == np.uint8 and out.shape == IMG.shape
        assert np.mean(out != IMG) > 0.5


def test_prob_zero_is_identity():
    out = build(dict(type='PhotometricDistortion', prob=0.0))(dict(img=IMG.copy()))['img']
    np.testing.assert_array_equal(out, IMG)


def test_brightness_alone_shifts_values_by_delta():
    t = build(dict(type='PhotometricDistortion', brightness_delta=20, contrast_range=(1, 1),
                   saturation_range=(1, 1), hue_delta=0, prob=1.0))
    img = np.full((8, 8, 3), 100, np.uint8)
    np.random.seed(1)
    values = {int(t(dict(img=img.copy()))['img'][0, 0, 0]) for _ in range(30)}
    assert len(values) > 5 and min(values) >= 80 and max(values) <= 120


def test_saturation_alone_keeps_grey_pixels_grey_and_changes_colour():
    t = build(dict(type='PhotometricDistortion', brightness_delta=0, contrast_range=(1, 1),
                   saturation_range=(0.0, 0.0), hue_delta=0, prob=1.0))
    img = IMG.copy()
    img[0, 0] = 128
    out = t(dict(img=img))['img']
    np.testing.assert_array_equal(out[0, 0], [128, 128, 128])
    # Saturation 0 turns every pixel grey (equal channels, up to HSV rounding).
    assert np.abs(out.astype(int) - out.mean(-1, keepdims=True)).max() <= 1


def test_hue_shift_moves_hue():
    t = build(dict(type='PhotometricDistortion', brightness_delta=0, contrast_range=(1, 1),
                   saturation_range=(1, 1), hue_delta=10, prob=1.0))
    img = np.zeros((4, 4, 3), np.uint8)
    img[..., 2] = 255  # pure red, hue 0
    np.random.seed(2)
    out = t(dict(img=img))['img']
    hue = int(cv2.cvtColor(out, cv2.COLOR_BGR2HSV)[0, 0, 0])
    assert hue != 0 and (hue <= 10 or hue >= 170)


def test_seeded_output_is_deterministic():
    t = build(dict(type='PhotometricDistortion'))

    def outputs(seed):
        np.random.seed(seed)
        return [t(dict(img=IMG.copy()))['img'] for _ in range(6)]

    for a, b in zip(outputs(3), outputs(3)):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(outputs(3), outputs(4)))


def test_other_images_do_not_break():
    t = build(dict(type='PhotometricDistortion', prob=1.0))
    grey = t(dict(img=IMG[..., :1].copy()))['img']
    assert grey.shape == (48, 40, 1) and grey.dtype == np.uint8
    as_float = t(dict(img=IMG.astype(np.float32)))['img']
    assert as_float.dtype == np.float32 and as_float.shape == IMG.shape
