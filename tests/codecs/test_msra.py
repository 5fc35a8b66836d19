"""MSRA heatmap codec: encode/decode round trip, weights, refinement."""
import numpy as np
import pytest

from customkpt.registry import KEYPOINT_CODECS


def _codec(**kw):
    cfg = dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)
    cfg.update(kw)
    return KEYPOINT_CODECS.build(cfg)


@pytest.mark.parametrize('k', [1, 5, 17])
@pytest.mark.parametrize('unbiased,tol_hm_px', [(True, 0.1), (False, 0.5)])
def test_round_trip_recovers_points(k, unbiased, tol_hm_px):
    codec = _codec(unbiased=unbiased)
    rng = np.random.default_rng(k)
    # Sub-pixel points away from the border (3 sigma in heatmap pixels).
    pts = np.stack([rng.uniform(4 * 8, 188 - 4 * 8, k), rng.uniform(32, 224, k)], -1)
    # DARK assumes the Gaussian is centred where it was drawn: the centre is
    # rounded on encoding, so compare against the rounded heatmap location.
    enc = codec.encode(pts[None].astype(np.float32), np.ones((1, k)))
    kpts, scores = codec.decode(enc['heatmaps'])
    drawn = np.floor(pts / 4 + 0.5) * 4
    err = np.abs(kpts[0] - (drawn if unbiased else pts)).max() / 4
    assert err < tol_hm_px, err
    np.testing.assert_allclose(scores, 1.0, atol=1e-6)


def test_gaussian_shape_and_weights():
    codec = _codec()
    pts = np.array([[[40.0, 80.0], [0, 0], [-100, 50], [100, 100]]], np.float32)
    vis = np.array([[1, 0, 1, 1]])
    enc = codec.encode(pts, vis)
    np.testing.assert_array_equal(enc['keypoint_weights'], [[1, 0, 0, 1]])
    hm = enc['heatmaps']
    assert hm.shape == (4, 64, 48) and hm[1].max() == 0 and hm[2].max() == 0
    assert hm[0, 20, 10] == 1.0
    np.testing.assert_allclose(hm[0, 20, 12], np.exp(-4 / 8), rtol=1e-5)
    np.testing.assert_allclose(hm[0, 21, 11], np.exp(-2 / 8), rtol=1e-5)
    _, scores = codec.decode(hm)
    assert scores[0, 1] == 0 and scores[0, 0] == 1.0


def test_batch_decode_matches_per_sample():
    codec = _codec(unbiased=True)
    rng = np.random.default_rng(0)
    maps = np.stack([codec.encode(np.stack([rng.uniform(40, 150, 3), rng.uniform(40, 200, 3)],
                                           -1)[None].astype(np.float32))['heatmaps']
                     for _ in range(4)])
    kb, sb = codec.batch_decode(maps)
    for i in range(4):
        k1, s1 = codec.decode(maps[i])
        np.testing.assert_allclose(kb[i], k1[0])
        np.testing.assert_allclose(sb[i], s1[0])
