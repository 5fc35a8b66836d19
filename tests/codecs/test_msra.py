"""MSRAHeatmap: targets, weights, round trips and batch decoding."""
from __future__ import annotations

import numpy as np
import pytest

from customkpt.codecs import MSRAHeatmap
from customkpt.registry import KEYPOINT_CODECS

INPUT, HEATMAP, SIGMA = (192, 256), (48, 64), 2.0
STRIDE = 4.0  # crop pixels per heatmap pixel for INPUT / HEATMAP


def build(**kwargs) -> MSRAHeatmap:
    cfg = dict(type='MSRAHeatmap', input_size=INPUT, heatmap_size=HEATMAP, sigma=SIGMA)
    cfg.update(kwargs)
    return KEYPOINT_CODECS.build(cfg)


def random_points(rng: np.random.Generator, k: int) -> np.ndarray:
    """(1, K, 2) sub-pixel crop points at least 3 sigma heatmap pixels from
    the border (plus one pixel for the rounding)."""
    margin = (3 * SIGMA + 1) * STRIDE
    x = rng.uniform(margin, INPUT[0] - margin, k)
    y = rng.uniform(margin, INPUT[1] - margin, k)
    return np.stack([x, y], axis=-1)[None].astype(np.float32)


def test_builds_from_config() -> None:
    codec = build(unbiased=True, blur_kernel_size=17)
    assert isinstance(codec, MSRAHeatmap)
    assert codec.input_size == INPUT and codec.heatmap_size == HEATMAP
    assert codec.unbiased is True and codec.blur_kernel_size == 17
    np.testing.assert_allclose(codec.scale_factor, [STRIDE, STRIDE])
    assert 'unbiased=True' in repr(codec)


def test_output_shapes_and_dtypes() -> None:
    codec = build()
    enc = codec.encode(np.full((2, 5, 2), 50, np.float32), np.ones((2, 5)))
    assert enc['heatmaps'].shape == (5, 64, 48) and enc['heatmaps'].dtype == np.float32
    assert enc['keypoint_weights'].shape == (2, 5)
    assert enc['keypoint_weights'].dtype == np.float32
    kpts, scores = codec.decode(enc['heatmaps'])
    assert kpts.shape == (1, 5, 2) and scores.shape == (1, 5)
    assert kpts.dtype == np.float32 and scores.dtype == np.float32


def test_gaussian_peak_and_shape() -> None:
    codec = build()
    # (41, 83) crop px -> (10.25, 20.75) heatmap px -> rounded centre (10, 21).
    enc = codec.encode(np.array([[[41.0, 83.0]]], np.float32))
    hm = enc['heatmaps'][0]
    assert hm.max() == 1.0 and hm[21, 10] == 1.0
    ys, xs = np.mgrid[:64, :48]
    expected = np.exp(-((xs - 10)**2 + (ys - 21)**2) / (2 * SIGMA**2))
    window = (np.abs(xs - 10) <= 3 * SIGMA) & (np.abs(ys - 21) <= 3 * SIGMA)
    np.testing.assert_allclose(hm, np.where(window, expected, 0), rtol=1e-6, atol=1e-7)
    assert np.count_nonzero(hm) == 13 * 13


def test_centre_rounds_half_up() -> None:
    codec = build()
    pts = np.array([[[10.5 * STRIDE, 5.49 * STRIDE], [7.0 * STRIDE, 30.51 * STRIDE]]],
                   np.float32)
    hm = codec.encode(pts)['heatmaps']
    peaks = [np.unravel_index(m.argmax(), m.shape) for m in hm]  # (row, col)
    assert peaks == [(5, 11), (31, 7)]


def test_invisible_and_outside_points_get_zero_weight_and_map() -> None:
    codec = build()
    pts = np.array([[
        [100.0, 100.0],  # visible, inside
        [100.0, 100.0],  # not labelled
        [-500.0, 50.0],  # far left of the crop
        [50.0, 5000.0],  # far below the crop
        [-8.0 * STRIDE, 50.0],  # centre -7: Gaussian window ends at column -1
        [-7.0 * STRIDE, 50.0],  # centre -6: window reaches column 0
    ]], np.float32)
    vis = np.array([[1, 0, 1, 2, 1, 1]], np.float32)
    enc = codec.encode(pts, vis)
    np.testing.assert_array_equal(enc['keypoint_weights'], [[1, 0, 0, 0, 0, 1]])
    hm = enc['heatmaps']
    assert hm[0].max() == 1.0
    assert not hm[1:5].any()
    # Only the edge column is touched, at distance 6 from the centre.
    assert hm[5, :, 1:].max() == 0
    np.testing.assert_allclose(hm[5, :, 0].max(), np.exp(-36 / 8), rtol=1e-6)


def test_default_visibility_and_non_finite_points() -> None:
    codec = build()
    pts = np.array([[[60.0, 60.0], [np.nan, 60.0]]], np.float32)
    enc = codec.encode(pts)
    np.testing.assert_array_equal(enc['keypoint_weights'], [[1, 0]])
    assert enc['heatmaps'][0].max() == 1.0 and not enc['heatmaps'][1].any()


def test_instances_combine_by_max() -> None:
    codec = build()
    a = np.array([[[40.0, 40.0], [100.0, 100.0]]], np.float32)
    b = np.array([[[48.0, 40.0], [150.0, 200.0]]], np.float32)
    both = codec.encode(np.concatenate([a, b]), np.array([[1, 1], [1, 0]]))
    expected = np.maximum(codec.encode(a)['heatmaps'],
                          codec.encode(b, np.array([[1, 0]]))['heatmaps'])
    np.testing.assert_array_equal(both['heatmaps'], expected)
    np.testing.assert_array_equal(both['keypoint_weights'], [[1, 1], [1, 0]])


@pytest.mark.parametrize('k', [1, 5, 17])
def test_round_trip_quarter_offset(k: int) -> None:
    codec = build()
    pts = random_points(np.random.default_rng(k), k)
    kpts, scores = codec.decode(codec.encode(pts)['heatmaps'])
    # The target is symmetric about the rounded centre, so the quarter step
    # does not move it: decoding returns the rounded centre exactly.
    rounded = np.floor(pts / STRIDE + 0.5) * STRIDE
    np.testing.assert_allclose(kpts, rounded, atol=1e-4)
    assert np.abs(kpts - pts).max() / STRIDE <= 0.5 + 1e-4
    np.testing.assert_allclose(scores, 1.0)


@pytest.mark.parametrize('k', [1, 5, 17])
def test_round_trip_dark(k: int) -> None:
    codec = build(unbiased=True)
    rng = np.random.default_rng(100 + k)
    pts = random_points(rng, k)
    # Move every blob's true centre off the pixel grid by re-drawing it at a
    # known sub-pixel location, so DARK has something to recover.
    offsets = rng.uniform(-0.45, 0.45, (k, 2))
    centres = np.floor(pts[0] / STRIDE + 0.5) + offsets
    ys, xs = np.mgrid[:64, :48]
    heatmaps = np.exp(-((xs - centres[:, :1, None])**2 + (ys - centres[:, 1:, None])**2) /
                      (2 * SIGMA**2)).astype(np.float32)
    kpts, scores = codec.decode(heatmaps)
    err = np.abs(kpts[0] / STRIDE - centres).max()
    assert err < 0.1, err
    # And the codec's own (rounded) targets decode to their centres.
    kpts, _ = codec.decode(codec.encode(pts)['heatmaps'])
    err = np.abs(kpts - np.floor(pts / STRIDE + 0.5) * STRIDE).max() / STRIDE
    assert err < 0.1, err


def test_zero_and_negative_heatmaps_score_zero() -> None:
    codec = build(unbiased=True)
    heatmaps = np.zeros((3, 64, 48), np.float32)
    heatmaps[1] -= 0.5
    heatmaps[2, 10, 20] = 0.7
    kpts, scores = codec.decode(heatmaps)
    np.testing.assert_allclose(scores, [[0.0, 0.0, 0.7]], rtol=1e-6)
    assert np.isfinite(kpts).all()
    np.testing.assert_allclose(kpts[0, 2], [20 * STRIDE, 10 * STRIDE])


@pytest.mark.parametrize('unbiased', [False, True])
def test_batch_decode_matches_per_sample(unbiased: bool) -> None:
    codec = build(unbiased=unbiased)
    rng = np.random.default_rng(7)
    maps = np.stack([codec.encode(random_points(rng, 6))['heatmaps'] for _ in range(4)])
    maps = maps + rng.uniform(0, 0.05, maps.shape).astype(np.float32)  # break symmetry
    kb, sb = codec.batch_decode(maps)
    assert kb.shape == (4, 6, 2) and sb.shape == (4, 6)
    for i in range(4):
        k1, s1 = codec.decode(maps[i])
        np.testing.assert_allclose(kb[i], k1[0], rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(sb[i], s1[0])
        np.testing.assert_allclose(sb[i], maps[i].max(axis=(1, 2)))


def test_rejects_wrong_shapes() -> None:
    codec = build()
    with pytest.raises(ValueError):
        codec.encode(np.zeros((5, 2), np.float32))
    with pytest.raises(ValueError):
        codec.encode(np.zeros((1, 5, 2), np.float32), np.ones((5, )))
    with pytest.raises(ValueError):
        codec.decode(np.zeros((1, 5, 64, 48), np.float32))
    with pytest.raises(ValueError):
        codec.batch_decode(np.zeros((5, 64, 48), np.float32))
