"""VideoPoseEstimator's pose OKS-NMS between the model and the tracker: two
boxes on one subject give one instance and one track id; separate subjects,
or the step switched off, keep every pose; ``customkpt video --pose-nms``."""
from __future__ import annotations

import numpy as np
import pytest

from customkpt.apis import VideoPoseEstimator
from customkpt.apis.video import DEFAULT_POSE_NMS_THR
from customkpt.meta import DEFAULT_SIGMA, default_sigmas

SIGMAS = [0.026, 0.062, 0.062, 0.089, 0.089]
SHAPE = np.array([[0.0, -0.4], [0.3, 0.0], [-0.3, 0.0], [0.15, 0.45], [-0.15, 0.45]])
FRAME = np.zeros((120, 320, 3), np.uint8)


class BoxPoses:
    """A stand-in model: for each box, the pose of its size at its centre;
    box ``i`` gets keypoint scores ``kpt_scores[i]`` (0.9 by default).
    Remembers its last output per box as ``last`` (like the outlier tool's
    flip predictor)."""

    meta = dict(keypoint_names=['head', 'lh', 'rh', 'lf', 'rf'], sigmas=SIGMAS)

    def __init__(self, kpt_scores=None):
        self.kpt_scores = kpt_scores
        self.last = None

    def __call__(self, img, bboxes, bbox_scores):
        boxes = np.asarray(bboxes, np.float32).reshape(-1, 4)
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        kpts = centres[:, None] + SHAPE[None] * (boxes[:, 2:3] - boxes[:, 0:1])[:, None]
        per_box = self.kpt_scores if self.kpt_scores is not None else [0.9] * len(boxes)
        scores = np.repeat(np.asarray(per_box, np.float32).reshape(-1, 1), 5, axis=1)
        self.last = dict(plain=np.arange(len(boxes)) * 10.0, flipped=np.arange(len(boxes)) * -1.0)
        return dict(keypoints=kpts.astype(np.float32), keypoint_scores=scores, bboxes=boxes,
                    bbox_scores=np.asarray(bbox_scores, np.float32).reshape(-1))


def fixed_boxes(boxes, scores):
    """A box provider giving the same boxes (moving right 2 px a frame)."""
    boxes = np.asarray(boxes, np.float32)

    def provider(frame, frame_idx, previous):
        return boxes + np.float32(2 * frame_idx) * np.array([1, 0, 1, 0], np.float32), \
            np.asarray(scores, np.float32)
    return provider


# One subject under two boxes: a tracking box and a slightly larger detector box.
SAME = [[40, 30, 100, 100], [38, 28, 102, 102]]
# Two subjects far apart.
APART = [[20, 30, 80, 100], [200, 30, 260, 100]]


def _run(est, frames=5):
    return [est.process(FRAME, t, t / 10) for t in range(frames)]


def test_two_boxes_on_one_subject_give_one_instance_and_one_track():
    est = VideoPoseEstimator(BoxPoses(), fixed_boxes(SAME, [0.6, 0.9]), tracker=dict(match='oks'))
    assert est.pose_nms_thr == DEFAULT_POSE_NMS_THR
    for result in _run(est):
        assert len(result['instances']) == 1
        inst = result['instances'][0]
        assert inst['track_id'] == 0 and inst['bbox_score'] == pytest.approx(0.9)
    assert est.kept.tolist() == [1]
    assert list(est.tracker.tracks) == [0]
    assert len(est.previous['bboxes']) == 1        # what the box provider follows next


def test_far_apart_subjects_are_both_kept():
    est = VideoPoseEstimator(BoxPoses(), fixed_boxes(APART, [0.6, 0.9]), tracker=dict(match='oks'),
                             pose_nms_thr=0.5)
    for result in _run(est):
        assert [i['track_id'] for i in result['instances']] == [0, 1]
    assert est.kept.tolist() == [0, 1]


@pytest.mark.parametrize('off', [None, 0, 0.0])
def test_switched_off_keeps_both_duplicates(off):
    est = VideoPoseEstimator(BoxPoses(), fixed_boxes(SAME, [0.6, 0.9]), tracker=dict(match='oks'),
                             pose_nms_thr=off)
    assert est.pose_nms_thr is None
    for result in _run(est):
        assert sorted(i['track_id'] for i in result['instances']) == [0, 1]


@pytest.mark.parametrize('box_scores,kpt_scores', [
    ([0.5, 1.0], [0.9, 0.6]),   # 0.45 < 0.6: the second, though its keypoints score lower
    ([1.0, 0.6], [0.5, 0.9]),   # 0.5 < 0.54: the second, though its box scores lower
])
def test_the_kept_pose_has_the_best_box_times_keypoint_score(box_scores, kpt_scores):
    est = VideoPoseEstimator(BoxPoses(kpt_scores), fixed_boxes(SAME, box_scores), tracker=None)
    result = est.process(FRAME, 0)
    assert est.kept.tolist() == [1]
    np.testing.assert_allclose(result['instances'][0]['bbox'], SAME[1])


def test_sigmas_from_the_meta_else_by_keypoint_name():
    est = VideoPoseEstimator(BoxPoses(), fixed_boxes(SAME, [1, 1]))
    assert est._nms_sigmas(5).tolist() == pytest.approx(SIGMAS)

    class Unsigmaed(BoxPoses):
        meta = dict(keypoint_names=['nose', 'l_wrist', 'tail', 'a', 'b'])

    est = VideoPoseEstimator(Unsigmaed(), fixed_boxes(SAME, [1, 1]))
    expected = default_sigmas(Unsigmaed.meta['keypoint_names'])
    assert est._nms_sigmas(5).tolist() == pytest.approx(expected.tolist())
    assert est._nms_sigmas(3).tolist() == pytest.approx([DEFAULT_SIGMA] * 3)
    assert len(est.process(FRAME, 0)['instances']) == 1


def test_bad_threshold_is_refused():
    with pytest.raises(ValueError, match='pose_nms_thr'):
        VideoPoseEstimator(BoxPoses(), fixed_boxes(SAME, [1, 1]), pose_nms_thr=1.5)


def test_the_outlier_tool_keeps_each_instance_with_its_own_flip_poses():
    from customkpt.apis.outliers import _FlipRecordingEstimator
    est = _FlipRecordingEstimator(BoxPoses(), fixed_boxes(SAME, [0.6, 0.9]), tracker=None)
    inst, = est.process(FRAME, 0)['instances']
    assert (inst['keypoints_plain'], inst['keypoints_flipped']) == (10.0, -1.0)   # box 1's


def test_the_cli_flag_reaches_the_estimator(monkeypatch):
    from customkpt.cli import video as tool
    monkeypatch.setattr(tool, 'build_predictor', lambda args: BoxPoses())
    base = ['in.mp4', '--onnx', 'm.onnx']
    assert tool.build_estimator(tool.parse_args(base + ['--pose-nms', '0.7'])).pose_nms_thr == 0.7
    assert tool.build_estimator(tool.parse_args(base + ['--pose-nms', '0'])).pose_nms_thr is None
    assert tool.build_estimator(tool.parse_args(base)).pose_nms_thr == DEFAULT_POSE_NMS_THR
    with pytest.raises(SystemExit):
        tool.parse_args(base + ['--pose-nms', '1.5'])
