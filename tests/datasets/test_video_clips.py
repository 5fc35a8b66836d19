"""VideoClipDataset on the demo video: seeded clips of consecutive frames,
cached losslessly, cropped by the test-time pipeline, one box per frame."""
import json

import cv2
import numpy as np
import pytest

from customkpt.datasets import VideoClipDataset
from customkpt.datasets.video_frames import VideoClipError, sample_clip_starts
from customkpt.demo import make_self5_dataset
from customkpt.registry import DATASETS

CROP = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale', padding=1.25),
        dict(type='TopdownAffine', input_size=(48, 64)), dict(type='PackPoseInputs')]
FRAMES = 30


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    root = make_self5_dataset(tmp_path_factory.mktemp('clips') / 'self5', num_train=0,
                              num_val=0, video_frames=FRAMES, progress=False)
    return root / 'video' / 'self5_video.mp4'


def _clips(video, tmp_path, **kwargs):
    args = dict(videos=[str(video)], clip_length=3, num_clips=4, pipeline=CROP,
                cache_dir=str(tmp_path / 'cache'))
    args.update(kwargs)
    return VideoClipDataset(**args)


def _all_frames(video):
    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            return frames
        frames.append(frame)


def test_clips_are_consecutive_seeded_and_spread_over_the_video(video, tmp_path):
    data = _clips(video, tmp_path, frame_stride=2)
    assert len(data) == 4
    starts = [data.get_data_info(i)['frame_idx'] for i in range(4)]
    assert all(f == [f[0], f[0] + 2, f[0] + 4] for f in starts)
    firsts = [f[0] for f in starts]
    span = FRAMES - 5 + 1                      # starts that leave room for 5 frames
    for quarter, first in enumerate(firsts):   # one start in each quarter of the starts
        assert np.floor(quarter * span / 4) <= first < (quarter + 1) * span / 4
    again = _clips(video, tmp_path / 'b', frame_stride=2)
    assert [again.get_data_info(i)['frame_idx'] for i in range(4)] == starts
    other = _clips(video, tmp_path / 'c', frame_stride=2, seed=1)
    assert [other.get_data_info(i)['frame_idx'] for i in range(4)] != starts


def test_an_item_is_a_clip_of_cropped_frames_marked_unlabelled(video, tmp_path):
    data = _clips(video, tmp_path)
    item = data[1]
    assert len(item['inputs']) == 3 and item['inputs'][0].shape == (3, 64, 48)
    metas = [s.metainfo for s in item['data_samples']]
    assert [m['clip_frame'] for m in metas] == [0, 1, 2]
    assert all(m['unlabelled'] and m['clip_length'] == 3 and m['clip_index'] == 1
               for m in metas)
    assert [m['frame_idx'] for m in metas] == data.get_data_info(1)['frame_idx']
    # Default boxes: the whole 320x240 frame.
    np.testing.assert_allclose(item['data_samples'][0].gt_instances.bboxes, [[0, 0, 320, 240]])
    assert tuple(metas[0]['input_size']) == (48, 64)


def test_cached_frames_are_the_video_frames(video, tmp_path):
    data = _clips(video, tmp_path)
    frames = _all_frames(video)
    info = data.get_data_info(2)
    for idx, path in zip(info['frame_idx'], info['img_path']):
        np.testing.assert_array_equal(cv2.imread(path), frames[idx])
    # A second dataset on the same cache decodes nothing: the files are kept.
    stamp = [p.stat().st_mtime_ns for p in (tmp_path / 'cache').rglob('*.png')]
    _clips(video, tmp_path)
    assert [p.stat().st_mtime_ns for p in (tmp_path / 'cache').rglob('*.png')] == stamp


def test_random_steps_draw_the_same_for_every_frame_of_a_clip(video, tmp_path):
    pipeline = CROP[:2] + [dict(type='RandomBBoxTransform', shift_prob=1.0)] + CROP[2:]
    data = _clips(video, tmp_path, pipeline=pipeline)
    np.random.seed(0)
    seen = set()
    for i in range(4):
        metas = [s.metainfo for s in data[i]['data_samples']]
        regions = {tuple(np.round(np.r_[m['input_center'], m['input_scale']], 4))
                   for m in metas}
        assert len(regions) == 1                       # one draw for the clip
        seen |= regions
    assert len(seen) > 1                               # but not for every clip
    flip = CROP[:2] + [dict(type='RandomFlip')] + CROP[2:]
    with pytest.raises(VideoClipError, match='RandomFlip'):
        _clips(video, tmp_path, pipeline=flip)


def test_fixed_box_and_boxes_from_a_result_json(video, tmp_path):
    data = _clips(video, tmp_path, boxes=[10, 20, 110, 220])
    np.testing.assert_allclose(data[0]['data_samples'][0].gt_instances.bboxes,
                               [[10, 20, 110, 220]])
    gt = json.loads((video.parent / 'self5_video_gt.json').read_text())
    frames = [dict(frame_idx=f['frame_id'], instances=[
        dict(bbox=inst['bbox'], bbox_score=0.5 + 0.1 * k) for k, inst in enumerate(
            f['instances'])]) for f in gt['frames'] if f['frame_id'] != 14]
    (tmp_path / 'self5_video_pose.json').write_text(json.dumps(dict(frames=frames)))
    data = _clips(video, tmp_path, boxes=str(tmp_path / '{stem}_pose.json'), num_clips=9)
    for i in range(len(data)):
        info = data.get_data_info(i)
        assert 14 not in info['frame_idx']             # a frame without a box drops its clip
        for idx, box in zip(info['frame_idx'], info['bbox']):
            best = gt['frames'][idx]['instances'][-1]['bbox']    # the highest score
            np.testing.assert_allclose(box[0], best, atol=1e-3)
    assert data.dropped >= 1 and len(data) + data.dropped == 9


def test_a_box_provider_config_is_asked_per_frame(video, tmp_path):
    data = _clips(video, tmp_path, boxes=dict(type='FullFrameBoxes'))
    np.testing.assert_allclose(data.get_data_info(0)['bbox'][0], [[0, 0, 320, 240]])
    with pytest.raises(VideoClipError, match='fallback'):
        _clips(video, tmp_path, boxes=dict(type='KeypointTrackingBoxes'))


def test_bad_inputs_name_what_is_wrong(video, tmp_path):
    with pytest.raises(FileNotFoundError, match='no video matches'):
        _clips(video, tmp_path, videos=[str(tmp_path / '*.mp4')])
    with pytest.raises(FileNotFoundError, match='missing.mp4'):
        _clips(video, tmp_path, videos=['missing.mp4'])
    with pytest.raises(VideoClipError, match='x2 > x1'):
        _clips(video, tmp_path, boxes=[10, 10, 5, 20])
    (tmp_path / 'bad.json').write_text('{"frames": [{"instances": []}]}')
    with pytest.raises(VideoClipError, match=r'bad.json: frames\[0\]'):
        _clips(video, tmp_path, boxes=str(tmp_path / 'bad.json'))
    with pytest.raises(VideoClipError, match='no usable clip'):
        _clips(video, tmp_path, clip_length=FRAMES + 1)


def test_glob_patterns_and_the_registry(video, tmp_path):
    data = DATASETS.build(dict(type='VideoClipDataset', videos=['video/*.mp4'],
                               data_root=str(video.parent.parent), num_clips=2,
                               pipeline=CROP, cache_dir=str(tmp_path / 'cache')))
    assert len(data) == 2 and data.get_data_info(0)['video'] == str(video)


def test_clip_starts_when_the_video_is_short():
    rng = np.random.default_rng(0)
    assert sample_clip_starts(10, 3, 100, rng) == list(range(8))   # every start, once
    assert sample_clip_starts(2, 3, 5, rng) == []
