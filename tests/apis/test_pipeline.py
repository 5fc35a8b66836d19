"""run_video: the frame loop, its writers, offline smoothing, Ctrl-C and timings."""
from __future__ import annotations

import json

import cv2
import pytest

from customkpt.apis import VideoOutputs, VideoPoseEstimator, open_source, run_video
from customkpt.apis.pipeline import STAGES
from customkpt.converters.dlc_tables import read_csv_table

from .conftest import SquareFinder, square_frame, write_video

FRAMES = 8


@pytest.fixture
def clip(tmp_path):
    return write_video(tmp_path / 'clip.mp4', [square_frame(10 + 6 * t, 40)
                                              for t in range(FRAMES)])


def _frames(path):
    cap = cv2.VideoCapture(str(path))
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    return count


def test_online_run_writes_every_output(clip, tmp_path):
    source = open_source(clip)
    est = VideoPoseEstimator(SquareFinder(), dict(type='FullFrameBoxes'),
                             tracker=dict(match='iou'), smoother=dict(type='EMAFilter', alpha=0.5))
    outputs = VideoOutputs.open(tmp_path / 'out', source, SquareFinder.meta)
    summary = run_video(source, est, outputs, progress=False, keep_results=True)
    stem = tmp_path / 'out' / 'clip_pose'
    assert summary.frames == FRAMES and summary.skipped == 0 and not summary.interrupted
    assert summary.outputs == [stem.with_suffix('.mp4'), stem.with_suffix('.json'),
                               stem.with_suffix('.jsonl'), stem.with_suffix('.csv')]
    assert _frames(stem.with_suffix('.mp4')) == FRAMES
    data = json.loads(stem.with_suffix('.json').read_text())
    assert data['num_frames'] == FRAMES and data['keypoint_names'] == SquareFinder.meta[
        'keypoint_names'] and data['fps'] == pytest.approx(10.0)
    assert len(read_csv_table(stem.with_suffix('.csv')).rows) == FRAMES
    # EMA lags the moving square: smoothed x trails the raw x after frame 0.
    last = summary.results[-1]['instances'][0]
    assert last['keypoints'][0, 0] < last['keypoints_raw'][0, 0]
    assert set(summary.timings) == set(STAGES)
    assert all(summary.timings[s] > 0 for s in ('decode', 'model', 'drawing', 'writing'))
    assert summary.seconds > 0 and summary.fps == pytest.approx(FRAMES / summary.seconds)


def test_offline_smoother_draws_a_second_pass(tmp_path):
    # A square moving right with +-2 px of jitter: the linear fit changes it.
    jitter = [0, 2, -2, 1, -1, 2, 0, -2]
    clip = write_video(tmp_path / 'clip.mp4', [square_frame(10 + 6 * t + jitter[t], 40)
                                              for t in range(FRAMES)])
    source = open_source(clip)
    est = VideoPoseEstimator(SquareFinder(), None, tracker=None,
                             smoother=dict(type='SavitzkyGolayFilter', window=5, order=1))
    outputs = VideoOutputs.open(tmp_path, source, SquareFinder.meta)
    summary = run_video(source, est, outputs, progress=False, keep_results=True)
    assert summary.frames == FRAMES and summary.notes == []
    assert _frames(outputs.video.path) == FRAMES
    data = json.loads(outputs.json.path.read_text())
    smoothed = [f['instances'][0]['keypoints'][0][0] for f in data['frames']]
    assert smoothed == pytest.approx([float(r['instances'][0]['keypoints'][0, 0])
                                      for r in summary.results], abs=1e-3)
    assert any(r['instances'][0]['keypoints'][0, 0] != r['instances'][0]['keypoints_raw'][0, 0]
               for r in summary.results)


def test_ctrl_c_keeps_and_closes_what_was_written(clip, tmp_path, monkeypatch):
    est = VideoPoseEstimator(SquareFinder(), None, tracker=None, smoother=None)
    original = VideoPoseEstimator.process

    def process(self, frame, frame_idx, timestamp=None):
        if frame_idx == 3:
            raise KeyboardInterrupt
        return original(self, frame, frame_idx, timestamp)

    monkeypatch.setattr(VideoPoseEstimator, 'process', process)
    source = open_source(clip)
    outputs = VideoOutputs.open(tmp_path, source, SquareFinder.meta, video=False)
    summary = run_video(source, est, outputs, progress=False)
    assert summary.interrupted and summary.frames == 3 and summary.results is None
    assert json.loads(outputs.json.path.read_text())['num_frames'] == 3
    assert len(read_csv_table(outputs.csv.path).rows) == 3
    assert outputs.video is None and not (tmp_path / 'clip_pose.mp4').exists()


def test_no_writers_and_an_error_closes_nothing_twice(clip, tmp_path):
    est = VideoPoseEstimator(SquareFinder(), None, tracker=None, smoother=None)
    summary = run_video(open_source(clip, max_frames=2), est, progress=False)
    assert summary.frames == 2 and summary.outputs == []

    def broken(frame, idx, prev):
        raise RuntimeError('box provider failed')

    source = open_source(clip)
    outputs = VideoOutputs.open(tmp_path, source, SquareFinder.meta)
    with pytest.raises(RuntimeError, match='box provider failed'):
        run_video(source, VideoPoseEstimator(SquareFinder(), broken), outputs, progress=False)
    assert json.loads(outputs.json.path.read_text())['num_frames'] == 0   # closed anyway


@pytest.mark.parametrize('signame', ['SIGINT', 'SIGTERM'])
def test_a_signal_while_writing_finishes_the_frame_everywhere(clip, tmp_path, monkeypatch,
                                                               signame):
    """Ctrl-C (or SIGTERM) arriving while frame 4 is being drawn: the frame
    is finished, the loop stops, and the summary, JSON, JSONL, CSV and mp4
    all hold the same 5 frames."""
    import os
    import signal

    from customkpt.apis import PoseVideoWriter, read_pose_jsonl
    original = PoseVideoWriter.write

    def write(self, image):
        if self.frames == 4:
            os.kill(os.getpid(), getattr(signal, signame))
        original(self, image)

    monkeypatch.setattr(PoseVideoWriter, 'write', write)
    source = open_source(clip)
    est = VideoPoseEstimator(SquareFinder(), None, tracker=None, smoother=None)
    outputs = VideoOutputs.open(tmp_path, source, SquareFinder.meta, segment_frames=2)
    summary = run_video(source, est, outputs, progress=False)
    assert summary.interrupted and summary.stopped_by == signame and summary.frames == 5
    assert json.loads(outputs.json.path.read_text())['num_frames'] == 5
    assert read_pose_jsonl(outputs.json.lines_path)['num_frames'] == 5
    assert len(read_csv_table(outputs.csv.path).rows) == 5
    assert _frames(outputs.video.path) == 5
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL   # handlers restored
