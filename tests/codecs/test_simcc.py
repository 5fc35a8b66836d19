"""SimCCLabel: labels, weights, decoding, sigma defaults and to_dict."""
import numpy as np
import pytest

from customkpt.codecs import CODECS, SimCCLabel, build_codec
from customkpt.registry import KEYPOINT_CODECS

CFG = dict(type='SimCCLabel', input_size=(192, 256), sigma=(4.9, 5.66), simcc_split_ratio=2.0,
           normalize=False)


def test_builds_from_config_and_to_dict_rebuilds_it():
    codec = KEYPOINT_CODECS.build(CFG)
    assert type(codec) is SimCCLabel is CODECS['SimCCLabel']
    assert codec.use_udp is False and codec.vector_size == (384, 512)
    side = codec.to_dict()
    assert side == dict(type='SimCCLabel', input_size=[192, 256], sigma=[4.9, 5.66],
                        simcc_split_ratio=2.0, normalize=False)
    rebuilt = build_codec(side)
    assert rebuilt.to_dict() == side and repr(rebuilt) == repr(codec)
    with pytest.raises(ValueError, match='codec SimCCLabel: .*use_dark'):
        build_codec(dict(CFG, use_dark=True))
    with pytest.raises(ValueError, match='sigma must be positive'):
        SimCCLabel(sigma=0)


def test_label_is_a_unit_gaussian_at_the_rounded_bin():
    codec = SimCCLabel((192, 256), (4.9, 5.66))
    enc = codec.encode(np.array([[[50.2, 100.8]]]), np.ones((1, 1)))
    x, y = enc['keypoint_x_labels'], enc['keypoint_y_labels']
    assert x.shape == (1, 1, 384) and y.shape == (1, 1, 512)
    assert x.dtype == y.dtype == enc['keypoint_weights'].dtype == np.float32
    assert x[0, 0].argmax() == 100 and y[0, 0].argmax() == 202  # round(2 * coord)
    assert x[0, 0, 100] == pytest.approx(1.0) and y[0, 0, 202] == pytest.approx(1.0)
    assert x[0, 0, 103] == pytest.approx(np.exp(-9 / (2 * 4.9**2)), rel=1e-5)
    assert y[0, 0, 198] == pytest.approx(np.exp(-16 / (2 * 5.66**2)), rel=1e-5)
    assert enc['keypoint_weights'].tolist() == [[1.0]]


def test_normalize_gives_unit_area():
    codec = SimCCLabel((192, 256), (4.9, 5.66), normalize=True)
    enc = codec.encode(np.array([[[96.0, 128.0]]]))
    assert enc['keypoint_x_labels'].sum() == pytest.approx(1.0, rel=1e-4)
    assert enc['keypoint_y_labels'].sum() == pytest.approx(1.0, rel=1e-4)


def test_unlabelled_out_of_crop_and_non_finite_points_get_zero_weight_and_labels():
    codec = SimCCLabel((48, 64), (2.0, 2.0))
    kpts = np.array([[[10, 10], [10, 10], [-20, 10], [10, 100], [np.nan, 5], [-1, 10],
                      [47.9, 63.9]]], np.float64)
    vis = np.array([[2, 0, 1, 1, 1, 1, 1]], np.float32)
    enc = codec.encode(kpts, vis)
    assert enc['keypoint_weights'].tolist() == [[1, 0, 0, 0, 0, 1, 1]]
    zero = enc['keypoint_weights'][0] == 0
    assert not enc['keypoint_x_labels'][0, zero].any()
    assert not enc['keypoint_y_labels'][0, zero].any()
    # Just outside the crop: a partial Gaussian remains inside.
    assert 0 < enc['keypoint_x_labels'][0, 5, 0] < 1


@pytest.mark.parametrize('k', [1, 5, 17])
def test_round_trip(k):
    codec = SimCCLabel((192, 256), (4.9, 5.66))
    rng = np.random.default_rng(k)
    on_grid = np.round(rng.uniform(0, [191.5, 255.5], (2, k, 2)) * 2) / 2
    enc = codec.encode(on_grid)
    x = enc['keypoint_x_labels']
    kpts, scores = codec.batch_decode(x, enc['keypoint_y_labels'])
    assert kpts.shape == (2, k, 2) and scores.shape == (2, k) and kpts.dtype == np.float32
    np.testing.assert_allclose(kpts, on_grid, atol=0.05)
    np.testing.assert_allclose(scores, 1.0, atol=1e-6)
    anywhere = rng.uniform(0, [191.7, 255.7], (2, k, 2))
    enc = codec.encode(anywhere)
    kpts, _ = codec.batch_decode(enc['keypoint_x_labels'], enc['keypoint_y_labels'])
    assert np.abs(kpts - anywhere).max() <= 0.25 + 1e-4  # half a bin
    one, one_scores = codec.decode(enc['keypoint_x_labels'][1], enc['keypoint_y_labels'][1])
    np.testing.assert_array_equal(one, kpts[1:2])
    assert one_scores.shape == (1, k)


def test_score_is_the_smaller_peak_and_zero_when_not_positive():
    codec = SimCCLabel((4, 4), 1.0)
    x = np.zeros((1, 2, 8), np.float32)
    y = np.zeros((1, 2, 8), np.float32)
    x[0, 0, 3], y[0, 0, 6] = 0.9, 0.4
    x[0, 1] -= 1.0
    x[0, 1, 5] = -0.2
    y[0, 1, 1] = 0.7
    kpts, scores = codec.batch_decode(x, y)
    np.testing.assert_allclose(kpts[0], [[1.5, 3.0], [2.5, 0.5]])
    np.testing.assert_allclose(scores[0], [0.4, 0.0])


def test_default_sigma_follows_the_input_size():
    assert SimCCLabel.scaled_sigma((192, 256)) == (4.9, 5.66)
    assert SimCCLabel.scaled_sigma((288, 384)) == (6.93, 7.99)
    assert SimCCLabel.scaled_sigma((256, 256)) == (5.66, 5.66)
    assert SimCCLabel.scaled_sigma((96, 128)) == (2.45, 2.83)
    assert SimCCLabel((96, 128)).sigma == (2.45, 2.83)
    assert SimCCLabel().sigma == (4.9, 5.66)


def test_rejects_wrong_shapes():
    codec = SimCCLabel((48, 64))
    with pytest.raises(ValueError, match=r'\(N, K, 2\)'):
        codec.encode(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r'\(N, K\)'):
        codec.encode(np.zeros((1, 3, 2)), np.ones((1, 2)))
    with pytest.raises(ValueError, match=r'\(B, K, W\)'):
        codec.batch_decode(np.zeros((3, 96)), np.zeros((3, 128)))
    with pytest.raises(ValueError, match=r'\(K, W\)'):
        codec.decode(np.zeros((1, 3, 96)), np.zeros((1, 3, 128)))
