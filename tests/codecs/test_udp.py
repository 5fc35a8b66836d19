"""UDPHeatmap: sub-pixel targets, (in - 1) / (hm - 1) scaling, round trips."""
from __future__ import annotations

import numpy as np
import pytest

from customkpt.codecs import UDPHeatmap
from customkpt.registry import KEYPOINT_CODECS

INPUT, HEATMAP, SIGMA = (192, 256), (48, 64), 2.0
FACTOR = np.array([191 / 47, 255 / 63])  # crop pixels per heatmap pixel, (x, y)


def build(**kwargs) -> UDPHeatmap:
    cfg = dict(type='UDPHeatmap', input_size=INPUT, heatmap_size=HEATMAP, sigma=SIGMA)
    cfg.update(kwargs)
    return KEYPOINT_CODECS.build(cfg)


def random_points(rng: np.random.Generator, k: int) -> np.ndarray:
    """(1, K, 2) sub-pixel crop points at least 3 sigma heatmap pixels from
    the border."""
    margin = 3 * SIGMA * FACTOR
    x = rng.uniform(margin[0], INPUT[0] - 1 - margin[0], k)
    y = rng.uniform(margin[1], INPUT[1] - 1 - margin[1], k)
    return np.stack([x, y], axis=-1)[None].astype(np.float32)


def test_builds_from_config() -> None:
    codec = build(blur_kernel_size=17)
    assert isinstance(codec, UDPHeatmap)
    assert codec.input_size == INPUT and codec.heatmap_size == HEATMAP
    assert codec.sigma == SIGMA and codec.blur_kernel_size == 17
    np.testing.assert_allclose(codec.scale_factor, FACTOR, rtol=1e-6)
    with pytest.raises(ValueError):
        build(heatmap_size=(1, 64))


def test_gaussian_is_centred_at_the_exact_sub_pixel_location() -> None:
    codec = build()
    centre = np.array([10.3, 20.6])
    enc = codec.encode((centre * FACTOR)[None, None].astype(np.float32))
    hm = enc['heatmaps'][0]
    assert hm.shape == (64, 48) and enc['keypoint_weights'][0, 0] == 1
    ys, xs = np.mgrid[:64, :48]
    expected = np.exp(-((xs - centre[0])**2 + (ys - centre[1])**2) / (2 * SIGMA**2))
    window = (np.abs(xs - 10) <= 3 * SIGMA) & (np.abs(ys - 21) <= 3 * SIGMA)
    np.testing.assert_allclose(hm, np.where(window, expected, 0), rtol=1e-5, atol=1e-7)
    assert hm.max() < 0.99  # no pixel sits on the centre


def test_crop_corners_map_to_heatmap_corners() -> None:
    codec = build()
    pts = np.array([[[0.0, 0.0], [191.0, 255.0]]], np.float32)
    hm = codec.encode(pts)['heatmaps']
    assert hm[0, 0, 0] == 1.0 and hm[1, 63, 47] == 1.0
    kpts, scores = codec.decode(hm)
    np.testing.assert_allclose(kpts, pts, atol=1e-4)
    np.testing.assert_allclose(scores, 1.0)


@pytest.mark.parametrize('k', [1, 5, 17])
def test_round_trip_recovers_sub_pixel_points(k: int) -> None:
    codec = build()
    pts = random_points(np.random.default_rng(k), k)
    enc = codec.encode(pts, np.ones((1, k)))
    kpts, scores = codec.decode(enc['heatmaps'])
    err = (np.abs(kpts - pts) / FACTOR).max()
    assert err < 0.1, err
    # The peak value is the Gaussian at the nearest pixel, so at most 1.
    assert ((scores > np.exp(-1 / (2 * SIGMA**2))) & (scores <= 1.0)).all()


def test_invisible_and_outside_points_get_zero_weight_and_map() -> None:
    codec = build()
    pts = np.array([[[100.0, 100.0], [100.0, 100.0], [-200.0, 50.0], [50.0, 300.0]]],
                   np.float32)
    enc = codec.encode(pts, np.array([[1, 0, 1, 1]]))
    np.testing.assert_array_equal(enc['keypoint_weights'], [[1, 0, 0, 0]])
    assert enc['heatmaps'][0].max() > 0.5 and not enc['heatmaps'][1:].any()
    _, scores = codec.decode(enc['heatmaps'])
    assert scores[0, 0] > 0.5
    np.testing.assert_array_equal(scores[0, 1:], 0)


def test_batch_decode_matches_per_sample() -> None:
    codec = build()
    rng = np.random.default_rng(3)
    maps = np.stack([codec.encode(random_points(rng, 5))['heatmaps'] for _ in range(3)])
    maps = maps + rng.uniform(0, 0.05, maps.shape).astype(np.float32)
    kb, sb = codec.batch_decode(maps)
    assert kb.shape == (3, 5, 2) and sb.shape == (3, 5)
    for i in range(3):
        k1, s1 = codec.decode(maps[i])
        np.testing.assert_allclose(kb[i], k1[0], rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(sb[i], s1[0])
