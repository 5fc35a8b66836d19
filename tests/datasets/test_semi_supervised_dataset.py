"""SemiSupervisedDataset and semi_supervised_collate: labelled samples with
clips attached, laid out as one batch (labelled first, clips in frame order)."""
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from customkpt.datasets import SemiSupervisedDataset, semi_supervised_collate
from customkpt.demo import make_self5_dataset
from customkpt.registry import DATASETS, FUNCTIONS

CROP = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale', padding=1.25),
        dict(type='TopdownAffine', input_size=(48, 64)), dict(type='PackPoseInputs')]


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    return make_self5_dataset(tmp_path_factory.mktemp('semi') / 'self5', num_train=3,
                              num_val=0, video_frames=20, progress=False)


def _dataset(root, tmp_path, **kwargs):
    labelled = dict(type='CocoKeypointDataset', data_root=str(root),
                    ann_file='train_coco_joint.json', data_prefix=dict(img='images/'),
                    pipeline=CROP)
    clips = dict(type='VideoClipDataset', videos=[str(root / 'video' / 'self5_video.mp4')],
                 clip_length=3, num_clips=5, pipeline=CROP, cache_dir=str(tmp_path / 'cache'))
    return DATASETS.build(dict(type='SemiSupervisedDataset', dataset=labelled, clips=clips,
                               **kwargs))


def test_items_are_labelled_samples_with_a_share_of_clips(root, tmp_path):
    data = _dataset(root, tmp_path, clips_per_sample=0.5)
    n = len(data)
    assert n == len(data.dataset) and n >= 6
    carrying = [i for i in range(n) if data.has_clip(i)]
    assert len(carrying) == round(n * 0.5)
    assert max(np.diff(carrying)) <= 2                 # spread evenly
    np.random.seed(0)
    item = data[carrying[0]]
    assert len(item['clip_inputs']) == 3
    assert [s.metainfo['clip_frame'] for s in item['clip_samples']] == [0, 1, 2]
    assert 'clip_inputs' not in data[next(i for i in range(n) if not data.has_clip(i))]
    assert data.metainfo == data.dataset.metainfo
    assert data.metainfo['keypoint_names'][0] == 'head'


def test_every_item_has_a_clip_by_default_and_the_draws_follow_numpy(root, tmp_path):
    data = _dataset(root, tmp_path)
    assert all(data.has_clip(i) for i in range(len(data)))
    picks = []
    for _ in range(2):
        np.random.seed(3)
        picks.append([data[i]['clip_samples'][0].metainfo['clip_index'] for i in range(4)])
    assert picks[0] == picks[1] and len(set(picks[0])) > 1
    with pytest.raises(ValueError, match='clips_per_sample'):
        SemiSupervisedDataset(data.dataset, data.clips, clips_per_sample=0)


def test_collate_puts_labelled_crops_first_then_whole_clips(root, tmp_path):
    data = _dataset(root, tmp_path, clips_per_sample=0.5)
    assert FUNCTIONS.get('semi_supervised_collate') is semi_supervised_collate
    loader = DataLoader(data, batch_size=4, shuffle=False, collate_fn=semi_supervised_collate)
    batch = next(iter(loader))
    samples = batch['data_samples']
    assert len(batch['inputs']) == len(samples) == 4 + 3 * 2    # items 1 and 3 bring clips
    assert all(isinstance(x, torch.Tensor) and x.shape == (3, 64, 48) for x in batch['inputs'])
    flags = [bool(s.metainfo.get('unlabelled', False)) for s in samples]
    assert flags == [False] * 4 + [True] * 6
    assert [s.metainfo['clip_frame'] for s in samples[4:]] == [0, 1, 2, 0, 1, 2]


def test_labelled_poses_come_from_the_records(root, tmp_path):
    data = _dataset(root, tmp_path)
    kpts, visible, boxes = data.labelled_poses()
    assert kpts.shape == (len(data), 5, 2) and visible.shape == (len(data), 5)
    assert boxes.shape == (len(data), 4)
    first = data.dataset.get_data_info(0)
    np.testing.assert_array_equal(kpts[0], first['keypoints'][0])
    np.testing.assert_array_equal(boxes[0], first['bbox'][0])
