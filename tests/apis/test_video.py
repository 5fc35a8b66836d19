"""Video pipeline: frame sources, VideoPoseEstimator and the writers."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from customkpt.apis.boxes import KeypointTrackingBoxes
from customkpt.apis import (DlcCsvWriter, PoseJsonWriter, PoseVideoWriter,
                            VideoPoseEstimator, open_source, read_pose_jsonl)
from customkpt.converters.dlc_tables import read_csv_table

NAMES = ['tl', 'tr', 'br', 'bl', 'c']
META = dict(keypoint_names=NAMES, skeleton=[[0, 1], [1, 2], [2, 3], [3, 0]],
            sigmas=[0.05] * 5)


def square_frame(x: int, y: int, size: int = 20, shape=(120, 160)) -> np.ndarray:
    """A black frame with a white square whose top-left corner is (x, y)."""
    frame = np.zeros((*shape, 3), np.uint8)
    frame[y:y + size, x:x + size] = 255
    return frame


class SquareFinder:
    """A stand-in keypoint model: in each box, finds the white pixels and
    returns their corners and centre (score 0.9), or the box centre with
    score 0.05 when the box holds none. Records the boxes it was given."""

    meta = META

    def __init__(self):
        self.calls = []

    def __call__(self, img, bboxes, bbox_scores):
        boxes = np.asarray(bboxes, np.float32).reshape(-1, 4)
        self.calls.append(boxes.copy())
        kpts = np.zeros((len(boxes), 5, 2), np.float32)
        scores = np.zeros((len(boxes), 5), np.float32)
        for i, (x1, y1, x2, y2) in enumerate(boxes.astype(int)):
            ys, xs = np.nonzero(img[y1:y2, x1:x2, 0] > 128)
            if len(xs) == 0:
                kpts[i] = [(x1 + x2) / 2, (y1 + y2) / 2]
                scores[i] = 0.05
                continue
            l, r, t, b = xs.min() + x1, xs.max() + x1 + 1, ys.min() + y1, ys.max() + y1 + 1
            kpts[i] = [[l, t], [r, t], [r, b], [l, b], [(l + r) / 2, (t + b) / 2]]
            scores[i] = 0.9
        return dict(keypoints=kpts, keypoint_scores=scores, bboxes=boxes,
                    bbox_scores=np.asarray(bbox_scores, np.float32).reshape(-1))


# ------------------------------------------------------------ sources
def write_video(path: Path, frames) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10.0, (w, h))
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()
    return path


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


# ------------------------------------------------------------- writers
def _result(frame_idx, *tracks):
    return dict(frame_idx=frame_idx, timestamp=frame_idx / 10, instances=[
        dict(track_id=tid, bbox=np.array([0, 0, 50, 50], np.float32), bbox_score=1.0,
             keypoints=np.full((5, 2), value, np.float32),
             keypoint_scores=np.full(5, 0.5, np.float32),
             keypoints_raw=np.full((5, 2), value + 1, np.float32)) for tid, value in tracks])


def test_json_writer_lines_survive_and_final_json(tmp_path):
    writer = PoseJsonWriter(tmp_path / 'out' / 'clip_pose.json',
                            dict(source='clip.mp4', fps=10.0, keypoint_names=NAMES))
    writer.add(_result(0, (1, 5.0)))
    writer.add(_result(1, (1, 6.0), (2, 7.0)), file_name='f1.png')
    # As after a crash: the lines are there before close().
    with open(writer.lines_path, 'a') as fh:
        fh.write('{"frame_idx": 2, "insta')  # a line cut short
    data = read_pose_jsonl(writer.lines_path)
    assert data['num_frames'] == 2 and data['keypoint_names'] == NAMES
    assert data['frames'][1]['file_name'] == 'f1.png'
    path = writer.close(skipped_frames=[dict(frame_idx=5)])
    final = json.loads(path.read_text())
    assert final['source'] == 'clip.mp4' and final['skipped_frames'] == [dict(frame_idx=5)]
    assert [f['frame_idx'] for f in final['frames']] == [0, 1]
    inst = final['frames'][1]['instances'][1]
    assert inst['track_id'] == 2 and inst['keypoints'] == [[7.0, 7.0]] * 5
    assert inst['keypoints_raw'][0] == [8.0, 8.0] and inst['keypoint_scores'] == [0.5] * 5


def test_json_writer_replaces_frames_after_offline_smoothing(tmp_path):
    writer = PoseJsonWriter(tmp_path / 'a.json', dict(source='x'))
    writer.add(_result(0, (1, 5.0)))
    path = writer.close(results=[_result(0, (1, 9.0))], file_names={0: 'f0.png'})
    frame = json.loads(path.read_text())['frames'][0]
    assert frame['instances'][0]['keypoints'][0] == [9.0, 9.0] and frame['file_name'] == 'f0.png'


def test_dlc_csv_single_animal_readable(tmp_path):
    writer = DlcCsvWriter(tmp_path / 'one.csv', NAMES)
    for t in range(3):
        writer.add(_result(t, (4, 10.0 + t)))
    writer.add(dict(frame_idx=3, timestamp=None, instances=[]))
    table = read_csv_table(writer.close())
    assert not table.multi_animal and [bp for _, bp in table.order] == NAMES
    assert [parts for parts, _, _ in table.rows] == [('0',), ('1',), ('2',), ('3',)]
    xcol, ycol = table.columns[(None, 'br')]
    assert float(table.rows[2][1][xcol]) == 12.0 and float(table.rows[2][1][ycol]) == 12.0
    assert table.rows[3][1][xcol] == ''
    lines = (tmp_path / 'one.csv').read_text().splitlines()
    assert lines[0].startswith('scorer,customkpt') and lines[2].startswith('coords,x,y,likelihood')
    assert lines[3].split(',')[3] == '0.5000'


def test_dlc_csv_multi_animal_readable(tmp_path):
    writer = DlcCsvWriter(tmp_path / 'many.csv', NAMES)
    writer.add(_result(0, (1, 5.0)))
    writer.add(_result(1, (1, 6.0), (3, 20.0)))
    table = read_csv_table(writer.close())
    assert table.multi_animal
    assert {ind for ind, _ in table.order} == {'track1', 'track3'}
    xcol, _ = table.columns[('track3', 'c')]
    assert table.rows[0][1][xcol] == '' and float(table.rows[1][1][xcol]) == 20.0
    with pytest.raises(ValueError, match='3 keypoints'):
        writer.add(dict(frame_idx=2, instances=[dict(track_id=1, keypoints=np.zeros((3, 2)),
                                                     keypoint_scores=np.zeros(3))]))


def test_video_writer_draws_and_writes(tmp_path):
    writer = PoseVideoWriter(tmp_path / 'v.mp4', META, fps=5, score_thr=0.3)
    frame = np.zeros((60, 80, 3), np.uint8)
    result = _result(0, (1, 30.0))
    drawn = writer.draw(frame, result)
    assert drawn[30, 30].any() and not frame.any()   # a point drawn; input untouched
    for _ in range(4):
        writer.write(drawn)
    writer.write(np.zeros((30, 40, 3), np.uint8))    # other size: resized
    writer.close()
    writer.close()
    cap = cv2.VideoCapture(str(tmp_path / 'v.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
    assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 80
    cap.release()
    assert np.array_equal(writer.draw(frame, dict(frame_idx=0, instances=[])), frame)


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


def test_dlc_csv_likelihoods_clipped_to_one(tmp_path):
    writer = DlcCsvWriter(tmp_path / 'a.csv', NAMES)
    scores = np.array([1.0291, -0.01, 0.5, 1.0, np.nan])
    writer.add(dict(frame_idx=0, instances=[dict(track_id=0, keypoints=np.ones((5, 2)),
                                                 keypoint_scores=scores)]))
    table = read_csv_table(writer.close())
    (_, cells, _), = table.rows
    likelihoods = cells[2::3]
    assert likelihoods == ['1.0000', '0.0000', '0.5000', '1.0000', '']


def test_finish_rebuilds_outputs_of_a_killed_run(tmp_path):
    """What a SIGKILL leaves: the JSON Lines and the closed mp4 parts (here
    two parts of 3 frames; frame 6 was in the part being written). Finishing
    writes the JSON, the CSV and an mp4 of all 7 frames."""
    from customkpt.apis.finish import finish_run
    from customkpt.apis.segments import parts_dir

    frames = [square_frame(10 + 6 * t, 40) for t in range(8)]
    clip = write_video(tmp_path / 'clip.mp4', frames)
    stem = tmp_path / 'out' / 'clip_pose'
    json_writer = PoseJsonWriter(stem.with_suffix('.json'), dict(
        source=str(clip), kind='video', fps=10.0, keypoint_names=NAMES, skeleton=[]))
    video = PoseVideoWriter(stem.with_suffix('.mp4'), META, fps=10.0, segment_frames=3)
    json_writer.skip(dict(frame_idx=0))
    for t in range(1, 8):
        result = _result(t, (0, 5.0 + t))
        json_writer.add(result)
        video.write(video.draw(frames[t], result))
    assert len(list(parts_dir(video.path).glob('part*.mp4'))) == 3
    assert not video.path.exists() and not stem.with_suffix('.json').exists()
    json_writer._fh.close()   # the process dies: nothing else is closed
    done = finish_run(json_writer.lines_path)
    assert done.frames == 7 and done.video_frames == 7 and done.redrawn == 1
    data = json.loads(stem.with_suffix('.json').read_text())
    assert data['num_frames'] == 7 and data['skipped_frames'] == [dict(frame_idx=0)]
    assert len(read_csv_table(stem.with_suffix('.csv')).rows) == 7
    cap = cv2.VideoCapture(str(stem.with_suffix('.mp4')))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 7
    cap.release()
    assert not parts_dir(video.path).exists()


def test_video_writer_parts_join_into_one_file(tmp_path):
    writer = PoseVideoWriter(tmp_path / 'v.mp4', META, fps=10.0, segment_frames=4)
    for t in range(10):
        writer.write(square_frame(10 + 6 * t, 40))
    writer.close()
    cap = cv2.VideoCapture(str(tmp_path / 'v.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 10
    cap.release()
    assert list(tmp_path.iterdir()) == [tmp_path / 'v.mp4']
