"""The synthetic self5 dataset: deterministic, valid, left/right consistent."""
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from customkpt.datasets import CocoKeypointDataset
from customkpt.demo import SELF5_META, make_self5_dataset
from customkpt.demo.synthetic import Pose, figure_joints

ROOT = Path(__file__).resolve().parents[2]
SMALL = dict(num_train=6, num_val=3, video_frames=12, progress=False)


@pytest.fixture(scope='module')
def self5(tmp_path_factory):
    return make_self5_dataset(tmp_path_factory.mktemp('self5'), **SMALL)


def test_same_seed_same_bytes_other_seed_differs(self5, tmp_path):
    again = make_self5_dataset(tmp_path / 'again', **SMALL)
    for name in ('train_coco_joint.json', 'val_coco_joint.json', 'video_coco_joint.json',
                 'images/train_000003.jpg', 'video/frames/000007.jpg'):
        assert (self5 / name).read_bytes() == (again / name).read_bytes(), name
    other = make_self5_dataset(tmp_path / 'other', seed=1, **SMALL)
    assert (other / 'train_coco_joint.json').read_bytes() != \
        (self5 / 'train_coco_joint.json').read_bytes()


def test_annotations_are_valid_coco_keypoints(self5):
    for split in ('train', 'val'):
        coco = json.loads((self5 / f'{split}_coco_joint.json').read_text())
        assert coco['categories'][0]['keypoints'] == SELF5_META['keypoint_names']
        assert coco['categories'][0]['flip_pairs'] == [[1, 2], [3, 4]]
        ids = [a['id'] for a in coco['annotations']]
        assert len(ids) == len(set(ids)) and len(ids) >= len(coco['images'])
        sizes = {im['id']: (im['width'], im['height']) for im in coco['images']}
        for im in coco['images']:
            img = cv2.imread(str(self5 / 'images' / im['file_name']))
            assert img.shape == (im['height'], im['width'], 3)
        for ann in coco['annotations']:
            w, h = sizes[ann['image_id']]
            kpts = np.reshape(ann['keypoints'], (5, 3))
            assert set(kpts[:, 2]) <= {0, 1, 2}
            assert ann['num_keypoints'] == int((kpts[:, 2] > 0).sum()) > 0
            x, y, bw, bh = ann['bbox']
            assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h and bw > 0 and bh > 0
            labelled = kpts[kpts[:, 2] > 0]
            assert np.all(labelled[:, 0] >= x - 1e-3) and np.all(labelled[:, 0] <= x + bw + 1e-3)
            assert np.all((kpts[kpts[:, 2] == 0, :2]) == 0)
        # Our own dataset class accepts it without a validation error.
        ds = CocoKeypointDataset(ann_file=str(self5 / f'{split}_coco_joint.json'),
                                 data_prefix=dict(img=str(self5 / 'images') + '/'),
                                 metainfo=dict(sigmas=SELF5_META['sigmas']), pipeline=[])
        assert len(ds) > 0 and ds.metainfo['flip_indices'] == [0, 2, 1, 4, 3]


def test_some_points_are_occluded_and_some_outside():
    from customkpt.demo.synthetic import render_image
    vis = []
    for i in range(40):
        _, anns = render_image(np.random.default_rng(i))
        vis += [v for a in anns for v in a['keypoints'][2::3]]
    vis = np.array(vis)
    assert (vis == 2).mean() > 0.6
    assert (vis == 1).sum() > 0 and (vis == 0).sum() > 0


def test_left_points_lie_on_the_figures_left():
    # The figure faces the camera: its left side is +x in its own frame, so
    # before rotation every left point has a larger x than its right partner.
    rng = np.random.default_rng(0)
    for _ in range(200):
        j = figure_joints(Pose.random(rng))
        assert j['left_hand'][0] > j['right_hand'][0]
        assert j['left_foot'][0] > j['right_foot'][0]


def test_video_truth_is_smooth_and_the_mp4_opens(self5):
    gt = json.loads((self5 / 'video' / 'self5_video_gt.json').read_text())
    assert len(gt['frames']) == SMALL['video_frames']
    tracks = {}
    for frame in gt['frames']:
        for inst in frame['instances']:
            tracks.setdefault(inst['track_id'], []).append(np.array(inst['keypoints'])[:, :2])
    assert len(tracks) == 2
    for seq in tracks.values():
        step = np.abs(np.diff(np.stack(seq), axis=0)).max()
        assert step < 12, step  # pixels per frame at 25 fps
    cap = cv2.VideoCapture(str(self5 / 'video' / 'self5_video.mp4'))
    frames = 0
    while cap.read()[0]:
        frames += 1
    assert frames == SMALL['video_frames']
    coco = json.loads((self5 / 'video_coco_joint.json').read_text())
    assert [im['frame_id'] for im in coco['images']] == list(range(SMALL['video_frames']))
    assert all((self5 / im['file_name']).is_file() for im in coco['images'])


def test_cli_keeps_an_existing_dataset(tmp_path):
    cmd = [sys.executable, str(ROOT / 'tools' / 'make_demo_dataset.py'), '--out',
           str(tmp_path / 'd'), '--num-train', '3', '--num-val', '2', '--no-video']
    subprocess.run(cmd, check=True, capture_output=True)
    first = (tmp_path / 'd' / 'images' / 'train_000001.jpg').stat().st_mtime_ns
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    assert (tmp_path / 'd' / 'images' / 'train_000001.jpg').stat().st_mtime_ns == first
    assert '"images": 3' in out.stdout
    subprocess.run(cmd + ['--force'], check=True, capture_output=True)
    assert (tmp_path / 'd' / 'images' / 'train_000001.jpg').stat().st_mtime_ns != first
