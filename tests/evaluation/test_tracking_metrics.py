"""Identity metrics: switches, kept ids, misses, false positives, MOTA; readers."""
import numpy as np
import pytest

from customkpt.evaluation.tracking_metrics import (TrackFrame, frame_similarity, result_frames,
                                                   tracking_metrics, truth_frames)

SIGMAS = [0.026, 0.062, 0.062, 0.089, 0.089]
SHAPE = np.array([[0.0, -0.4], [0.3, 0.0], [-0.3, 0.0], [0.15, 0.45], [-0.15, 0.45]])


def _frame(ids, xs, size=60.0):
    """Subjects ``ids`` centred at ``(x, 100)``: boxes and keypoints."""
    c = np.stack([np.asarray(xs, float), np.full(len(xs), 100.0)], 1).reshape(-1, 2)
    return TrackFrame(ids, np.concatenate([c - size / 2, c + size / 2], 1),
                      c[:, None] + SHAPE[None] * size)


def _truth(frames=6):
    """Subject 1 at x=50, subject 2 at x=200, every frame."""
    return [_frame([1, 2], [50, 200]) for _ in range(frames)]


def test_a_swap_counts_two_switches_and_majority_ids():
    pred = [_frame([7, 8], [50, 200])] * 3 + [_frame([8, 7], [50, 200])] * 3
    m = tracking_metrics(_truth(), pred, sigmas=SIGMAS)
    assert (m.id_switches, m.matches, m.misses, m.false_positives) == (2, 12, 0, 0)
    assert m.kept_id_share == pytest.approx(0.5) and m.mota == pytest.approx(1 - 2 / 12)
    assert m.per_track[1] == dict(frames=6, matched=6, majority_id=7, majority_frames=3,
                                  switches=1)
    # the same ids throughout: no switch, every frame kept; the order does not matter
    steady = [_frame([8, 7], [200, 50])] * 6
    m = tracking_metrics(_truth(), steady, sigmas=SIGMAS)
    assert (m.id_switches, m.kept_id_share, m.mota) == (0, 1.0, 1.0)


def test_misses_false_positives_and_a_switch_across_a_gap():
    pred = [_frame([7, 8], [50, 200]),
            _frame([7], [50]),                          # subject 2 missed
            _frame([7, 9], [50, 200]),                  # ... back under a new id
            _frame([7, 9, 5], [50, 200, 120]),          # a false positive at x=120
            _frame([7, 9, -1], [50, 200, 120]),         # untracked: left out
            _frame([7, 9], [50, 330])]                  # too far: a miss and a false positive
    m = tracking_metrics(_truth(), pred, sigmas=SIGMAS)
    assert (m.misses, m.false_positives, m.id_switches) == (2, 2, 1)
    assert m.per_track[2] == dict(frames=6, matched=4, majority_id=9, majority_frames=3,
                                  switches=1)
    assert m.kept_id_share == pytest.approx((6 + 3) / 12)
    assert m.mota == pytest.approx(1 - (2 + 2 + 1) / 12)
    assert m.as_dict()['gt_instances'] == 12


def test_oks_and_iou_matching():
    gt = _frame([1, 2], [50, 200])
    near = _frame([3, 4], [205, 53])
    sim = frame_similarity(gt, near, 'oks', SIGMAS)
    assert sim.shape == (2, 2) and sim[0, 1] > 0.5 and sim[1, 0] > 0.5 and sim[0, 0] < 1e-6
    iou = frame_similarity(gt, near, 'iou')
    assert iou[0, 1] == pytest.approx((57 / 63)) and iou[0, 0] == 0
    # a prediction's unconfident points do not count; no keypoints: boxes
    half = TrackFrame([3], near.boxes[1:], near.keypoints[1:], [[True, False, False, False,
                                                                  False]])
    assert frame_similarity(gt, half, 'oks', SIGMAS)[0, 0] == pytest.approx(
        np.exp(-9 / (2 * 3600 * (2 * 0.026) ** 2)))
    boxes_only = TrackFrame([3, 4], near.boxes)
    np.testing.assert_allclose(frame_similarity(gt, boxes_only, 'oks'), iou)
    with pytest.raises(ValueError, match="'oks' or 'iou'"):
        frame_similarity(gt, near, 'dist')
    with pytest.raises(ValueError, match='2 ground-truth frames but 1'):
        tracking_metrics(_truth(2), _truth(1))
    with pytest.raises(ValueError, match='keypoints must be'):
        TrackFrame([1], np.zeros((1, 4)), np.zeros((2, 5, 2)))


def test_readers_of_the_video_truth_and_of_tracked_results():
    truth = dict(frames=[
        dict(frame_id=0, instances=[dict(track_id=3, bbox=[10, 20, 30, 40],
                                         keypoints=[[15, 25, 2], [0, 0, 0], [20, 30, 1],
                                                    [18, 50, 2], [22, 50, 2]])]),
        dict(frame_id=1, instances=[])])
    gt = truth_frames(truth)
    assert len(gt) == 2 and gt[0].ids.tolist() == [3] and len(gt[1].ids) == 0
    np.testing.assert_allclose(gt[0].boxes, [[10, 20, 40, 60]])
    assert gt[0].visible.tolist() == [[True, False, True, True, True]]
    kp = np.asarray(truth['frames'][0]['instances'][0]['keypoints'], float)[:, :2]
    results = [dict(frame_idx=0, instances=[dict(
        track_id=5, bbox=np.array([10, 20, 40, 60]), keypoints=kp + 50, keypoints_raw=kp,
        keypoint_scores=np.array([0.9, 0.9, 0.1, 0.9, 0.9]))])]
    pred = result_frames(results, 3)
    assert len(pred) == 3 and len(pred[1].ids) == len(pred[2].ids) == 0
    assert pred[0].visible.tolist() == [[True, True, False, True, True]]
    np.testing.assert_allclose(pred[0].keypoints[0], kp)            # the raw keypoints
    m = tracking_metrics(gt, pred[:2], sigmas=SIGMAS)
    assert (m.matches, m.misses, m.false_positives) == (1, 0, 0)
    np.testing.assert_allclose(result_frames(results, 1, key='keypoints')[0].keypoints[0],
                               kp + 50)
