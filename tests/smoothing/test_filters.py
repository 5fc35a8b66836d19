"""Keypoint filters: responses, invalid points, config building."""
import numpy as np
import pytest

from customkpt.registry import KEYPOINT_FILTERS
from customkpt.smoothing import (EMAFilter, GaussianFilter, OneEuroFilter, SavitzkyGolayFilter)

ALL_CFGS = [
    dict(type='OneEuroFilter', min_cutoff=0.1, beta=0.5, d_cutoff=1.0),
    dict(type='EMAFilter', alpha=0.3),
    dict(type='SavitzkyGolayFilter', window=7, order=2),
    dict(type='GaussianFilter', window=7, sigma=2.0),
]


def _step_sequence(num_frames=60, k=2, jump_at=10, height=10.0):
    seq = np.zeros((num_frames, k, 2), np.float32)
    seq[jump_at:] = height
    return seq


@pytest.mark.parametrize('cfg', ALL_CFGS, ids=lambda c: c['type'])
def test_built_from_config(cfg):
    filt = KEYPOINT_FILTERS.build(cfg)
    assert type(filt).__name__ == cfg['type']
    out = filt.smooth(np.zeros((5, 3, 2), np.float32))
    assert out.shape == (5, 3, 2) and out.dtype == np.float32


@pytest.mark.parametrize('cfg', ALL_CFGS, ids=lambda c: c['type'])
def test_step_response_settles(cfg):
    filt = KEYPOINT_FILTERS.build(cfg)
    out = filt.smooth(_step_sequence())
    np.testing.assert_allclose(out[:5], 0.0, atol=1e-5)      # before the step (and its window)
    np.testing.assert_allclose(out[-5:], 10.0, atol=1e-3)    # settled after it
    # Averaging filters never leave [0, 10]; a Savitzky-Golay fit rings a little at a step.
    ring = 1.5 if cfg['type'] == 'SavitzkyGolayFilter' else 1e-3
    assert out.min() >= -ring and out.max() <= 10.0 + ring


@pytest.mark.parametrize('cfg', [
    dict(type='OneEuroFilter', min_cutoff=0.02, beta=0.0),
    dict(type='EMAFilter', alpha=0.2),
    dict(type='SavitzkyGolayFilter', window=9, order=2),
    dict(type='GaussianFilter', window=11, sigma=3.0),
], ids=lambda c: c['type'])
def test_sinusoid_high_frequency_attenuated_more_than_low(cfg):
    t = np.arange(400, dtype=np.float64)
    slow = 10.0 * np.sin(2 * np.pi * t / 100.0)   # 0.01 cycles / frame: the signal
    fast = 10.0 * np.sin(2 * np.pi * t / 2.5)     # 0.4 cycles / frame: jitter
    filt = KEYPOINT_FILTERS.build(cfg)

    def gain(x):
        seq = np.stack([x, x], -1)[:, None, :].astype(np.float32)
        out = filt.smooth(seq)[100:300, 0, 0]
        return np.std(out) / np.std(x[100:300])

    g_slow, g_fast = gain(slow), gain(fast)
    assert g_slow > 0.8, g_slow
    assert g_fast < 0.35, g_fast


def _ramp_lag(filt, speed=2.0, num_frames=200):
    """Frames behind a steady ramp at the end (distance / speed)."""
    x = np.arange(num_frames, dtype=np.float32) * speed
    seq = np.stack([x, np.zeros_like(x)], -1)[:, None, :]
    out = filt.smooth(seq)
    return float((x[-1] - out[-1, 0, 0]) / speed)


def test_one_euro_lag_falls_as_beta_rises():
    lags = [_ramp_lag(OneEuroFilter(min_cutoff=0.05, beta=b)) for b in (0.0, 0.01, 0.1, 1.0)]
    assert all(a > b for a, b in zip(lags, lags[1:])), lags
    # Without beta the lag is that of an EMA with alpha(fc=0.05, te=1): (1 - a) / a = tau.
    assert lags[0] == pytest.approx(1 / (2 * np.pi * 0.05), rel=0.02)
    assert lags[-1] < 0.3


def test_one_euro_alpha_formula_and_time():
    te, fc = 0.04, 1.0
    tau = 1 / (2 * np.pi * fc)
    assert OneEuroFilter.alpha(te, fc) == pytest.approx(1 / (1 + tau / te))
    # fps, explicit timestamps and frame units agree when they mean the same time step.
    pts = np.random.default_rng(0).normal(size=(20, 3, 2)).astype(np.float32)
    by_fps = OneEuroFilter(min_cutoff=1.0, beta=0.1, fps=25).smooth(pts)
    by_t = OneEuroFilter(min_cutoff=1.0, beta=0.1).smooth(pts, timestamps=np.arange(20) / 25)
    np.testing.assert_allclose(by_fps, by_t, atol=1e-6)
    with pytest.raises(ValueError, match='time must increase'):
        f = OneEuroFilter()
        f(pts[0], t=1.0)
        f(pts[1], t=1.0)


def test_ema_values_and_reset():
    f = EMAFilter(alpha=0.5)
    np.testing.assert_allclose(f(np.array([[0.0, 0.0]])), [[0, 0]])
    np.testing.assert_allclose(f(np.array([[4.0, 8.0]])), [[2, 4]])
    np.testing.assert_allclose(f(np.array([[4.0, 8.0]])), [[3, 6]])
    f.reset()
    np.testing.assert_allclose(f(np.array([[4.0, 8.0]])), [[4, 8]])  # fresh start


def test_online_invalid_points_skip_update_and_restart():
    f = EMAFilter(alpha=0.5)
    f(np.array([[0.0, 0.0], [0.0, 0.0]]))
    out = f(np.array([[100.0, 100.0], [10.0, 10.0]]), valid=np.array([False, True]))
    np.testing.assert_allclose(out, [[100, 100], [5, 5]])  # invalid passes through raw
    # Point 0 re-appears: its state restarts at the new value (no pull towards 0 or 100).
    out = f(np.array([[50.0, 50.0], [10.0, 10.0]]))
    np.testing.assert_allclose(out, [[50, 50], [7.5, 7.5]])
    # NaN points count as invalid.
    out = f(np.array([[np.nan, 1.0], [10.0, 10.0]]))
    assert np.isnan(out[0, 0]) and out[1, 0] == pytest.approx(8.75)


def test_one_euro_invalid_points_skip_update():
    fresh = OneEuroFilter(min_cutoff=0.1)
    f = OneEuroFilter(min_cutoff=0.1)
    f(np.array([[0.0, 0.0], [0.0, 0.0]]))
    out = f(np.array([[1000.0, 0.0], [1000.0, 0.0]]), valid=np.array([False, True]))
    assert out[0, 0] == 1000.0 and 0.0 < out[1, 0] < 1000.0
    # After its invalid frame point 0 restarts, exactly like a fresh filter.
    out = f(np.array([[1.0, 0.0], [1000.0, 0.0]]))
    np.testing.assert_allclose(out[0], fresh(np.array([[1.0, 0.0]]))[0])


@pytest.mark.parametrize('filt', [SavitzkyGolayFilter(window=5, order=2),
                                  GaussianFilter(window=5, sigma=1.0)],
                         ids=['savgol', 'gauss'])
def test_offline_invalid_points_ignored(filt):
    x = np.arange(30, dtype=np.float32) * 2.0
    seq = np.stack([x, x], -1)[:, None, :]
    valid = np.ones((30, 1), bool)
    seq_bad = seq.copy()
    seq_bad[15] = 1e4   # an outlier marked invalid must not move its neighbours
    valid[15] = False
    out = filt.smooth(seq_bad, valid)
    assert out[15, 0, 0] == pytest.approx(1e4)          # invalid point left as is
    ref = filt.smooth(seq)
    # Only the neighbours' windows change (one point fewer), and by little.
    diff = np.abs(np.delete(out, 15, 0) - np.delete(ref, 15, 0))
    assert diff.max() < 1.0
    assert abs(out[14, 0, 0] - 28.0) < 1.0 and abs(out[16, 0, 0] - 32.0) < 1.0


def test_savgol_keeps_polynomials_and_handles_short_sequences():
    t = np.arange(20, dtype=np.float64)
    quad = 0.1 * t ** 2 - t + 3
    seq = np.stack([quad, t], -1)[:, None, :].astype(np.float32)
    out = SavitzkyGolayFilter(window=11, order=2).smooth(seq)
    np.testing.assert_allclose(out, seq, atol=1e-3)  # degree <= order: exact, ends included
    short = seq[:3]
    np.testing.assert_allclose(SavitzkyGolayFilter(window=11, order=2).smooth(short), short,
                               atol=1e-4)
    single = SavitzkyGolayFilter(window=11, order=3).smooth(seq[:1])
    np.testing.assert_allclose(single, seq[:1])


def test_gaussian_weights_and_short_sequence():
    f = GaussianFilter(window=3, sigma=1.0)
    seq = np.array([0.0, 0.0, 3.0, 0.0, 0.0], np.float32)[:, None, None].repeat(2, -1)
    out = f.smooth(seq)[:, 0, 0]
    w = np.exp(-0.5)
    assert out[2] == pytest.approx(3 / (1 + 2 * w), rel=1e-5)
    assert out[1] == pytest.approx(3 * w / (1 + 2 * w), rel=1e-5)
    assert out[0] == 0.0
    two = GaussianFilter(window=11, sigma=4.0).smooth(np.array([[[0., 0.]], [[2., 2.]]]))
    np.testing.assert_allclose(two[:, 0, 0], [2 * np.exp(-1 / 32) / (1 + np.exp(-1 / 32)),
                                              2 / (1 + np.exp(-1 / 32))], rtol=1e-5)


@pytest.mark.parametrize('cfg, match', [
    (dict(type='SavitzkyGolayFilter', window=4), 'odd'),
    (dict(type='SavitzkyGolayFilter', window=5, order=5), 'order'),
    (dict(type='GaussianFilter', sigma=0), 'sigma'),
    (dict(type='EMAFilter', alpha=0), 'alpha'),
    (dict(type='OneEuroFilter', min_cutoff=-1), 'min_cutoff'),
])
def test_bad_arguments(cfg, match):
    with pytest.raises(Exception, match=match):
        KEYPOINT_FILTERS.build(cfg)


def test_bad_shapes():
    with pytest.raises(ValueError, match=r'OneEuroFilter.*\(K, 2\)'):
        OneEuroFilter()(np.zeros((3, 3)))
    with pytest.raises(ValueError, match='valid must have shape'):
        GaussianFilter().smooth(np.zeros((4, 3, 2)), np.ones((4, 2), bool))
    f = EMAFilter()
    f(np.zeros((3, 2)))
    with pytest.raises(ValueError, match='reset'):
        f(np.zeros((4, 2)))
