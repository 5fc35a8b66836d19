"""PoseTracker with motion: crossings, gaps, new-track scores, the combined cost."""
import numpy as np
import pytest

from customkpt.smoothing import PoseTracker

SIGMAS = [0.026, 0.062, 0.062, 0.089, 0.089]
SHAPE = np.array([[0.0, -0.4], [0.3, 0.0], [-0.3, 0.0], [0.15, 0.45], [-0.15, 0.45]])


def _detections(xs, y=100.0, size=60.0):
    """Boxes (N, 4), keypoints (N, 5, 2) and scores (N, 5) of figures at ``xs``."""
    centres = np.stack([np.asarray(xs, float), np.full(len(xs), y)], 1)
    kpts = centres[:, None] + SHAPE[None] * size
    boxes = np.concatenate([centres - size / 2, centres + size / 2], 1)
    return boxes, kpts, np.ones(kpts.shape[:2])


def _track_crossing(tracker, hidden=()):
    """A walks right and B left at the same height, 6 px a frame, passing
    each other at frame 7; B is not detected in the frames ``hidden``.
    Returns each frame's {subject: id}."""
    out = []
    for f in range(16):
        subjects = {'a': 60.0 + 6 * f, 'b': 140.0 - 6 * f}
        if f in hidden:
            del subjects['b']
        names = sorted(subjects, reverse=f % 2 == 1)          # the order changes
        boxes, kpts, scores = _detections([subjects[n] for n in names])
        ids = tracker.update(boxes, kpts, scores, frame_idx=f)
        out.append(dict(zip(names, ids.tolist())))
    return out


def _kept(frames):
    """Did every subject keep its first id?"""
    first = {}
    for frame in frames:
        for name, tid in frame.items():
            if first.setdefault(name, tid) != tid:
                return False
    return True


@pytest.mark.parametrize('hidden', [(), (6, 7, 8, 9)], ids=['crossing', 'hidden-crossing'])
def test_motion_keeps_ids_where_matching_the_last_pose_swaps_them(hidden):
    # matching against where the tracks were last seen swaps A and B (or
    # gives B a new id after it was hidden), greedily or not
    for old in (dict(match='oks'), dict(match='oks', assign='hungarian'), dict(match='iou')):
        assert not _kept(_track_crossing(PoseTracker(sigmas=SIGMAS, **old), hidden)), old
    for new in (dict(match='combined', assign='hungarian'), dict(match='combined'),
                dict(match='oks', assign='hungarian', motion=True)):
        frames = _track_crossing(PoseTracker(sigmas=SIGMAS, **new), hidden)
        assert _kept(frames), new
        assert sorted(frames[0].values()) == [0, 1]


def test_a_track_is_predicted_along_its_keypoint_velocity():
    tracker = PoseTracker(match='combined', sigmas=SIGMAS)
    boxes, kpts, scores = _detections([100.0])
    tracker.update(boxes, kpts, scores, 0)
    wider = boxes + [[0, 0, 8, 0]]                      # the box grows on one side ...
    tracker.update(wider + [[5, 0, 5, 0]], kpts + [5, 0], scores, 1)   # ... the pose moves 5 px
    np.testing.assert_allclose(tracker.tracks[0].velocity, [5.0, 0.0])
    np.testing.assert_allclose(tracker.predicted_boxes([0], 4), wider + [[20, 0, 20, 0]])
    # without keypoints the box centre gives the step; later steps are blended
    box_only = PoseTracker(match='iou', motion=True, velocity_smoothing=0.5)
    box_only.update(boxes, frame_idx=0)
    box_only.update(boxes + [[4, 2, 4, 2]], frame_idx=1)
    box_only.update(boxes + [[4, 2, 4, 2]], frame_idx=3)      # still for two frames
    np.testing.assert_allclose(box_only.tracks[0].velocity, [2.0, 1.0])
    assert PoseTracker(match='oks').motion is False and PoseTracker(match='combined').motion


def test_new_tracks_need_a_score():
    tracker = PoseTracker(match='combined', sigmas=SIGMAS, new_track_thr=0.5)
    boxes, kpts, scores = _detections([50.0, 200.0])
    low = scores * [[0.9], [0.2]]                         # the second one scores 0.2
    assert tracker.update(boxes, kpts, low, 0).tolist() == [0, -1]
    assert sorted(tracker.tracks) == [0]
    # a low score still continues a track; a high one starts a new track
    ids = tracker.update(boxes, kpts, scores * [[0.2], [0.9]], 1)
    assert ids.tolist() == [0, 1]
    assert tracker.update(boxes[:1], kpts[:1], None, 2, instance_scores=[0.1]).tolist() == [0]
    fresh = tracker.update(boxes[1:] + 300, kpts[1:] + 300, None, 3, instance_scores=[0.4])
    assert fresh.tolist() == [-1] and tracker.lost_ids == []
    with pytest.raises(ValueError, match='instance_scores must be'):
        tracker.update(boxes, kpts, None, 4, instance_scores=[1.0])


def test_combined_uses_boxes_where_poses_share_no_point():
    boxes, kpts, scores = _detections([50.0])
    for match, same in (('oks', False), ('combined', True)):
        tracker = PoseTracker(match=match, sigmas=SIGMAS)
        tracker.update(boxes, kpts, scores, 0)
        ids = tracker.update(boxes + 2, kpts + 2, np.zeros_like(scores), 1)   # no point scored
        assert bool(ids[0] == 0) is same, match
    far = PoseTracker(match='combined', sigmas=SIGMAS)
    far.update(boxes, kpts, scores, 0)
    assert far.update(boxes + 120, kpts + 120, scores, 1).tolist() == [1]


def test_bad_options():
    with pytest.raises(ValueError, match='weights must be 3'):
        PoseTracker(match='combined', weights=(1.0, 0.0))
    with pytest.raises(ValueError, match='weights must be 3'):
        PoseTracker(match='combined', weights=(0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match='velocity_smoothing'):
        PoseTracker(velocity_smoothing=0.0)
