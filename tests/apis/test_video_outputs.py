"""Video outputs: the pose JSON, DeepLabCut CSV and drawn-video writers, and
finishing the outputs of a killed run."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from customkpt.apis import DlcCsvWriter, PoseJsonWriter, PoseVideoWriter, read_pose_jsonl
from customkpt.converters.dlc_tables import read_csv_table

from .conftest import META, NAMES, square_frame, write_video


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
