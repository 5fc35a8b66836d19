"""Video pipeline: frame sources and VideoPoseEstimator (boxes, tracker,
smoother)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from customkpt.apis.boxes import KeypointTrackingBoxes
from customkpt.apis import VideoPoseEstimator, open_source

from .conftest import SquareFinder, square_frame, write_video


# ------------------------------------------------------------ sources
def test_video_source_frames_and_timestamps(tmp_path):
    path = write_video(tmp_path / 'clip.mp4', [square_frame(10 + 5 * t, 30) for t in range(12)])
    src = open_source(path)
    assert src.kind == 'video' and src.name == 'clip' and src.fps == pytest.approx(10.0)
    assert src.num_frames == 12 and src.size == (160, 120)
    items = list(src)
    assert [i for i, _, _ in items] == list(range(12))
    assert items[3][1] == pytest.approx(0.3)
    assert items[0][2].shape == (120, 160, 3) and src.skipped == 0
    assert len(list(open_source(path, max_frames=5))) == 5


def test_image_folder_skips_corrupt_frames(tmp_path):
    folder = tmp_path / 'frames'
    folder.mkdir()
    for t in (0, 1, 2, 3, 10):  # natural order: 10 comes last
        cv2.imwrite(str(folder / f'img{t}.png'), square_frame(5 * t, 10))
    (folder / 'img2.png').write_bytes(b'broken')  # corrupt frame
    (folder / 'notes.txt').write_text('not an image')
    src = open_source(folder, fps=5)
    assert src.kind == 'images' and src.num_frames == 5
    items = list(src)
    assert [i for i, _, _ in items] == [0, 1, 3, 4]
    assert [src.file_name(i) for i, _, _ in items] == ['img0.png', 'img1.png', 'img3.png',
                                                       'img10.png']
    assert items[-1][1] == pytest.approx(0.8)
    assert src.skipped == 1 and src.skipped_frames == [dict(frame_idx=2, file_name='img2.png')]
    assert open_source(folder)._iter_images().__next__()[1] is None  # no fps: no timestamps


def test_bad_sources_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.mp4'):
        open_source(tmp_path / 'nothere.mp4')
    (tmp_path / 'junk.mp4').write_bytes(b'\x00' * 100)
    with pytest.raises(OSError, match='junk.mp4'):
        open_source(tmp_path / 'junk.mp4')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='empty.*no images'):
        open_source(tmp_path / 'empty')


class _FlakyCapture:
    """A stand-in ``cv2.VideoCapture``: 200 declared frames; the frames in
    ``bad`` cannot be decoded, nor any frame at or after ``cut``; seeking
    works."""

    def __init__(self, bad=range(40, 120), cut=190):
        self.pos, self.bad, self.cut = 0, set(bad), cut

    def isOpened(self):
        return True

    def get(self, prop):
        return {cv2.CAP_PROP_FPS: 10.0, cv2.CAP_PROP_FRAME_COUNT: 200,
                cv2.CAP_PROP_FRAME_WIDTH: 8, cv2.CAP_PROP_FRAME_HEIGHT: 6}.get(prop, 0.0)

    def set(self, prop, value):
        assert prop == cv2.CAP_PROP_POS_FRAMES
        self.pos = int(value)
        return True

    def read(self):
        idx, self.pos = self.pos, self.pos + 1
        if idx in self.bad or idx >= self.cut:
            return False, None
        return True, np.full((6, 8, 3), idx % 256, np.uint8)

    def release(self):
        pass


def test_video_source_reads_past_bad_frames_and_counts_every_one(tmp_path, monkeypatch):
    """80 bad frames in the middle and 10 unreadable at the end: reading goes
    on after the bad run, and read + skipped == declared."""
    from customkpt.apis import sources
    path = tmp_path / 'flaky.mp4'
    path.write_bytes(b'x')
    monkeypatch.setattr(sources.cv2, 'VideoCapture', lambda *a: _FlakyCapture())
    source = open_source(path)
    got = [idx for idx, _, frame in source]
    assert len(source) == 200
    assert got[:40] == list(range(40)) and got[-1] == 189
    assert set(range(120, 190)) <= set(got)   # everything after the bad run is read
    assert len(got) + source.skipped == 200
    skipped = {s['frame_idx'] for s in source.skipped_frames}
    assert skipped == set(range(200)) - set(got) and len(skipped) == source.skipped
    assert source.unreadable_tail == 10


# ---------------------------------------------------------- estimator
def test_full_frame_no_tracker_no_smoother():
    model = SquareFinder()
    est = VideoPoseEstimator(model, dict(type='FullFrameBoxes'), tracker=None, smoother=None)
    result = est.process(square_frame(40, 50), 7, timestamp=0.7)
    assert result['frame_idx'] == 7 and result['timestamp'] == 0.7
    (inst,) = result['instances']
    assert inst['track_id'] == 0
    np.testing.assert_array_equal(model.calls[0], [[0, 0, 160, 120]])
    np.testing.assert_allclose(inst['keypoints_raw'][0], [40, 50])
    np.testing.assert_allclose(inst['keypoints'], inst['keypoints_raw'])
    assert inst['keypoint_scores'].shape == (5,) and inst['bbox'].shape == (4,)
    assert est.frames == 1 and est.timings['model'] > 0


def test_no_boxes_means_no_model_call():
    model = SquareFinder()
    empty = lambda frame, idx, prev: (np.zeros((0, 4), np.float32), np.zeros(0, np.float32))
    est = VideoPoseEstimator(model, empty, tracker=dict(match='iou'), smoother=None)
    result = est.process(square_frame(0, 0), 0)
    assert result['instances'] == [] and model.calls == []
    assert est.previous['keypoints'].shape == (0, 5, 2)


def test_tracking_boxes_follow_a_moving_subject():
    """The subject moves 6 px a frame; after the full-frame first frame each
    box is built from the last frame's keypoints and still holds the square."""
    model = SquareFinder()
    est = VideoPoseEstimator(model, dict(type='KeypointTrackingBoxes', padding=2.0),
                             tracker=dict(match='oks', thr=0.1), smoother=None)
    ids = []
    for t in range(12):
        x, y = 10 + 6 * t, 40 + 2 * t
        result = est.process(square_frame(x, y), t)
        (inst,) = result['instances']
        ids.append(inst['track_id'])
        np.testing.assert_allclose(inst['keypoints_raw'][0], [x, y])
        assert inst['keypoint_scores'].min() == pytest.approx(0.9)
    assert len(set(ids)) == 1
    assert isinstance(est.box_provider, KeypointTrackingBoxes) and not est.box_provider.lost
    # Frame 0: the whole frame, then (tracking was lost) again on the box its
    # keypoints give, the square padded 2x: 40 px wide.
    np.testing.assert_array_equal(model.calls[0], [[0, 0, 160, 120]])
    np.testing.assert_allclose(model.calls[1], [[0, 30, 40, 70]])
    # From frame 1 on the box is the previous frame's square, padded 2x.
    for t in range(1, 12):
        px, py = 10 + 6 * (t - 1), 40 + 2 * (t - 1)
        np.testing.assert_allclose(model.calls[t + 1], [[px - 10, py - 10, px + 30, py + 30]])
    assert len(model.calls) == 13


def test_tracking_boxes_without_refinement_use_the_fallback_box():
    model = SquareFinder()
    est = VideoPoseEstimator(model, dict(type='KeypointTrackingBoxes', padding=2.0,
                                         refine_lost=False), tracker=None, smoother=None)
    first = est.process(square_frame(10, 40), 0)
    np.testing.assert_array_equal(first['instances'][0]['bbox'], [0, 0, 160, 120])
    est.process(square_frame(16, 42), 1)
    assert len(model.calls) == 2


def test_tracking_boxes_recover_after_loss():
    model = SquareFinder()
    est = VideoPoseEstimator(model, dict(type='KeypointTrackingBoxes', padding=1.2),
                             tracker=None, smoother=None)
    est.process(square_frame(10, 10), 0)
    est.process(square_frame(120, 80), 1)   # jumped out of the tracked box: lost
    assert est.previous['keypoint_scores'].max() < 0.3
    result = est.process(square_frame(120, 80), 2)   # full frame again: found
    # calls: frame 0 full + refined, frame 1 tracked, frame 2 full + refined
    assert len(model.calls) == 5
    np.testing.assert_array_equal(model.calls[3], [[0, 0, 160, 120]])
    np.testing.assert_allclose(result['instances'][0]['keypoints_raw'][0], [120, 80])


class RecordingTracker:
    """Stand-in tracker: fixed ids per frame and lost ids."""

    def __init__(self, plan):
        self.plan = plan  # frame -> (ids, lost)
        self.lost_ids = []

    def update(self, bboxes, keypoints, scores, frame_idx):
        ids, self.lost_ids = self.plan[frame_idx]
        assert len(ids) == len(bboxes) and keypoints.shape == (len(bboxes), 5, 2)
        return np.array(ids)


class RecordingSmoother:
    """Stand-in smoother: adds 1000 x track id, records updates and drops."""

    def __init__(self):
        self.log = []

    def update(self, track_id, keypoints, scores, t=None):
        self.log.append(('update', track_id, t))
        return keypoints + 1000 * track_id

    def drop(self, track_id):
        self.log.append(('drop', track_id))

    def reset(self):
        self.log.append(('reset',))


def test_injected_tracker_and_smoother():
    two = lambda frame, idx, prev: (np.array([[0, 0, 80, 120], [80, 0, 160, 120]], np.float32),
                                    np.array([0.9, 0.8], np.float32))
    smoother = RecordingSmoother()
    tracker = RecordingTracker({0: ([3, 4], []), 1: ([3, 5], [4])})
    est = VideoPoseEstimator(SquareFinder(), two, tracker=tracker, smoother=smoother)
    est.process(square_frame(10, 10), 0, timestamp=0.0)
    result = est.process(square_frame(10, 10), 1, timestamp=0.04)
    assert smoother.log == [('reset',), ('update', 3, 0.0), ('update', 4, 0.0), ('drop', 4),
                            ('update', 3, 0.04), ('update', 5, 0.04)]
    a, b = result['instances']
    assert (a['track_id'], b['track_id']) == (3, 5)
    np.testing.assert_allclose(b['keypoints'], b['keypoints_raw'] + 5000)
    assert b['bbox_score'] == pytest.approx(0.8)


def test_real_tracker_and_ema_smoother():
    est = VideoPoseEstimator(SquareFinder(), dict(type='FullFrameBoxes'),
                             tracker=dict(match='oks'), smoother=dict(type='EMAFilter', alpha=0.5))
    est.process(square_frame(10, 10), 0)
    result = est.process(square_frame(20, 10), 1)
    inst = result['instances'][0]
    np.testing.assert_allclose(inst['keypoints_raw'][0], [20, 10])
    np.testing.assert_allclose(inst['keypoints'][0], [15, 10])   # 0.5 new + 0.5 old
    assert est.tracker.sigmas.tolist() == [0.05] * 5   # from the predictor's meta


def test_offline_savgol_smoothing():
    est = VideoPoseEstimator(SquareFinder(), None, tracker=None,
                             smoother=dict(type='SavitzkyGolayFilter', window=5, order=1))
    assert est.offline
    rng = np.random.default_rng(0)
    xs = [20 + 4 * t + int(rng.integers(-2, 3)) for t in range(15)]
    results = [est.process(square_frame(x, 30), t) for t, x in enumerate(xs)]
    # process() leaves keypoints raw; smooth_offline fits lines over 5 frames.
    assert all(np.array_equal(r['instances'][0]['keypoints'],
                              r['instances'][0]['keypoints_raw']) for r in results)
    smoothed = est.smooth_offline(results)
    raw_x = np.array([r['instances'][0]['keypoints_raw'][0, 0] for r in smoothed])
    new_x = np.array([r['instances'][0]['keypoints'][0, 0] for r in smoothed])
    truth = 20 + 4 * np.arange(15)
    assert np.abs(new_x - truth)[2:-2].mean() < np.abs(raw_x - truth)[2:-2].mean()
    assert np.array_equal(results[3]['instances'][0]['keypoints'],
                          results[3]['instances'][0]['keypoints_raw'])  # input untouched


class _SidecarFinder(SquareFinder):
    """SquareFinder with an ONNX-style sidecar: a 192 x 256 input, boxes
    padded 1.25 before cropping."""

    info = dict(input_size=[192, 256], bbox_padding=1.25)


def test_tracking_box_floor_comes_from_the_model_input():
    """Left at its default, the smallest box side is the model input over
    its padding (256 / 1.25 = 204.8 px): the 20 px square never gets a box
    smaller than that, however tight its points."""
    from customkpt.apis.video import model_box_floor

    model = _SidecarFinder()
    assert model_box_floor(model) == pytest.approx(204.8)
    assert model_box_floor(SquareFinder()) is None
    est = VideoPoseEstimator(model, dict(type='KeypointTrackingBoxes'), tracker=None,
                             smoother=None)
    assert est.box_provider.min_size == pytest.approx(204.8)
    for t in range(5):
        est.process(square_frame(100 + 10 * t, 150, shape=(300, 400)), t)
    for boxes in model.calls[1:]:
        sides = boxes[:, 2:] - boxes[:, :2]
        np.testing.assert_allclose(sides, [[204.8, 204.8]], rtol=1e-5)
    # A size given explicitly is kept.
    est = VideoPoseEstimator(model, dict(type='KeypointTrackingBoxes', min_size=50))
    assert est.box_provider.min_size == 50


def test_weak_model_frames_keep_one_track_id():
    """A model with no confident point: its poses cannot be compared by OKS,
    so the frames are matched by box and keep one id."""
    class Unsure(SquareFinder):
        def __call__(self, img, bboxes, bbox_scores):
            out = super().__call__(img, bboxes, bbox_scores)
            out['keypoint_scores'] = np.full_like(out['keypoint_scores'], 0.05)
            return out

    est = VideoPoseEstimator(Unsure(), dict(type='KeypointTrackingBoxes'),
                             tracker=dict(match='oks'), smoother=dict(type='OneEuroFilter'))
    ids = {inst['track_id'] for t in range(10)
           for inst in est.process(square_frame(10 + 3 * t, 40), t, t / 10)['instances']}
    assert ids == {0}
    assert len(est.predictor.calls) == 10   # the whole frame once, then held: one pass a frame
