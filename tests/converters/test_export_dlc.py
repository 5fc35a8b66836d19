"""Writing back: COCO datasets and predictions as DeepLabCut tables, and
predictions as COCO json."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from customkpt.converters import (ConversionError, coco_to_dlc, convert_dlc, prediction_dataset,
                                  prediction_results, write_dlc_predictions, write_dlc_table)
from customkpt.converters.dlc_tables import labelled_point, read_csv_table

MIRROR = Path(__file__).resolve().parents[2] / '..' / 'shared' / 'data' / 'mirror-mouse'


def _frames(n, parts, individuals=None, seed=0):
    """Frames for ``make_dlc_project``: random points, a fifth unlabelled."""
    rng = np.random.default_rng(seed)
    keys = [(i, p) for i in individuals for p in parts] if individuals else list(parts)
    xy = rng.uniform(1, 60, (n, len(keys), 2))
    keep = rng.random((n, len(keys))) >= 0.2
    return [(f'img{f}.png', {k: tuple(xy[f, j]) for j, k in enumerate(keys) if keep[f, j]})
            for f in range(n)]


def _same_points(a: dict, b: dict) -> None:
    assert [i['file_name'] for i in a['images']] == [i['file_name'] for i in b['images']]
    assert a['categories'][0]['keypoints'] == b['categories'][0]['keypoints']
    assert [(x['image_id'], x['keypoints'], x.get('individual')) for x in a['annotations']] == \
        [(x['image_id'], x['keypoints'], x.get('individual')) for x in b['annotations']]


def test_dataset_round_trip_single_animal(make_dlc_project):
    parts = ['snout', 'leftear', 'rightear', 'tailbase']
    proj = make_dlc_project({'v1': _frames(6, parts, seed=1), 'v2': _frames(4, parts, seed=2)},
                            parts, index_cols={'v2': 3})
    first = convert_dlc(proj, progress=False)
    out = coco_to_dlc(first.coco, proj, scorer='back')
    assert out.path == proj / 'CollectedData_back.csv'
    assert (out.images, out.individuals) == (10, None)
    assert out.points == sum(a['num_keypoints'] for a in first.coco['annotations'])
    again = convert_dlc(out.path, progress=False)
    assert again.image_root == first.image_root
    _same_points(first.coco, again.coco)
    assert [a['bbox'] for a in again.coco['annotations']] == \
        [a['bbox'] for a in first.coco['annotations']]
    lines = out.path.read_text().splitlines()
    assert lines[:3] == ['scorer' + ',back' * 8,
                         'bodyparts,' + ','.join(p for p in parts for _ in 'xy'),
                         'coords' + ',x,y' * 4]
    assert lines[3].startswith('labeled-data/v1/img0.png,')


def test_dataset_round_trip_multi_animal_and_empty_image(make_dlc_project):
    parts, inds = ['head', 'tail'], ['mus1', 'mus2']
    frames = _frames(5, parts, inds, seed=3)
    frames[2] = (frames[2][0], {})           # an image nobody is labelled on
    proj = make_dlc_project({'v': frames}, parts, individuals=inds)
    first = convert_dlc(proj, progress=False)
    assert len(first.coco['images']) == 5
    out = coco_to_dlc(first.coco, proj)
    assert out.individuals == inds and out.images == 5
    again = convert_dlc(out.path, progress=False)
    _same_points(first.coco, again.coco)
    assert len(again.coco['images']) == 5   # the empty row is kept


def test_unnamed_instances_get_positional_individuals(tmp_path):
    coco = {'images': [{'id': 1, 'file_name': 'a.png'}, {'id': 2, 'file_name': 'b.png'}],
            'categories': [{'id': 1, 'name': 'x', 'keypoints': ['p', 'q']}],
            'annotations': [
                {'id': 2, 'image_id': 1, 'category_id': 1, 'keypoints': [1, 2, 2, 0, 0, 0]},
                {'id': 1, 'image_id': 1, 'category_id': 1, 'keypoints': [3, 4, 1, 5, 6, 2]},
                {'id': 3, 'image_id': 2, 'category_id': 1, 'keypoints': [7, 8, 2, 9, 9, 2]},
                {'id': 4, 'image_id': 2, 'category_id': 1, 'iscrowd': 1, 'keypoints': [0] * 6}]}
    out = coco_to_dlc(coco, tmp_path)
    assert out.individuals == ['individual1', 'individual2'] and out.skipped == {'crowd': 1}
    table = read_csv_table(out.path)
    (_, a, la), (_, b, lb) = table.rows
    assert labelled_point(table, a, ('individual1', 'p'), la) == (3.0, 4.0)  # by annotation id
    assert labelled_point(table, a, ('individual2', 'q'), la) is None
    assert labelled_point(table, b, ('individual1', 'q'), lb) == (9.0, 9.0)
    assert labelled_point(table, b, ('individual2', 'p'), lb) is None


def test_bad_datasets_name_the_record(tmp_path):
    cat = {'id': 1, 'name': 'x', 'keypoints': ['p', 'q']}
    good = {'images': [{'id': 1, 'file_name': 'a.png'}], 'categories': [cat],
            'annotations': [{'id': 7, 'image_id': 1, 'category_id': 1, 'keypoints': [1, 2, 2]}]}
    with pytest.raises(ConversionError, match=r'ann.json: annotation 7, field "keypoints": '
                                              r'expected 3\*K = 6 numbers'):
        coco_to_dlc(good, tmp_path, source='ann.json')
    good['annotations'][0].update(keypoints=[0] * 6, image_id=9)
    with pytest.raises(ConversionError, match=r'annotation 7, field "image_id": image 9'):
        coco_to_dlc(good, tmp_path)
    with pytest.raises(ConversionError, match='found 2 keypoint categories'):
        coco_to_dlc(dict(good, categories=[cat, dict(cat, id=2)]), tmp_path)
    with pytest.raises(ConversionError, match=r'images\[0\]: needs "id" and "file_name"'):
        coco_to_dlc(dict(good, images=[{'id': 1}]), tmp_path)
    with pytest.raises(ConversionError, match='without path separators'):
        coco_to_dlc(good, tmp_path, scorer='a/b')


def test_predictions_table(tmp_path):
    kpts = np.array([[[1.5, 2.0], [np.nan, np.nan]], [[3.0, 4.25], [5.0, 6.0]]])
    scores = np.array([[0.9, np.nan], [1.2, -0.1]])
    path = write_dlc_predictions(tmp_path / 'p.csv', ['f0.png', 'f1.png'], kpts, scores,
                                 ['a', 'b'], scorer='net')
    with open(path, newline='') as fh:
        rows = list(csv.reader(fh))
    assert rows == [['scorer'] + ['net'] * 6,
                    ['bodyparts', 'a', 'a', 'a', 'b', 'b', 'b'],
                    ['coords', 'x', 'y', 'likelihood', 'x', 'y', 'likelihood'],
                    ['f0.png', '1.5', '2.0', '0.9', '', '', ''],
                    ['f1.png', '3.0', '4.25', '1.0', '5.0', '6.0', '0.0']]
    table = read_csv_table(path)     # likelihoods are ignored when read as labels
    assert labelled_point(table, table.rows[1][1], (None, 'b'), 5) == (5.0, 6.0)
    with pytest.raises(ValueError, match=r'expected \(F, K, 2\) = \(2, 3, 2\)'):
        write_dlc_predictions(tmp_path / 'q.csv', ['a', 'b'], kpts, scores, ['a', 'b', 'c'])


def test_table_values_are_exact(tmp_path):
    pts = np.array([[[0.1 + 0.2, 101.900392541708]]])
    path = write_dlc_table(tmp_path / 't.csv', ['x.png'], pts, ['p'])
    table = read_csv_table(path)
    assert labelled_point(table, table.rows[0][1], (None, 'p'), 4) == (0.1 + 0.2,
                                                                       101.900392541708)


def test_predictions_as_coco_results_and_dataset(tmp_path):
    kpts = np.array([[[10.0, 12.0], [20.0, 22.0], [30.0, 5.0]],
                     [[np.nan, np.nan]] * 3,
                     [[4.0, 4.0], [6.0, 8.0], [9.0, 9.0]]])
    scores = np.array([[0.9, 0.3, 0.6], [np.nan] * 3, [0.1, 0.2, 0.4]])
    res = prediction_results([5, 6, 7], kpts, scores, category_id=3)
    assert [r['image_id'] for r in res] == [5, 7]
    assert res[0]['keypoints'] == [10.0, 12.0, 0.9, 20.0, 22.0, 0.3, 30.0, 5.0, 0.6]
    assert res[0]['score'] == pytest.approx(0.6) and res[0]['category_id'] == 3
    images = [{'file_name': f'f{i}.png', 'width': 64, 'height': 48, 'frame': i}
              for i in range(3)]
    coco = prediction_dataset(images, kpts, scores, ['nose', 'left_eye', 'right_eye'],
                              score_thr=0.5)
    assert coco['categories'][0]['flip_pairs'] == [[1, 2]]
    assert [i['frame'] for i in coco['images']] == [0, 1, 2]
    (ann,) = coco['annotations']          # frames 2 and 3 have nothing above 0.5
    assert ann['image_id'] == 1 and ann['keypoints'] == [10.0, 12.0, 2, 0, 0, 0, 30.0, 5.0, 2]
    json.dumps(coco)
    out = coco_to_dlc(coco, tmp_path)       # and on to a table
    assert out.points == 2 and out.images == 3


def test_real_mirror_mouse_round_trip(tmp_path):
    if not (MIRROR / 'CollectedData.csv').is_file():
        pytest.skip(f'real data not available: {MIRROR.resolve()} is absent')
    first = convert_dlc(MIRROR, progress=False)
    (tmp_path / 'labeled-data').symlink_to(MIRROR.resolve() / 'labeled-data')
    out = coco_to_dlc(first.coco, tmp_path, scorer='rick')
    again = convert_dlc(tmp_path, progress=False)
    _same_points(first.coco, again.coco)
    with open(MIRROR / 'CollectedData.csv', newline='') as fh:
        original = {r[0]: r[1:] for r in list(csv.reader(fh))[3:]}
    with open(out.path, newline='') as fh:
        written = list(csv.reader(fh))
    assert written[0] == ['scorer'] + ['rick'] * 34
    for row in written[3:]:
        assert [c and float(c) for c in row[1:]] == [c and float(c) for c in original[row[0]]]
