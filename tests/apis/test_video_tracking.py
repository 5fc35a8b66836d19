"""VideoPoseEstimator with the combined tracker: the definition's sigmas reach
it, and untracked instances (id -1) keep their raw keypoints."""
from __future__ import annotations

import numpy as np
import pytest

from customkpt.apis import VideoPoseEstimator

SIGMAS = [0.026, 0.062, 0.062, 0.089, 0.089]
SHAPE = np.array([[0.0, -0.4], [0.3, 0.0], [-0.3, 0.0], [0.15, 0.45], [-0.15, 0.45]])


class FixedPoses:
    """A stand-in model: for each box, the pose of its size at its centre,
    scored as the box's score says."""

    meta = dict(keypoint_names=['head', 'lh', 'rh', 'lf', 'rf'], sigmas=SIGMAS)

    def __call__(self, img, bboxes, bbox_scores):
        boxes = np.asarray(bboxes, np.float32).reshape(-1, 4)
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        kpts = centres[:, None] + SHAPE[None] * (boxes[:, 2:3] - boxes[:, 0:1])[:, None]
        scores = np.repeat(np.asarray(bbox_scores, np.float32).reshape(-1, 1), 5, axis=1)
        return dict(keypoints=kpts.astype(np.float32), keypoint_scores=scores, bboxes=boxes,
                    bbox_scores=np.asarray(bbox_scores, np.float32))


def _boxes(frame, frame_idx, previous):
    """A confident subject walking right and a faint one standing still."""
    x = 40.0 + 3 * frame_idx
    return (np.array([[x, 40, x + 60, 100], [200, 40, 260, 100]], np.float32),
            np.array([0.9, 0.2], np.float32))


def test_the_combined_tracker_gets_the_sigmas_and_skips_untracked_smoothing():
    est = VideoPoseEstimator(FixedPoses(), _boxes,
                             tracker=dict(match='combined', new_track_thr=0.5),
                             smoother=dict(type='EMAFilter', alpha=0.2), score_thr=0.1)
    assert est.tracker.sigmas.tolist() == SIGMAS
    assert est.tracker.motion
    frame = np.zeros((120, 320, 3), np.uint8)
    for t in range(4):
        result = est.process(frame, t, t / 10)
        first, faint = result['instances']
        assert (first['track_id'], faint['track_id']) == (0, -1)
        np.testing.assert_array_equal(faint['keypoints'], faint['keypoints_raw'])
    assert not np.allclose(first['keypoints'], first['keypoints_raw'])    # smoothed
    assert est.smoother.track_ids == [0]
    assert est.tracker.tracks[0].velocity[0] == pytest.approx(3.0)


def test_the_cli_tracker_choice():
    from customkpt.cli import video as tool
    args = tool.parse_args(['in.mp4', '--onnx', 'm.onnx', '--tracker', 'combined',
                            '--track-thr', '0.4', '--max-lost', '5'])
    assert tool.tracker_config(args) == dict(match='combined', thr=0.4, max_lost=5,
                                             assign='hungarian')
