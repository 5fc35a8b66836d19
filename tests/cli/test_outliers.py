"""customkpt outliers and customkpt merge-labels end to end: a short demo clip,
a tiny model, Labelme and DeepLabCut files written, read back and merged."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from customkpt import cli
from customkpt.cli import merge_labels, outliers
from customkpt.cli.outlier_files import _annotation
from customkpt.converters.dlc_tables import read_csv_table
from customkpt.demo import KEYPOINT_NAMES, render_video_frame

from .demo_clip import CONFIG, FRAMES, REPO_ROOT, SIZE


def _train_json(path: Path) -> Path:
    """Labelled poses of other frames of the scene (for the pose term and merging)."""
    images, anns = [], []
    for t in range(40, 70):
        images.append(dict(id=t, file_name=f'train/img{t}.png', width=SIZE[0], height=SIZE[1]))
        for inst in render_video_frame(t, 0, SIZE)[1]:
            anns.append(dict(id=1000 + len(anns), image_id=t, category_id=1,
                             bbox=[float(v) for v in inst.bbox], area=1.0, iscrowd=0,
                             num_keypoints=5, keypoints=np.asarray(inst.keypoints).ravel()
                             .tolist()))
    cat = dict(id=1, name='self5', keypoints=list(KEYPOINT_NAMES), skeleton=[])
    path.write_text(json.dumps(dict(images=images, annotations=anns, categories=[cat])))
    return path


@pytest.fixture(scope='module')
def train_json(data):
    return _train_json(data['root'] / 'train.json')


@pytest.fixture(scope='module')
def picked(data, train_json):
    out = data['root'] / 'round1'
    res = subprocess.run(
        [sys.executable, '-m', 'customkpt.cli', 'outliers', str(data['video']), '--config',
         CONFIG, '--checkpoint', str(data['ckpt']), '--num-frames', '3', '--out', str(out),
         '--boxes', f'file:{data["dets"]}', '--train-json', str(train_json)],
        capture_output=True, text=True, timeout=240, cwd=str(REPO_ROOT))
    assert res.returncode == 0, res.stderr
    assert 'reading picked frames' in res.stderr  # the progress bars
    return out, res.stdout


def test_outliers_writes_the_report_and_both_label_formats(picked):
    out, stdout = picked
    assert 'pose term: ' in stdout and f'frames scored: {FRAMES} of {FRAMES} read' in stdout
    report = json.loads((out / 'outliers.json').read_text())
    assert len(report['picked']) == 3 and report['frames_scored'] == FRAMES
    frames = [p['frame_idx'] for p in report['picked']]
    scores = [p['score'] for p in report['picked']]
    assert scores == sorted(scores, reverse=True) and len(set(frames)) == 3
    assert set(report['picked'][0]['terms']) == {'confidence', 'flip', 'jump', 'pose'}
    names = sorted(p.name for p in (out / 'labelme' / 'clip').iterdir())
    assert names == sorted(f'img{f:02d}.{ext}' for f in frames for ext in ('json', 'png'))
    lm = json.loads((out / 'labelme' / 'clip' / f'img{frames[0]:02d}.json').read_text())
    assert [s['label'] for s in lm['shapes']] == list(KEYPOINT_NAMES) * 2  # two figures
    assert len({s['group_id'] for s in lm['shapes']}) == 2
    table = read_csv_table(out / 'dlc' / 'labeled-data' / 'clip' / 'CollectedData_customkpt.csv')
    assert table.multi_animal and len(table.rows) == 3
    img = cv2.imread(str(out / 'dlc' / 'labeled-data' / 'clip' / f'img{frames[0]:02d}.png'))
    assert img.shape == (SIZE[1], SIZE[0], 3)


@pytest.mark.parametrize('fmt', ['labelme', 'dlc'])
def test_corrected_labels_merge_into_the_training_json(picked, data, train_json, tmp_path, fmt,
                                                        capsys):
    out, _ = picked
    merged = tmp_path / 'merged.json'
    before = train_json.read_text()
    assert merge_labels.main([str(train_json), str(out / fmt), '--out', str(merged),
                              '--no-progress']) == 0
    assert train_json.read_text() == before
    coco = json.loads(merged.read_text())
    train = json.loads(before)
    assert len(coco['images']) == len(train['images']) + 3
    assert len(coco['annotations']) == len(train['annotations']) + 6
    new_imgs = coco['images'][len(train['images']):]
    assert [m['id'] for m in new_imgs] == [70, 71, 72]
    prefix = 'round1/labelme/clip/' if fmt == 'labelme' else 'round1/dlc/labeled-data/clip/'
    assert all(m['file_name'].startswith(prefix) for m in new_imgs)
    assert all((data['root'] / m['file_name']).is_file() for m in new_imgs)
    assert '3 images, 6 annotations added' in capsys.readouterr().out
    # Merging the same frames again is refused, the training json is never the output.
    with pytest.raises(Exception, match='is already in'):
        merge_labels.main([str(merged), str(out / fmt), '--out', str(tmp_path / 'm2.json'),
                           '--image-root', str(data['root']), '--no-progress'])
    with pytest.raises(Exception, match='is the training json'):
        merge_labels.main([str(merged), str(out / fmt), '--out', str(merged)])


def test_merge_refuses_another_keypoint_order(picked, train_json, tmp_path, capsys):
    out, _ = picked
    train = json.loads(train_json.read_text())
    names = train['categories'][0]['keypoints']
    names[1], names[2] = names[2], names[1]
    other = tmp_path / 'other.json'
    other.write_text(json.dumps(train))
    status = cli.run('merge-labels', [str(other), str(out / 'dlc'), '--out',
                                      str(tmp_path / 'x.json'), '--no-progress'])
    err = capsys.readouterr().err
    assert status == 2 and not (tmp_path / 'x.json').exists()
    assert "keypoint 1 is 'left_hand' but 'right_hand' in" in err
    assert len(err.strip().splitlines()) == 1


def test_outliers_needs_labelled_poses_or_no_pose(data, tmp_path, capsys):
    args = [str(data['video']), '--config', CONFIG, '--checkpoint', str(data['ckpt']),
            '--out', str(tmp_path / 'o'), '--train-json', str(tmp_path / 'none.json'),
            '--no-progress', '--max-frames', '2']
    with pytest.raises(Exception, match='the pose term needs labelled poses'):
        outliers.main(args)
    assert outliers.main(args + ['--no-pose', '--num-frames', '1', '--format', 'labelme']) == 0
    assert 'pose term: off' in capsys.readouterr().out
    assert not (tmp_path / 'o' / 'dlc').exists()
    assert len(list((tmp_path / 'o' / 'labelme' / 'clip').glob('*.json'))) == 1


def test_confident_frames_become_pseudo_labels_that_merge_and_load(data, train_json, tmp_path,
                                                                   capsys):
    from customkpt.apis import init_model
    from customkpt.datasets import CocoKeypointDataset
    from customkpt.meta import KeypointMeta
    out = tmp_path / 'pseudo'
    assert outliers.main([str(data['video']), '--config', CONFIG, '--checkpoint',
                          str(data['ckpt']), '--out', str(out), '--pick', 'confident',
                          '--num-frames', '3', '--format', 'coco', '--label-thr', '0',
                          '--boxes', f'file:{data["dets"]}', '--train-json', str(train_json),
                          '--no-progress']) == 0
    assert str(out / 'coco' / 'annotations.json') in capsys.readouterr().out
    report = json.loads((out / 'outliers.json').read_text())
    picked = [p['score'] for p in report['picked']]
    assert picked == sorted(picked) and report['settings']['pick'] == 'confident'
    assert max(picked) <= np.quantile([f['score'] for f in report['frames']], 0.25) + 1e-9
    assert not (out / 'labelme').exists() and not (out / 'dlc').exists()
    coco = json.loads((out / 'coco' / 'annotations.json').read_text())
    assert coco['categories'][0]['keypoints'] == list(KEYPOINT_NAMES)
    # The model's skeleton and flip pairs, written as COCO does (1-based links).
    meta = KeypointMeta.from_coco_category(coco['categories'][0], source='written')
    model_meta = init_model(CONFIG).dataset_meta
    assert meta.skeleton == [list(p) for p in model_meta['skeleton']] != []
    assert coco['categories'][0]['skeleton'] == [[a + 1, b + 1] for a, b in meta.skeleton]
    assert meta.flip_pairs == [list(p) for p in model_meta['flip_pairs']] != []
    assert sorted(m['frame_idx'] for m in coco['images']) == sorted(
        p['frame_idx'] for p in report['picked'])
    assert len(coco['annotations']) == 6                # two figures in each frame
    for ann in coco['annotations']:
        kpts = np.asarray(ann['keypoints']).reshape(-1, 3)
        assert (kpts[:, 2] == 2).all() and ann['num_keypoints'] == len(KEYPOINT_NAMES)
        assert len(ann['keypoint_scores']) == len(KEYPOINT_NAMES) and ann['bbox'][2] > 0
    merged = tmp_path / 'merged.json'
    assert merge_labels.main([str(train_json), str(out / 'coco' / 'annotations.json'),
                              '--out', str(merged), '--no-progress']) == 0
    assert len(json.loads(merged.read_text())['annotations']) == 60 + 6
    # The training json's own images are not on disk here: only the new records load.
    dataset = CocoKeypointDataset(ann_file=str(merged), data_root=str(data['root']),
                                  pipeline=[], skip_invalid=True)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert len(infos) == 6 and all('pseudo' in d['img_path'] and Path(d['img_path']).is_file()
                                   for d in infos)


def test_pseudo_label_annotation_keeps_the_points_that_score_enough():
    kpts = np.array([[10.0, 20.0], [30.0, 40.0], [50.0, 60.0], [np.nan, np.nan]])
    ann = _annotation(kpts, np.array([0.9, 0.3, 0.6, 0.9]), 0.5, 100, 100)
    np.testing.assert_allclose(np.reshape(ann['keypoints'], (4, 3)),
                               [[10, 20, 2], [0, 0, 0], [50, 60, 2], [0, 0, 0]])
    assert ann['num_keypoints'] == 2 and ann['keypoint_scores'] == [0.9, 0.3, 0.6, 0.9]
    x, y, w, h = ann['bbox']            # around the two kept points, padded, in the image
    assert 0 <= x < 10 and 0 <= y < 20 and x + w > 50 and y + h > 60
    assert x + w <= 100 and y + h <= 100 and ann['area'] == pytest.approx(w * h, rel=1e-4)
    assert _annotation(kpts, np.full(4, 0.1), 0.5, 100, 100) is None     # nothing left
    assert _annotation(kpts + 500, np.ones(4), 0.5, 100, 100) is None    # outside the image
