"""KeypointSmoother: per-track state, score threshold, offline sequences."""
import numpy as np
import pytest

from customkpt.smoothing import EMAFilter, KeypointSmoother


def test_tracks_keep_separate_state_and_drop_resets():
    sm = KeypointSmoother(dict(type='EMAFilter', alpha=0.5), score_thr=0.3)
    assert sm.online
    ones = np.ones(2, np.float32)
    sm.update(1, np.zeros((2, 2)), ones)
    sm.update(2, np.full((2, 2), 100.0), ones)
    np.testing.assert_allclose(sm.update(1, np.full((2, 2), 10.0), ones), 5.0)
    np.testing.assert_allclose(sm.update(2, np.full((2, 2), 0.0), ones), 50.0)
    assert sorted(sm.track_ids) == [1, 2]
    sm.drop(1)
    sm.drop(99)  # unknown ids are fine
    np.testing.assert_allclose(sm.update(1, np.full((2, 2), 10.0), ones), 10.0)  # fresh
    sm.reset()
    assert sm.track_ids == []


def test_low_scores_pass_through():
    sm = KeypointSmoother(dict(type='EMAFilter', alpha=0.5), score_thr=0.3)
    sm.update(0, np.zeros((2, 2)), np.array([0.9, 0.9]))
    out = sm.update(0, np.full((2, 2), 10.0), np.array([0.9, 0.1]))
    np.testing.assert_allclose(out, [[5, 5], [10, 10]])


def test_default_filter_and_bad_config():
    assert KeypointSmoother(None).filter_cfg['type'] == 'OneEuroFilter'
    with pytest.raises(ValueError, match='type'):
        KeypointSmoother(dict(alpha=0.3))
    with pytest.raises(KeyError):
        KeypointSmoother(dict(type='NoSuchFilter'))


def test_offline_filter_needs_whole_sequences():
    sm = KeypointSmoother(dict(type='GaussianFilter', window=5, sigma=1.0))
    assert not sm.online
    with pytest.raises(TypeError, match='offline'):
        sm.update(0, np.zeros((2, 2)), np.ones(2))
    seq = np.zeros((10, 2, 2), np.float32)
    seq[5] = 10.0
    out = sm.smooth_sequence(seq, np.ones((10, 2)))
    assert 0 < out[5, 0, 0] < 10 and out[4, 0, 0] > 0


def test_smooth_tracks_matches_per_track_sequences_and_handles_gaps():
    rng = np.random.default_rng(0)
    sm = KeypointSmoother(dict(type='SavitzkyGolayFilter', window=5, order=1))
    a = rng.normal(size=(8, 3, 2)).astype(np.float32)
    b = rng.normal(size=(6, 3, 2)).astype(np.float32)
    # Rows shuffled, two tracks; track 7 misses frame 3.
    frames_a = np.arange(8)
    frames_b = np.array([0, 1, 2, 4, 5, 6])
    tids = np.r_[np.full(8, 3), np.full(6, 7)]
    fids = np.r_[frames_a, frames_b]
    kpts = np.concatenate([a, b])
    perm = rng.permutation(len(tids))
    out = sm.smooth_tracks(tids[perm], fids[perm], kpts[perm], np.ones((14, 3)))
    inv = np.argsort(perm)
    np.testing.assert_allclose(out[inv][:8], sm.smooth_sequence(a), atol=1e-5)
    dense = np.zeros((7, 3, 2), np.float32)
    dense[frames_b] = b
    valid = np.zeros((7, 3), bool)
    valid[frames_b] = True
    expected = sm._build().smooth(dense, valid)[frames_b]
    np.testing.assert_allclose(out[inv][8:], expected, atol=1e-5)
    with pytest.raises(ValueError, match='two rows'):
        sm.smooth_tracks([1, 1], [0, 0], np.zeros((2, 3, 2)))


def test_online_smooth_sequence_equals_frame_by_frame():
    seq = np.random.default_rng(2).normal(size=(12, 4, 2)).astype(np.float32)
    scores = np.random.default_rng(3).random((12, 4))
    sm = KeypointSmoother(dict(type='EMAFilter', alpha=0.3), score_thr=0.3)
    whole = sm.smooth_sequence(seq, scores)
    step = np.stack([sm.update(5, seq[i], scores[i]) for i in range(12)])
    np.testing.assert_allclose(whole, step, atol=1e-6)
    f = EMAFilter(alpha=0.3)
    np.testing.assert_allclose(whole, f.smooth(seq, scores >= 0.3), atol=1e-6)
