"""customkpt.apis.outlier_scores on synthetic predictions with known outliers."""
from __future__ import annotations

import numpy as np
import pytest

from customkpt.apis.outlier_scores import (InstanceTable, frame_features, jump_term, robust_z,
                                           score_instances, select_confident,
                                           select_frames)
from customkpt.core.pose_subspace import fit

K = 6
FRAMES = 200


def _pose(t):
    """A walking 6-point figure (head, 2 hands, hip, 2 feet) at time t, ~100 px."""
    swing = np.sin(t / 6.0)
    return np.array([[0, -50], [-25 - 5 * swing, -15], [25 + 5 * swing, -15], [0, 10],
                     [-15 + 12 * swing, 50], [15 - 12 * swing, 50]], np.float64)


def _clean_video(seed=0):
    """One track walking right, 2 px per frame; predictions with pixel noise."""
    rng = np.random.default_rng(seed)
    kpts = np.stack([_pose(t) + [100 + 2 * t, 200] for t in range(FRAMES)])
    kpts += rng.normal(size=kpts.shape) * 0.5
    boxes = np.concatenate([kpts.min(1) - 20, kpts.max(1) + 20], axis=1)
    scores = np.clip(0.9 + rng.normal(size=(FRAMES, K)) * 0.02, 0, 1)
    flipped = kpts + rng.normal(size=kpts.shape) * 0.5
    return dict(kpts=kpts, boxes=boxes, scores=scores, plain=kpts.copy(), flipped=flipped)


def _table(v):
    return InstanceTable(frame_idx=np.arange(FRAMES), track_id=np.zeros(FRAMES, np.int64),
                         boxes=v['boxes'], keypoints=v['kpts'], scores=v['scores'],
                         plain=v['plain'], flipped=v['flipped'])


def _subspace():
    poses = np.stack([_pose(t) for t in np.linspace(0, 100, 300)])
    boxes = np.concatenate([poses.min(1), poses.max(1)], axis=1)
    return fit(poses, boxes, np.ones((300, K)))


def _injected():
    v = _clean_video()
    v['kpts'][50] += [40.0, -30.0]          # a one-frame glitch
    v['plain'][50] = v['kpts'][50]
    v['flipped'][50] = v['kpts'][50] + 0.5  # ... that the mirrored run makes too
    v['flipped'][120] = v['plain'][120][[0, 2, 1, 3, 5, 4]]  # mirror run swapped sides
    v['scores'][160] = 0.3                  # the model is unsure
    v['kpts'][80, [1, 4]] = v['kpts'][80, [4, 1]]  # a hand and a foot swapped
    v['plain'][80] = v['kpts'][80]
    v['flipped'][80] = v['kpts'][80] + 0.5
    return v


def test_each_injected_outlier_tops_its_own_term():
    scores = score_instances(_table(_injected()), _subspace())
    assert set(np.argsort(-scores.frame_score)[:4].tolist()) == {50, 80, 120, 160}
    expected = {50: 'jump', 120: 'flip', 160: 'confidence', 80: 'pose'}
    for frame, term in expected.items():
        assert int(np.argmax(scores.normalised[term])) == frame, term
    # The clean frames stay low (they are what the robust scale is made of).
    clean = np.setdiff1d(np.arange(FRAMES), [49, 50, 51, 79, 80, 81, 120, 160])
    assert np.percentile(scores.frame_score[clean], 90) < 3.0
    assert scores.frame_score[[50, 80, 120, 160]].min() > 10.0


def test_a_glitch_marks_itself_not_its_neighbours():
    v = _injected()
    scores = score_instances(_table(v))
    jump = scores.raw['jump']
    assert jump[50] > 0.3 and jump[49] == 0 and jump[51] == 0
    # A real change of place that stays (a step) is not a jump on either side.
    kpts = v['kpts'].copy()
    kpts[100:] += 60.0
    steps = jump_term(kpts, np.arange(FRAMES), np.zeros(FRAMES, np.int64),
                      np.full(FRAMES, 100.0))
    assert steps[99] == 0 and steps[100] == 0


def test_jumps_follow_tracks_and_divide_by_frame_gaps():
    kpts = np.zeros((4, 1, 2))
    kpts[:, 0, 0] = [0.0, 100.0, 1.0, 101.0]  # two tracks, interleaved
    tracks = np.array([0, 1, 0, 1])
    frames = np.array([0, 0, 1, 1])
    np.testing.assert_allclose(jump_term(kpts, frames, tracks, np.ones(4), dead_zone=0.5),
                               [0.5, 0.5, 0.5, 0.5])
    gap = jump_term(kpts[[0, 2]] * [[[10.0, 1]]], np.array([0, 10]), np.zeros(2, np.int64),
                    np.ones(2), dead_zone=0.0)  # 10 px over 10 frames: 1 px per frame
    np.testing.assert_allclose(gap, [1.0, 1.0])


def test_without_a_subspace_the_pose_term_is_zero_and_weights_apply():
    v = _injected()
    scores = score_instances(_table(v), None, weights=dict(confidence=0.0))
    assert not scores.raw['pose'].any()
    assert scores.frame_score[160] < 1.0 and scores.weights['confidence'] == 0.0
    with pytest.raises(ValueError, match="unknown outlier term 'speed'"):
        score_instances(_table(v), None, weights=dict(speed=1.0))


def test_robust_z_floors_the_scale():
    x = np.zeros(100)
    x[3] = 1.0
    z = robust_z(x, floor=0.1)
    assert z[3] == pytest.approx(10.0) and z.sum() == pytest.approx(10.0)
    assert robust_z(np.array([np.nan, 1.0, 2.0]), 1.0)[0] == 0.0


def test_worst_instance_scores_its_frame():
    v = _clean_video()
    table = _table(v)
    # A second, low-confidence instance in frame 10 only.
    extra = InstanceTable(np.array([10]), np.array([7]), v['boxes'][:1], v['kpts'][:1],
                          np.full((1, K), 0.1), v['plain'][:1], v['flipped'][:1])
    both = InstanceTable(*[np.concatenate([getattr(table, f), getattr(extra, f)])
                           for f in ('frame_idx', 'track_id', 'boxes', 'keypoints', 'scores',
                                     'plain', 'flipped')])
    scores = score_instances(both)
    assert len(scores.frames) == FRAMES
    assert scores.worst[10] == FRAMES and int(np.argmax(scores.frame_score)) == 10


def test_selection_prefers_high_scores_but_spreads_over_poses():
    rng = np.random.default_rng(0)
    # 30 frames of one pose that all score high, 5 different poses lower, 65 dull frames.
    feats = np.concatenate([np.zeros((30, 4)) + rng.normal(size=(30, 4)) * 0.01,
                            np.eye(5, 4) * 3 + 1, rng.normal(size=(65, 4)) * 0.01 + 5])
    scores = np.concatenate([10 + rng.random(30), 5 + rng.random(5), rng.random(65)])
    picked = select_frames(feats, scores, num=4, top_fraction=0.35, seed=0)
    assert len(picked) == 4 and len(set(picked.tolist())) == 4
    assert picked[0] == int(np.argmax(scores))          # the best frame is always in
    assert (picked < 30).sum() == 1                     # only one of the look-alikes
    assert all(30 <= p < 35 for p in picked[1:])        # then the different poses
    assert np.all(np.diff(scores[picked]) <= 0)
    # Plain top-4 would have been four look-alikes.
    assert (np.argsort(-scores)[:4] < 30).all()


def test_confident_selection_prefers_low_scores_but_spreads_over_poses():
    rng = np.random.default_rng(0)
    # 30 look-alike frames that all score lowest, 5 different poses a little higher, 65 bad.
    feats = np.concatenate([rng.normal(size=(30, 4)) * 0.01, np.eye(5, 4) * 3 + 1,
                            rng.normal(size=(65, 4)) * 0.01 + 5])
    scores = np.concatenate([rng.random(30) * 0.1, 0.5 + rng.random(5) * 0.1,
                             5 + rng.random(65)])
    picked = select_confident(feats, scores, num=4, top_fraction=0.35, seed=0)
    assert len(set(picked.tolist())) == 4
    assert picked[0] == int(np.argmin(scores))          # the most trusted frame is in
    assert (picked < 30).sum() == 1 and all(30 <= p < 35 for p in picked[1:])
    assert np.all(np.diff(scores[picked]) >= 0)          # lowest first
    assert not (picked >= 35).any()                     # never a bad frame
    np.testing.assert_array_equal(select_confident(np.zeros((3, 2)), np.array([1.0, 3.0, 2.0]),
                                                   5), [0, 2, 1])


def test_selection_edges():
    feats = np.zeros((3, 2))
    np.testing.assert_array_equal(select_frames(feats, np.array([1.0, 3.0, 2.0]), 5),
                                  [1, 2, 0])
    with pytest.raises(ValueError, match='>= 1'):
        select_frames(feats, np.zeros(3), 0)


def test_picked_frames_on_the_video_are_the_outliers():
    table = _table(_injected())
    scores = score_instances(table, _subspace())
    feats = frame_features(table, scores)
    assert feats.shape == (FRAMES, 2 * K)
    rows = select_frames(feats, scores.frame_score, num=4, top_fraction=0.1)
    assert set(scores.frames[rows].tolist()) == {50, 80, 120, 160}
    # Three of them share a walking phase: pose clusters alone would keep one.
    # Clear outliers come first; extra picks spread over the other candidates.
    rows = select_frames(feats, scores.frame_score, num=7, top_fraction=0.2)
    assert set(scores.frames[rows[:4]].tolist()) == {50, 80, 120, 160}
    extra = feats[rows[4:]]
    gaps = np.linalg.norm(extra[:, None] - extra[None], axis=-1)[np.triu_indices(3, 1)]
    assert gaps.min() > 0.1  # the next three by score alone: 0.06


def test_from_results_stacks_instances():
    inst = dict(track_id=3, bbox=[0, 0, 10, 10], keypoints=np.ones((K, 2)),
                keypoint_scores=np.ones(K), keypoints_plain=np.ones((K, 2)),
                keypoints_flipped=np.zeros((K, 2)))
    table = InstanceTable.from_results([dict(frame_idx=4, instances=[inst, inst]),
                                        dict(frame_idx=5, instances=[])], K)
    assert len(table) == 2 and table.frame_idx.tolist() == [4, 4]
    assert table.flipped.shape == (2, K, 2) and table.track_id.tolist() == [3, 3]
    assert len(InstanceTable.from_results([], K)) == 0
