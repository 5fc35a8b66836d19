"""customkpt.apis.outliers: the flip pair of predictions, the labelled poses,
and the scoring pass over a video with a tiny model."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from customkpt.apis import TopdownPredictor, init_model, open_source
from customkpt.apis.outliers import (FlipPairPredictor, find_outliers, fit_label_subspace,
                                     read_label_poses, training_ann_file)
from customkpt.core.flip import flip_boxes, flip_keypoints

from .conftest import square_frame, write_video

CONFIG = 'configs/hrnet_self5_cpu.py'
NAMES = ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot']


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return init_model(CONFIG)


def _image(seed=0, h=120, w=160):
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize('config', [CONFIG, 'configs/rtmpose_t_self5_cpu.py'])
def test_flip_pair_is_the_plain_and_the_mirrored_run(config):
    torch.manual_seed(0)
    model = init_model(config)  # HRNet heatmaps, RTMPose SimCC
    pair = FlipPairPredictor(model)
    assert model.test_cfg['flip_test'] is False
    plain = TopdownPredictor(model)
    img = _image()
    boxes = np.array([[10, 20, 90, 110], [60, 5, 150, 100]], np.float32)
    out = pair(img, boxes)
    ref = plain(img, boxes)
    np.testing.assert_allclose(pair.last['plain'], ref['keypoints'], atol=1e-4)
    mirrored = plain(np.ascontiguousarray(img[:, ::-1]), flip_boxes(boxes, 160))
    back, _ = flip_keypoints(mirrored['keypoints'], None, 160, [0, 2, 1, 4, 3])
    np.testing.assert_allclose(pair.last['flipped'], back, atol=1e-4)
    np.testing.assert_allclose(out['keypoints'], (ref['keypoints'] + back) / 2, atol=1e-4)
    # Scores are swapped back with their points before averaging.
    swapped = mirrored['keypoint_scores'][:, [0, 2, 1, 4, 3]]
    np.testing.assert_allclose(out['keypoint_scores'],
                               (ref['keypoint_scores'] + swapped) / 2, atol=1e-5)
    np.testing.assert_array_equal(out['bboxes'], ref['bboxes'])


def test_a_model_configured_without_flip_test_is_run_once_and_not_mirrored():
    torch.manual_seed(0)
    model = init_model(CONFIG, cfg_options={'flip_test': False})
    model.dataset_meta = dict(model.dataset_meta, flip_indices=None)  # no table needed
    pair = FlipPairPredictor(model)
    assert pair.mirror is False and model.test_cfg['flip_test'] is False
    img = _image(1)
    boxes = np.array([[10, 20, 90, 110]], np.float32)
    out = pair(img, boxes)
    ref = TopdownPredictor(model)(img, boxes)
    np.testing.assert_allclose(out['keypoints'], ref['keypoints'], atol=1e-5)
    np.testing.assert_array_equal(pair.last['flipped'], pair.last['plain'])


def _label_file(path, names=NAMES):
    rng = np.random.default_rng(0)
    anns = []
    for i in range(30):
        kpts = np.concatenate([rng.uniform(0, 100, (5, 2)), np.full((5, 1), 2.0)], axis=1)
        if i % 3 == 0:
            kpts[4] = 0  # incomplete: left out of the fit
        anns.append(dict(id=i + 1, image_id=1, category_id=7, keypoints=kpts.ravel().tolist()))
    anns.append(dict(id=99, image_id=1, category_id=7, iscrowd=1, keypoints=[1] * 15))
    path.write_text(json.dumps(dict(images=[dict(id=1, file_name='a.png')], annotations=anns,
                                    categories=[dict(id=7, name='x', keypoints=names)])))
    return path


def test_label_poses_and_their_subspace(tmp_path):
    path = _label_file(tmp_path / 'train.json')
    poses, vis = read_label_poses(path, NAMES)
    assert poses.shape == (30, 5, 2) and vis.shape == (30, 5)  # crowd left out
    assert vis[0, 4] == 0 and vis[1].all()
    sub = fit_label_subspace(path, NAMES, variance=0.9)
    assert sub.num_samples == 20 and 0 < len(sub.components) < 10
    with pytest.raises(ValueError, match="no category with the model's keypoints"):
        read_label_poses(path, NAMES[::-1])
    with pytest.raises(FileNotFoundError, match='not found'):
        read_label_poses(tmp_path / 'none.json', NAMES)


def test_training_annotation_file_of_a_config(model):
    assert str(training_ann_file(model.cfg)) == 'data/self5/train_coco_joint.json'
    wrapped = dict(train_dataloader=dict(dataset=dict(type='RepeatDataset', dataset=dict(
        data_root='d/', ann_file='t.json'))))
    assert str(training_ann_file(wrapped)) == 'd/t.json'
    assert training_ann_file(dict()) is None


def test_find_outliers_scores_every_frame_of_a_clip(model, tmp_path):
    clip = write_video(tmp_path / 'clip.mp4', [square_frame(10 + 6 * t, 40) for t in range(8)])
    report = find_outliers(open_source(clip), model, num_frames=3, progress=False,
                           tracker=False)
    table = report.table
    assert report.summary.frames == 8 and len(table) == 8
    assert table.plain.shape == (8, 5, 2) and table.track_id.tolist() == [0] * 8
    np.testing.assert_allclose(table.keypoints, (table.plain + table.flipped) / 2, atol=1e-4)
    assert len(report.picked_frames) == 3 and len(set(report.picked_frames)) == 3
    best = report.scores.frame_score[report.picked]
    assert np.all(np.diff(best) <= 0) and best[0] == report.scores.frame_score.max()
    assert report.subspace is None and not report.scores.raw['pose'].any()


def test_find_outliers_can_pick_the_most_trusted_frames(model, tmp_path):
    clip = write_video(tmp_path / 'clip.mp4', [square_frame(10 + 6 * t, 40) for t in range(8)])
    report = find_outliers(open_source(clip), model, num_frames=2, progress=False,
                           tracker=False, pick='confident', top_fraction=0.25)
    low = report.scores.frame_score[report.picked]
    assert np.all(np.diff(low) >= 0) and low[0] == report.scores.frame_score.min()
    assert low[-1] <= np.sort(report.scores.frame_score)[1]   # the two lowest of eight
    with pytest.raises(ValueError, match="pick 'best'"):
        find_outliers(open_source(clip), model, num_frames=2, progress=False, pick='best')
