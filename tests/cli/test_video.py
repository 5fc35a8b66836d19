"""customkpt video on a short synthetic video with a tiny random model."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from customkpt.apis import VideoPoseEstimator, init_model
from customkpt.cli import video as tool
from customkpt.converters.dlc_tables import read_csv_table

from .demo_clip import CONFIG, FRAMES, REPO_ROOT, SIZE


def _model_args(data):
    return ['--config', CONFIG, '--checkpoint', str(data['ckpt']), '--no-progress']


def _frame_count(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    return count


def test_cli_full_frame_outputs(data, tmp_path):
    out = tmp_path / 'out'
    res = subprocess.run([sys.executable, '-m', 'customkpt.cli', 'video', str(data['video']),
                          *_model_args(data), '--boxes', 'full', '--tracker', 'iou',
                          '--smooth', 'oneeuro', '--beta', '0.01', '--out-dir', str(out)],
                         capture_output=True, text=True, timeout=120, cwd=str(REPO_ROOT))
    assert res.returncode == 0, res.stderr
    assert f'frames processed: {FRAMES}, skipped: 0' in res.stdout
    assert str(out / 'clip_pose.mp4') in res.stdout
    assert _frame_count(out / 'clip_pose.mp4') == FRAMES
    result = json.loads((out / 'clip_pose.json').read_text())
    assert result['num_frames'] == FRAMES and result['fps'] == pytest.approx(10.0)
    assert result['keypoint_names'][0] == 'head'
    assert result['settings']['smoother']['beta'] == 0.01
    assert [f['frame_idx'] for f in result['frames']] == list(range(FRAMES))
    for frame in result['frames']:
        (inst,) = frame['instances']
        assert inst['bbox'] == [0, 0, 160, 120]
        assert np.shape(inst['keypoints']) == (5, 2) and len(inst['keypoint_scores']) == 5
    # The same full-frame box every frame: one track for the whole clip.
    assert {f['instances'][0]['track_id'] for f in result['frames']} == {0}
    table = read_csv_table(out / 'clip_pose.csv')
    assert not table.multi_animal and len(table.rows) == FRAMES
    assert [bp for _, bp in table.order] == result['keypoint_names']
    xcol, ycol = table.columns[(None, 'left_foot')]
    last = result['frames'][-1]['instances'][0]['keypoints'][3]
    assert float(table.rows[-1][1][xcol]) == pytest.approx(last[0], abs=1e-3)
    assert float(table.rows[-1][1][ycol]) == pytest.approx(last[1], abs=1e-3)


def test_box_file_two_tracks(data, tmp_path, capsys):
    out = tmp_path / 'out'
    rc = tool.main([str(data['video']), *_model_args(data), '--boxes', f'file:{data["dets"]}',
                    '--tracker', 'iou', '--smooth', 'ema', '--alpha', '0.6', '--no-video',
                    '--out-dir', str(out)])
    assert rc == 0, capsys.readouterr().err
    assert not (out / 'clip_pose.mp4').exists()
    result = json.loads((out / 'clip_pose.json').read_text())
    first = {tuple(np.round(d['bbox'], 2)) for d in data['boxes'] if d['image_id'] == 0}
    got = {tuple(np.round(np.subtract(i['bbox'][2:], i['bbox'][:2]), 2))
           for i in result['frames'][0]['instances']}
    assert got == {b[2:] for b in first}   # box sizes as in the file (xywh -> xyxy)
    ids = [sorted(i['track_id'] for i in f['instances']) for f in result['frames']]
    assert all(len(i) == 2 for i in ids) and {tuple(i) for i in ids} == {(0, 1)}
    table = read_csv_table(out / 'clip_pose.csv')
    assert table.multi_animal and len(table.rows) == FRAMES
    assert sorted({ind for ind, _ in table.order}) == ['track0', 'track1']


def test_image_folder_corrupt_frame_and_savgol(data, tmp_path, capsys):
    folder = tmp_path / 'frames'
    folder.mkdir()
    for t, img in enumerate(data['frames'][:8]):
        cv2.imwrite(str(folder / f'frame{t}.jpg'), img)
    (folder / 'frame5.jpg').write_bytes(b'\xff\xd8 truncated')
    out = tmp_path / 'out'
    rc = tool.main([str(folder), *_model_args(data), '--smooth', 'savgol', '--window', '5',
                    '--fps', '10', '--boxes', 'track', '--out-dir', str(out)])
    printed = capsys.readouterr().out
    assert rc == 0
    assert 'frames processed: 7, skipped: 1' in printed and 'frame5.jpg' in printed
    result = json.loads((out / 'frames_pose.json').read_text())
    assert [f['frame_idx'] for f in result['frames']] == [0, 1, 2, 3, 4, 6, 7]
    assert result['frames'][5]['file_name'] == 'frame6.jpg'
    assert result['skipped_frames'] == [dict(frame_idx=5, file_name='frame5.jpg')]
    assert result['settings']['smoother']['type'] == 'SavitzkyGolayFilter'
    assert _frame_count(out / 'frames_pose.mp4') == 7   # drawn in a second pass
    assert len(read_csv_table(out / 'frames_pose.csv').rows) == 7


def test_missing_input_named(data, tmp_path, capsys):
    rc = tool.main([str(tmp_path / 'no_such_video.mp4'), *_model_args(data),
                    '--out-dir', str(tmp_path)])
    assert rc == 2
    assert 'no_such_video.mp4' in capsys.readouterr().err


def test_bad_arguments():
    with pytest.raises(SystemExit):
        tool.parse_args(['in.mp4'])   # no model
    with pytest.raises(SystemExit):
        tool.parse_args(['in.mp4', '--config', 'a.py', '--onnx', 'b.onnx'])
    args = tool.parse_args(['in.mp4', '--onnx', 'b.onnx', '--boxes', 'box:x'])
    with pytest.raises(ValueError, match='box:x'):
        tool.box_config(args)


def test_box_and_smoother_configs():
    args = tool.parse_args(['in.mp4', '--onnx', 'm.onnx', '--boxes', 'track+detector:y.onnx',
                            '--box-thr', '0.4', '--kpt-thr', '0.2', '--smooth', 'ema',
                            '--alpha', '0.3', '--tracker', 'none'])
    assert tool.box_config(args) == dict(
        type='KeypointTrackingBoxes', score_thr=0.2, padding=1.25, min_size=None,
        fallback=dict(type='OnnxDetectorBoxes', onnx_path='y.onnx', class_ids=[0],
                      score_thr=0.4), retry_interval=1)
    assert tool.smoother_config(args) == dict(type='EMAFilter', alpha=0.3)
    assert tool.tracker_config(args) is None


def test_detect_every_refreshes_the_tracked_boxes_from_the_detector():
    args = tool.parse_args(['in.mp4', '--onnx', 'm.onnx', '--boxes', 'track+detector:y.onnx',
                            '--detect-every', '5'])
    cfg = tool.box_config(args)
    assert cfg['refresh_interval'] == 5 and cfg['fallback']['onnx_path'] == 'y.onnx'
    for boxes, every in (('track', '5'), ('detector:y.onnx', '5'),
                         ('track+detector:y.onnx', '0')):
        args = tool.parse_args(['in.mp4', '--onnx', 'm.onnx', '--boxes', boxes,
                                '--detect-every', every])
        with pytest.raises(ValueError, match='--detect-every'):
            tool.box_config(args)


def test_detector_boxes(data, tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    # v8 layout (1, 4 + 1, 8): one box at input (32, 32, 32x16) of a 64x64
    # letterbox of the 160x120 frame (scale 0.4, 8 px top padding) -> frame
    # box (40, 40, 120, 80).
    out = np.zeros((1, 5, 8), np.float32)
    out[0, :, 0] = [32, 32, 32, 16, 0.9]
    graph = helper.make_graph(
        [helper.make_node('Constant', [], ['output0'], value=numpy_helper.from_array(out))],
        'det', [helper.make_tensor_value_info('images', TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info('output0', TensorProto.FLOAT, [1, 5, 8])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    (tmp_path / 'det.onnx').write_bytes(model.SerializeToString())
    rc = tool.main([str(data['video']), *_model_args(data), '--boxes',
                    f'detector:{tmp_path / "det.onnx"}', '--max-frames', '3', '--no-video',
                    '--out-dir', str(tmp_path / 'out')])
    assert rc == 0
    result = json.loads((tmp_path / 'out' / 'clip_pose.json').read_text())
    assert result['num_frames'] == 3
    for frame in result['frames']:
        (inst,) = frame['instances']
        assert inst['bbox'] == [40, 40, 120, 80] and inst['bbox_score'] == pytest.approx(0.9)


def test_interrupt_keeps_outputs(data, tmp_path, monkeypatch, capsys):
    original = VideoPoseEstimator.process

    def process(self, frame, frame_idx, timestamp=None):
        if frame_idx == 4:
            raise KeyboardInterrupt
        return original(self, frame, frame_idx, timestamp)

    monkeypatch.setattr(VideoPoseEstimator, 'process', process)
    out = tmp_path / 'out'
    rc = tool.main([str(data['video']), *_model_args(data), '--out-dir', str(out)])
    captured = capsys.readouterr()
    assert rc == 130 and 'interrupted' in captured.err
    assert 'frames processed: 4' in captured.out
    assert json.loads((out / 'clip_pose.json').read_text())['num_frames'] == 4
    assert _frame_count(out / 'clip_pose.mp4') == 4
    assert len(read_csv_table(out / 'clip_pose.csv').rows) == 4


def test_onnx_backend_matches_torch(data, tmp_path):
    """The same weights exported to ONNX give the same keypoints."""
    from customkpt.deploy import export_onnx
    model = init_model(CONFIG, data['ckpt'])
    onnx_path = export_onnx(model, tmp_path / 'tiny.onnx')['onnx']
    common = [str(data['video']), '--max-frames', '3', '--no-video', '--no-progress',
              '--tracker', 'none', '--smooth', 'none']
    assert tool.main(common + ['--onnx', str(onnx_path), '--batch-size', '1',
                               '--out-dir', str(tmp_path / 'onnx')]) == 0
    assert tool.main(common + ['--config', CONFIG, '--checkpoint', str(data['ckpt']),
                               '--out-dir', str(tmp_path / 'torch')]) == 0
    onnx_res = json.loads((tmp_path / 'onnx' / 'clip_pose.json').read_text())
    torch_res = json.loads((tmp_path / 'torch' / 'clip_pose.json').read_text())
    assert onnx_res['keypoint_names'] == torch_res['keypoint_names']
    for a, b in zip(onnx_res['frames'], torch_res['frames']):
        np.testing.assert_allclose(a['instances'][0]['keypoints'],
                                   b['instances'][0]['keypoints'], atol=0.05)
        np.testing.assert_allclose(a['instances'][0]['keypoint_scores'],
                                   b['instances'][0]['keypoint_scores'], atol=1e-3)


def test_track_box_options_reach_the_provider():
    from customkpt.apis.boxes import build_box_provider

    args = tool.parse_args(['in.mp4', '--onnx', 'm.onnx', '--boxes', 'track',
                            '--track-padding', '1.5', '--track-min-size', '160'])
    provider = build_box_provider(tool.box_config(args))
    assert provider.padding == 1.5 and provider.min_size == 160
    # Two confident points 20 px apart: the box is held at the minimum size.
    boxes, _ = provider.boxes_from_keypoints(np.array([[[100, 100], [120, 100]]], np.float32),
                                             np.array([[0.9, 0.9]], np.float32), (480, 640))
    np.testing.assert_allclose(boxes, [[30, 20, 190, 180]])


def test_track_defaults_on_an_unsure_model(data, tmp_path, monkeypatch, capsys):
    """The README command (--boxes track, One Euro, default sizes) with a
    random model: one forward pass a frame, a box never under the model's
    floor (its input over the box padding), and one track id."""
    from customkpt.apis.inference import TopdownPredictor
    calls = []
    original = TopdownPredictor.__call__

    def call(self, img, bboxes=None, bbox_scores=None):
        calls.append(len(bboxes))
        return original(self, img, bboxes, bbox_scores)

    monkeypatch.setattr(TopdownPredictor, '__call__', call)
    out = tmp_path / 'out'
    rc = tool.main([str(data['video']), *_model_args(data), '--boxes', 'track',
                    '--smooth', 'oneeuro', '--no-video', '--out-dir', str(out)])
    assert rc == 0, capsys.readouterr().err
    result = json.loads((out / 'clip_pose.json').read_text())
    insts = [i for f in result['frames'] for i in f['instances']]
    assert len(insts) == FRAMES and len(calls) <= FRAMES + 1
    assert {i['track_id'] for i in insts} == {0}
    floor = min(128 / 1.25, SIZE[1])   # hrnet_self5_cpu: 96 x 128 input, padding 1.25
    assert min(min(i['bbox'][2] - i['bbox'][0], i['bbox'][3] - i['bbox'][1])
               for i in insts) >= floor - 1e-3
    assert len(read_csv_table(out / 'clip_pose.csv').order) == 5   # one block of 5 parts


@pytest.fixture(scope='module')
def long_clip(data):
    path = data['root'] / 'long.mp4'
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10.0, SIZE)
    for t in range(400):
        writer.write(data['frames'][t % FRAMES])
    writer.release()
    return path


def _start_and_kill(data, clip, out, sig, after=6):
    """Start ``customkpt video`` on the clip; send ``sig`` once the JSONL
    holds ``after`` frames; returns the finished process."""
    import signal
    import time
    proc = subprocess.Popen([sys.executable, '-m', 'customkpt.cli', 'video', str(clip),
                             *_model_args(data), '--boxes', 'track', '--video-segment', '4',
                             '--out-dir', str(out)], cwd=str(REPO_ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = out / 'long_pose.jsonl'
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if lines.exists() and len(lines.read_text().splitlines()) > after:
            break
        time.sleep(0.05)
    assert proc.poll() is None, 'the run ended before it could be stopped'
    proc.send_signal(getattr(signal, sig))
    proc.communicate(timeout=120)
    return proc


def _counts(out):
    """Frames in the JSON, JSONL, CSV and mp4 of a run."""
    from customkpt.apis import read_pose_jsonl
    stem = out / 'long_pose'
    return (json.loads(stem.with_suffix('.json').read_text())['num_frames'],
            read_pose_jsonl(stem.with_suffix('.jsonl'))['num_frames'],
            len(read_csv_table(stem.with_suffix('.csv')).rows),
            _frame_count(stem.with_suffix('.mp4')))


def test_sigterm_finishes_every_output(data, long_clip, tmp_path):
    out = tmp_path / 'out'
    proc = _start_and_kill(data, long_clip, out, 'SIGTERM')
    assert proc.returncode == 143
    json_n, lines_n, csv_n, mp4_n = _counts(out)
    assert 6 <= json_n < 400 and json_n == lines_n == csv_n == mp4_n
    assert not (out / 'long_pose.mp4.parts').exists()


def test_sigkill_then_finish_rebuilds_every_output(data, long_clip, tmp_path, capsys):
    out = tmp_path / 'out'
    proc = _start_and_kill(data, long_clip, out, 'SIGKILL')
    assert proc.returncode == -9
    assert not (out / 'long_pose.json').exists() and (out / 'long_pose.mp4.parts').is_dir()
    assert tool.main(['--finish', str(out)]) == 0
    assert 'frames: ' in capsys.readouterr().out
    json_n, lines_n, csv_n, mp4_n = _counts(out)
    assert json_n >= 6 and json_n == lines_n == csv_n == mp4_n


def test_finish_needs_a_run(tmp_path, capsys):
    assert tool.main(['--finish', str(tmp_path)]) == 2
    assert 'no *_pose.jsonl' in capsys.readouterr().err
