"""Multi-figure self5 data: exact counts, occlusion between figures, a video whose
figures cross with stable ids, determinism and ``make-demo --multi``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import numpy as np
import pytest

from customkpt.core.boxes import box_iou, xywh_to_xyxy
from customkpt.demo import Figure, Palette, Pose
from customkpt.demo.multi import render_multi_image
from customkpt.demo.multi_dataset import build_multi_dataset
from customkpt.demo.multi_video import make_walkers, render_multi_frame
from customkpt.demo.scene import render_figures

W, H = 320, 240
SMALL: Dict[str, Any] = dict(images_per_count=3, video_frames=150, progress=False)


@pytest.fixture(scope='module')
def multi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_multi_dataset(tmp_path_factory.mktemp('multi') / 'data', **SMALL).out_dir


def _load(path: Path) -> Dict[str, Any]:
    return json.loads(path.read_text())


def test_each_image_has_exactly_its_number_of_figures(multi: Path) -> None:
    data = _load(multi / 'multi_coco_joint.json')
    assert [im['num_figures'] for im in data['images']] == [1] * 3 + [2] * 3 + [4] * 3 + [8] * 3
    per_image: Dict[int, int] = {}
    for a in data['annotations']:
        per_image[a['image_id']] = per_image.get(a['image_id'], 0) + 1
        kps = np.asarray(a['keypoints'], float).reshape(5, 3)
        x, y, bw, bh = a['bbox']
        assert bw > 0 and bh > 0 and x >= 0 and y >= 0 and x + bw <= W and y + bh <= H
        lab = kps[:, 2] > 0
        assert a['num_keypoints'] == lab.sum() >= 1
        assert ((kps[lab, 0] >= x) & (kps[lab, 0] <= x + bw)).all()
    assert all(per_image[im['id']] == im['num_figures'] for im in data['images'])
    assert len({a['id'] for a in data['annotations']}) == len(data['annotations']) == 45
    for im in data['images']:
        assert (multi / 'images' / im['file_name']).is_file()


def test_a_figure_in_front_covers_the_one_behind() -> None:
    palette = Palette.random(np.random.default_rng(0))
    back = Figure(Pose(), (160.0, 120.0), 120.0, 0.0, palette)
    front = Figure(Pose(), (160.0, 120.0), 140.0, 0.0, palette)
    _, (b, f) = render_figures(np.random.default_rng(1), (W, H), [back, front],
                               occlusion_prob=0.0)
    assert f.keypoints[:, 2].tolist() == [2] * 5
    assert b.keypoints[0, 2] == 1                      # its head is behind the front torso/head
    moved = Figure(Pose(), (60.0, 120.0), 120.0, 0.0, palette)
    _, (b, _) = render_figures(np.random.default_rng(1), (W, H), [moved, front],
                               occlusion_prob=0.0)
    assert b.keypoints[:, 2].tolist() == [2] * 5       # side by side: nothing covered


def test_crowds_cover_points_and_the_covered_lie_under_a_figure_in_front() -> None:
    covered = 0
    for i in range(8):
        _, insts = render_multi_image(np.random.default_rng([9, i]), (W, H), 8,
                                      occlusion_prob=0.0)
        assert len(insts) == 8
        boxes = xywh_to_xyxy(np.stack([inst.bbox for inst in insts]), np.float64)
        for k, inst in enumerate(insts):
            for x, y, v in inst.keypoints:
                if v == 1:                             # no occluders: another figure covers it
                    covered += 1
                    later = boxes[k + 1:]
                    assert ((later[:, 0] <= x) & (x <= later[:, 2]) &
                            (later[:, 1] <= y) & (y <= later[:, 3])).any()
        extents = np.stack([inst.figure.extent() for inst in insts])
        iou = box_iou(extents, extents)
        np.fill_diagonal(iou, 0)
        assert 0.05 < iou.max() <= 0.5 + 1e-9          # they overlap, within the limit
    assert covered > 5


def test_video_truth_keeps_ids_through_crossings(multi: Path) -> None:
    gt = _load(multi / 'video' / 'multi_video_gt.json')
    assert gt['track_ids'] == [1, 2, 3, 4] and gt['num_frames'] == len(gt['frames']) == 150
    tracks: Dict[int, list] = {}
    overlaps = covered = 0
    for t, frame in enumerate(gt['frames']):
        assert frame['frame_id'] == t
        assert sorted(i['track_id'] for i in frame['instances']) == [1, 2, 3, 4]
        for inst in frame['instances']:
            tracks.setdefault(inst['track_id'], []).append(inst['keypoints'])
            covered += sum(v == 1 for _, _, v in inst['keypoints'])
        boxes = xywh_to_xyxy([i['bbox'] for i in frame['instances']], np.float64)
        iou = box_iou(boxes, boxes)
        np.fill_diagonal(iou, 0)
        overlaps += int(iou.max() > 0.5)
    assert overlaps > 10 and covered > 100                     # figures do cross and hide
    for tid, seq in tracks.items():
        xy = np.asarray(seq, float)[:, :, :2]                   # (T, 5, 2)
        assert np.linalg.norm(np.diff(xy, axis=0), axis=-1).max() < 8.0, tid   # no jumps
        assert np.linalg.norm(np.diff(xy, n=2, axis=0), axis=-1).max() < 2.5, tid
        centre = xy.mean(1)[:, 0]
        assert centre.max() - centre.min() > 0.5 * W, tid      # each walks across
    # walkers pass each other: the order in x of the first two flips, twice
    order = np.sign(np.asarray(tracks[1], float)[:, 0, 0] - np.asarray(tracks[2], float)[:, 0, 0])
    assert (np.diff(order) != 0).sum() == 2
    _, insts = render_multi_frame(40, 0, (W, H))
    by_id = {i['track_id']: i for i in gt['frames'][40]['instances']}
    for inst in insts:
        np.testing.assert_allclose(np.asarray(by_id[inst.track_id]['keypoints'])[:, :2],
                                   inst.true_keypoints, atol=0.01)


def test_video_coco_file_and_walkers(multi: Path) -> None:
    data = _load(multi / 'multi_video_coco_joint.json')
    assert [im['frame_id'] for im in data['images']] == list(range(150))
    assert {a['track_id'] for a in data['annotations']} == {1, 2, 3, 4}
    assert len(data['annotations']) == 600
    assert (multi / 'video' / 'multi_video.mp4').stat().st_size > 0
    assert [w.track_id for w in make_walkers(0, 3)] == [1, 2, 3]
    with pytest.raises(ValueError, match='num_figures must be 2..4'):
        make_walkers(0, 5)
    with pytest.raises(ValueError, match='figures_per_image must be in 1..254'):
        render_multi_image(np.random.default_rng(0), (W, H), 0)


def test_same_seed_same_bytes_and_a_kept_build(multi: Path, tmp_path: Path) -> None:
    again = build_multi_dataset(tmp_path / 'again', **SMALL)
    assert not again.skipped
    for name in ('multi_coco_joint.json', 'multi_video_coco_joint.json',
                 'video/multi_video_gt.json', 'manifest.json', 'images/multi_000011.jpg',
                 'video/frames/000042.jpg'):
        assert (multi / name).read_bytes() == (again.out_dir / name).read_bytes(), name
    assert build_multi_dataset(tmp_path / 'again', **SMALL).skipped
    other = build_multi_dataset(tmp_path / 'other', seed=1, images_per_count=1, video_frames=0,
                                progress=False)
    assert not (other.out_dir / 'video').exists()
    assert (other.out_dir / 'images/multi_000001.jpg').read_bytes() != \
        (multi / 'images/multi_000001.jpg').read_bytes()


def test_make_demo_multi_writes_its_own_folder(tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    from customkpt.cli import make_demo
    assert make_demo.parse_args([]).out == make_demo.DEFAULT_OUT
    assert make_demo.parse_args(['--multi']).out.endswith('self5_multi')
    out = tmp_path / 'm'
    result = make_demo.main(['--multi', '--out', str(out), '--figures-per-image', '2', '8',
                             '--images-per-count', '2', '--video-figures', '2',
                             '--video-frames', '5', '--no-progress'])
    assert result.counts == dict(multi_images=4, multi_instances=20, multi_video_frames=5,
                                 multi_video_instances=10)
    assert 'multi_coco_joint.json  4 images' in capsys.readouterr().out
    assert not (out / 'train_coco_joint.json').exists()
    with pytest.raises(SystemExit):
        make_demo.parse_args(['--multi', '--video-figures', '1'])
