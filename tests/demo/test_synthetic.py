"""The synthetic self5 demo dataset: deterministic, valid COCO keypoints,
left/right consistent, a smooth video, and a CLI that keeps what exists."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import cv2
import numpy as np
import pytest

from customkpt.demo import SELF5_META, SIDE_MARGIN, make_self5_dataset, read_manifest
from customkpt.demo import (Figure, Palette, Pose, render_image, render_video_frame,
                            sample_pose)

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL = REPO_ROOT / 'tools' / 'make_demo_dataset.py'
W, H = 320, 240
SMALL: Dict[str, Any] = dict(num_train=8, num_val=3, video_frames=40, progress=False)
NAMES = ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot']


@pytest.fixture(scope='module')
def self5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small dataset with the default image size and seed."""
    return make_self5_dataset(tmp_path_factory.mktemp('self5') / 'data', **SMALL)


def _load(path: Path) -> Dict[str, Any]:
    return json.loads(path.read_text())


def _load_tool() -> Any:
    from customkpt.cli import make_demo
    return make_demo


# ------------------------------------------------------------ determinism
def test_same_seed_gives_identical_bytes_another_seed_differs(self5: Path,
                                                              tmp_path: Path) -> None:
    again = make_self5_dataset(tmp_path / 'again', **SMALL)
    for name in ('train_coco_joint.json', 'val_coco_joint.json', 'video_coco_joint.json',
                 'video/self5_video_gt.json', 'manifest.json', 'images/train_000005.jpg',
                 'images/val_000002.jpg', 'video/frames/000017.jpg'):
        assert (self5 / name).read_bytes() == (again / name).read_bytes(), name
    other = make_self5_dataset(tmp_path / 'other', seed=1, with_video=False,
                               **{k: v for k, v in SMALL.items() if k != 'video_frames'})
    assert (other / 'train_coco_joint.json').read_bytes() != \
        (self5 / 'train_coco_joint.json').read_bytes()
    assert (other / 'images/train_000005.jpg').read_bytes() != \
        (self5 / 'images/train_000005.jpg').read_bytes()


def test_an_image_does_not_depend_on_the_split_size(self5: Path, tmp_path: Path) -> None:
    fewer = make_self5_dataset(tmp_path / 'fewer', num_train=3, num_val=0, with_video=False,
                               progress=False)
    assert (fewer / 'images/train_000003.jpg').read_bytes() == \
        (self5 / 'images/train_000003.jpg').read_bytes()
    assert _load(fewer / 'val_coco_joint.json')['images'] == []


# ------------------------------------------------------------------ schema
@pytest.mark.parametrize('ann_file, img_root', [
    ('train_coco_joint.json', 'images'), ('val_coco_joint.json', 'images'),
    ('video_coco_joint.json', '.')])
def test_files_are_valid_coco_keypoints(self5: Path, ann_file: str, img_root: str) -> None:
    data = _load(self5 / ann_file)
    cat, = data['categories']
    assert cat['id'] == 1 and cat['name'] == 'self5' and cat['keypoints'] == NAMES
    assert cat['skeleton'] == [[1, 2], [1, 3], [1, 4], [1, 5]]        # 1-based
    assert cat['flip_pairs'] == [[1, 2], [3, 4]]                     # 0-based
    images = {im['id']: im for im in data['images']}
    assert len(images) == len(data['images']) > 0
    ann_ids = [a['id'] for a in data['annotations']]
    assert len(set(ann_ids)) == len(ann_ids) > 0
    for im in images.values():
        path = self5 / img_root / im['file_name']
        assert path.is_file(), path
        assert (im['width'], im['height']) == (W, H)
    first = cv2.imread(str(self5 / img_root / data['images'][0]['file_name']))
    assert first.shape == (H, W, 3)
    for a in data['annotations']:
        assert a['image_id'] in images and a['category_id'] == 1 and a['iscrowd'] == 0
        kps = np.asarray(a['keypoints'], float)
        assert kps.shape == (15,)
        kps = kps.reshape(5, 3)
        assert set(kps[:, 2]) <= {0, 1, 2}
        labelled = kps[:, 2] > 0
        assert a['num_keypoints'] == int(labelled.sum()) >= 1
        assert (kps[~labelled] == 0).all()
        x, y = kps[labelled, 0], kps[labelled, 1]
        assert ((x >= 0) & (x < W) & (y >= 0) & (y < H)).all()
        bx, by, bw, bh = a['bbox']
        assert bw > 0 and bh > 0 and bx >= 0 and by >= 0 and bx + bw <= W and by + bh <= H
        assert a['area'] == pytest.approx(bw * bh, abs=0.01)
        # every labelled point lies in its box
        assert ((x >= bx) & (x <= bx + bw) & (y >= by) & (y <= by + bh)).all()


def test_video_frames_are_a_coco_file_with_frame_ids(self5: Path) -> None:
    data = _load(self5 / 'video_coco_joint.json')
    assert [im['frame_id'] for im in data['images']] == list(range(SMALL['video_frames']))
    assert {im['video_id'] for im in data['images']} == {1}
    assert data['images'][3]['file_name'] == 'video/frames/000003.jpg'
    assert {a['track_id'] for a in data['annotations']} == {1, 2}


def test_the_meta_matches_the_files(self5: Path) -> None:
    from customkpt.meta import KeypointMeta
    meta = KeypointMeta.from_config(SELF5_META)
    assert meta.to_dict()['flip_indices'] == [0, 2, 1, 4, 3]
    cat = _load(self5 / 'train_coco_joint.json')['categories'][0]
    from_file = KeypointMeta.from_coco_category(cat)
    assert from_file.keypoint_names == meta.keypoint_names
    assert from_file.to_dict()['skeleton'] == SELF5_META['skeleton']
    assert from_file.to_dict()['flip_indices'] == [0, 2, 1, 4, 3]


def test_images_hold_occluded_and_cut_off_points() -> None:
    counts = np.zeros(3, int)
    sizes: List[float] = []
    for i in range(40):
        img, instances = render_image(np.random.default_rng([7, 0, i]))
        assert img.shape == (H, W, 3) and img.dtype == np.uint8
        assert 1 <= len(instances) <= 4
        for inst in instances:
            counts += np.bincount(inst.keypoints[:, 2].astype(int), minlength=3)
            sizes.append(inst.figure.height)
    assert counts[2] > 0.7 * counts.sum()          # most points visible ...
    assert counts[1] > 0 and counts[0] > 0         # ... some covered, some outside
    assert 40 <= min(sizes) and max(sizes) <= 0.95 * H and max(sizes) > 3 * min(sizes)


# --------------------------------------------------------------- left/right
def _to_figure_frame(points: np.ndarray, fig: Figure) -> np.ndarray:
    """Image pixels -> the figure's frame (x: the figure's left, y: down)."""
    a = math.radians(fig.angle)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return (points - np.asarray(fig.center)) @ rot / fig.height


def test_an_upright_figure_has_its_left_on_the_image_right() -> None:
    fig = Figure(Pose(), (160.0, 120.0), 100.0, 0.0, Palette.random(np.random.default_rng(0)))
    head, lh, rh, lf, rf = fig.keypoints()
    assert rh[0] < head[0] < lh[0] and rf[0] < head[0] < lf[0]
    assert head[1] < min(lh[1], rh[1]) < max(lf[1], rf[1])        # head up, feet down
    turned = Figure(Pose(), (160.0, 120.0), 100.0, 40.0, fig.palette)
    head, lh, rh, _, _ = turned.keypoints()
    side = np.array([math.cos(math.radians(40)), math.sin(math.radians(40))])
    assert (lh - rh) @ side > 0                    # the left side turns with the figure


def test_sampled_poses_keep_each_limb_on_its_side() -> None:
    rng = np.random.default_rng(3)
    raised = 0
    for _ in range(500):
        kps = sample_pose(rng).keypoints()
        assert kps[1, 0] >= SIDE_MARGIN - 1e-9 and kps[3, 0] >= SIDE_MARGIN - 1e-9
        assert kps[2, 0] <= -SIDE_MARGIN + 1e-9 and kps[4, 0] <= -SIDE_MARGIN + 1e-9
        raised += int(kps[1, 1] < kps[0, 1]) + int(kps[2, 1] < kps[0, 1])
    assert raised > 50                             # poses are varied: hands above the head


def test_labelled_left_points_lie_on_the_figures_left(self5: Path) -> None:
    data = _load(self5 / 'train_coco_joint.json')
    by_image: Dict[int, List[Dict[str, Any]]] = {}
    for a in data['annotations']:
        by_image.setdefault(a['image_id'], []).append(a)
    checked = 0
    for i in range(SMALL['num_train']):
        _, instances = render_image(np.random.default_rng([0, 0, i]))
        anns = by_image.get(i + 1, [])
        assert len(anns) == len(instances)
        for ann, inst in zip(anns, instances):
            kps = np.asarray(ann['keypoints'], float).reshape(5, 3)
            lab = kps[:, 2] > 0
            # the file holds the generator's figure ...
            np.testing.assert_allclose(kps[lab, :2], inst.figure.keypoints()[lab], atol=0.01)
            # ... and its labels sit on the figure's own sides
            local = _to_figure_frame(kps[:, :2], inst.figure)
            for k, sign in ((1, 1), (2, -1), (3, 1), (4, -1)):
                if lab[k]:
                    assert sign * local[k, 0] >= SIDE_MARGIN - 1e-3, (ann['id'], NAMES[k])
                    checked += 1
    assert checked > 20


# -------------------------------------------------------------------- video
def test_video_opens_and_its_truth_is_smooth(self5: Path) -> None:
    n = SMALL['video_frames']
    cap = cv2.VideoCapture(str(self5 / 'video' / 'self5_video.mp4'))
    assert cap.isOpened()
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == n
    read = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        assert frame.shape == (H, W, 3)
        read += 1
    cap.release()
    assert read == n

    gt = _load(self5 / 'video' / 'self5_video_gt.json')
    assert gt['num_frames'] == len(gt['frames']) == n and gt['fps'] == 25
    tracks: Dict[int, List[List[List[float]]]] = {}
    for t, frame in enumerate(gt['frames']):
        assert frame['frame_id'] == t
        assert sorted(i['track_id'] for i in frame['instances']) == [1, 2]
        for inst in frame['instances']:
            tracks.setdefault(inst['track_id'], []).append(inst['keypoints'])
    for tid, seq in tracks.items():
        xy = np.asarray(seq, float)[:, :, :2]                    # (T, 5, 2)
        step = np.linalg.norm(np.diff(xy, axis=0), axis=-1)
        accel = np.linalg.norm(np.diff(xy, n=2, axis=0), axis=-1)
        assert step.max() < 8.0, tid                             # px per frame
        assert accel.max() < 2.5, tid                            # no jumps
        assert step.mean() > 0.3, tid                            # it does move
    # the file's truth is the generator's
    _, inst = render_video_frame(11, 0, (W, H))
    np.testing.assert_allclose(
        np.asarray(gt['frames'][11]['instances'][0]['keypoints'])[:, :2],
        inst[0].true_keypoints, atol=0.01)


# ---------------------------------------------------------------------- CLI
def test_cli_skips_an_identical_dataset(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    tool = _load_tool()
    out = tmp_path / 'cli'
    args = ['--out', str(out), '--num-train', '4', '--num-val', '2', '--no-video',
            '--no-progress']
    first = tool.main(args)
    assert not first.skipped and first.counts['train_images'] == 4
    assert 'wrote' in capsys.readouterr().out
    img = out / 'images' / 'train_000004.jpg'
    stamp = img.stat().st_mtime_ns, (out / 'train_coco_joint.json').stat().st_mtime_ns

    second = tool.main(args)
    assert second.skipped and 'up to date' in capsys.readouterr().out
    assert (img.stat().st_mtime_ns, (out / 'train_coco_joint.json').stat().st_mtime_ns) == stamp

    assert not tool.main(args + ['--force']).skipped
    # other parameters: rebuilt, and the images the new set lacks are gone
    smaller = tool.main(['--out', str(out), '--num-train', '2', '--num-val', '2', '--no-video',
                         '--no-progress'])
    assert not smaller.skipped and not img.exists()
    assert read_manifest(out)['params']['num_train'] == 2
    # an incomplete dataset (a file lost) is rebuilt too
    (out / 'images' / 'train_000002.jpg').unlink()
    assert not tool.main(['--out', str(out), '--num-train', '2', '--num-val', '2',
                          '--no-video', '--no-progress']).skipped
    assert (out / 'images' / 'train_000002.jpg').is_file()


def test_cli_runs_as_a_script_outside_the_repo(tmp_path: Path) -> None:
    out = tmp_path / 'script'
    cmd = [sys.executable, str(TOOL), '--out', str(out), '--num-train', '2', '--num-val', '1',
           '--video-frames', '3', '--no-progress']
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'video/self5_video.mp4' in proc.stdout
    manifest = read_manifest(out)
    assert manifest['counts'] == dict(train_images=2, train_instances=manifest['counts']
                                      ['train_instances'], val_images=1,
                                      val_instances=manifest['counts']['val_instances'],
                                      video_frames=3, video_instances=6)
