"""PoseTracker: stable ids, timeouts, lost ids; assignment helpers."""
import numpy as np
import pytest

from customkpt.core.boxes import oks
from customkpt.smoothing import PoseTracker, greedy_assignment, hungarian_assignment

SIGMAS = [0.026, 0.062, 0.062, 0.089, 0.089]


def _pose(cx, cy, size=40.0):
    """A 5-point pose (head, hands, feet) centred at (cx, cy) and its xyxy box."""
    offsets = np.array([[0, -0.4], [0.3, 0], [-0.3, 0], [0.15, 0.45], [-0.15, 0.45]])
    kpts = np.array([cx, cy]) + offsets * size
    box = np.array([cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2])
    return kpts.astype(np.float32), box.astype(np.float32)


def _frame(centres):
    poses = [_pose(*c) for c in centres]
    kpts = np.stack([p[0] for p in poses])
    boxes = np.stack([p[1] for p in poses])
    return boxes, kpts, np.ones(kpts.shape[:2], np.float32)


def test_oks_values():
    """The tracker's similarity: OKS over points valid in both poses, scaled
    by the track's box area."""
    kpts, box = _pose(50, 50)
    area = (box[2] - box[0]) * (box[3] - box[1])
    shifted = kpts + np.array([3.0, 4.0])  # 5 px everywhere
    valid = np.ones((1, 5), bool)
    sim = oks(kpts, valid[0], area, shifted[None], SIGMAS, pred_valid=valid)
    expected = np.mean(np.exp(-25.0 / (2 * area * (2 * np.array(SIGMAS)) ** 2)))
    assert sim[0] == pytest.approx(expected)
    none = oks(kpts, valid[0], area, shifted[None], SIGMAS, pred_valid=~valid)
    assert none[0] == 0.0
    # the tracker continues a track at that similarity and not below it
    for thr, same in ((expected - 1e-6, True), (expected + 1e-6, False)):
        tracker = PoseTracker(match='oks', thr=thr, sigmas=SIGMAS)
        first = tracker.update(box[None], kpts[None], frame_idx=0)
        second = tracker.update(box[None] + [3, 4, 3, 4], shifted[None], frame_idx=1)
        assert bool(first[0] == second[0]) is same


def test_assignment_helpers_are_the_core_ones():
    """The tracker pairs with core.assignment (tested against brute force there)."""
    from customkpt.core import assignment
    assert greedy_assignment is assignment.greedy_assignment
    assert hungarian_assignment is assignment.hungarian_assignment


@pytest.mark.parametrize('match', ['oks', 'iou'])
@pytest.mark.parametrize('assign', ['greedy', 'hungarian'])
def test_ids_stable_for_moving_and_crossing_subjects(match, assign):
    tracker = PoseTracker(match=match, thr=0.3, max_lost=5, sigmas=SIGMAS, assign=assign)
    first = None
    for f in range(30):
        # A walks right, B walks left: they cross around frame 15 (one above the
        # other, so boxes overlap only partly), C stands still.
        a = (20 + 4 * f, 60.0)
        b = (140 - 4 * f, 90.0)
        c = (200.0, 200.0)
        order = [a, b, c] if f % 2 == 0 else [c, b, a]  # detection order changes
        boxes, kpts, scores = _frame(order)
        ids = tracker.update(boxes, kpts if match == 'oks' else None,
                             scores if match == 'oks' else None, frame_idx=f)
        by_subject = dict(zip(['a', 'b', 'c'] if f % 2 == 0 else ['c', 'b', 'a'], ids.tolist()))
        if first is None:
            first = by_subject
            assert sorted(first.values()) == [0, 1, 2]
        assert by_subject == first, f'frame {f}'
        assert tracker.lost_ids == []


def test_new_id_after_timeout_and_lost_ids():
    tracker = PoseTracker(match='oks', max_lost=3, sigmas=SIGMAS)
    boxes, kpts, scores = _frame([(50, 50), (150, 50)])
    assert tracker.update(boxes, kpts, scores, 0).tolist() == [0, 1]
    # Subject 1 disappears for 3 frames: still kept (not more than max_lost).
    for f in (1, 2, 3):
        ids = tracker.update(boxes[:1], kpts[:1], scores[:1], f)
        assert ids.tolist() == [0] and tracker.lost_ids == []
    assert tracker.update(boxes, kpts, scores, 4).tolist() == [0, 1]
    # Now gone for 4 frames (5 to 8): dropped at frame 8 and reported once.
    for f in (5, 6, 7):
        tracker.update(boxes[:1], kpts[:1], scores[:1], f)
        assert tracker.lost_ids == []
    tracker.update(boxes[:1], kpts[:1], scores[:1], 8)
    assert tracker.lost_ids == [1]
    ids = tracker.update(boxes, kpts, scores, 9)
    assert ids.tolist() == [0, 2]             # back at the same place: a new id, 1 not reused
    assert tracker.lost_ids == []
    # A jump over more than max_lost frames drops every track before matching.
    assert tracker.update(boxes, kpts, scores, 20).tolist() == [3, 4]
    assert sorted(tracker.lost_ids) == [0, 2]
    tracker.reset()
    assert tracker.update(boxes[:1], kpts[:1], scores[:1], 21).tolist() == [5]


def test_low_scores_and_far_poses_do_not_match():
    tracker = PoseTracker(match='oks', thr=0.3, sigmas=SIGMAS)
    boxes, kpts, scores = _frame([(50, 50)])
    tracker.update(boxes, kpts, scores, 0)
    far_boxes, far_kpts, _ = _frame([(120, 50)])
    assert tracker.update(far_boxes, far_kpts, scores, 1).tolist() == [1]
    # Every point below kpt_thr: no shared point, OKS 0, a new track.
    assert tracker.update(far_boxes, far_kpts, np.zeros_like(scores), 2).tolist() == [2]


def test_bad_input():
    with pytest.raises(ValueError, match="'oks', 'iou' or 'combined'"):
        PoseTracker(match='dist')
    tracker = PoseTracker(sigmas=SIGMAS[:3])
    boxes, kpts, scores = _frame([(50, 50)])
    with pytest.raises(ValueError, match='keypoints must be'):
        tracker.update(boxes, kpts[:, :, :1], None, 0)
    tracker.update(boxes, kpts, scores, 0)
    with pytest.raises(ValueError, match='3 sigmas for 5 keypoints'):
        tracker.update(boxes, kpts, scores, 1)
