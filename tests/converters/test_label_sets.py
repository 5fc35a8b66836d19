"""Reading repeated COCO labels and matching their instances."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from customkpt.converters.common import ConversionError
from customkpt.converters.label_sets import greedy_pairs, match_label_files, read_label_file

NAMES = ['nose', 'left_ear', 'right_ear']


def category(**extra):
    return {'id': 1, 'name': 'm', 'keypoints': list(NAMES), 'skeleton': [[1, 2]], **extra}


def ann(ann_id, image_id, points, box=None, **extra):
    kpts = []
    for p in points:
        kpts += [0, 0, 0] if p is None else [float(p[0]), float(p[1]), 2]
    out = dict(id=ann_id, image_id=image_id, category_id=1, keypoints=kpts, iscrowd=0)
    if box is not None:
        out.update(bbox=list(map(float, box)), area=float(box[2] * box[3]))
    return dict(out, **extra)


def write(path: Path, images, anns, cats=None) -> Path:
    path.write_text(json.dumps(dict(images=images, annotations=anns,
                                    categories=cats or [category()])))
    return path


def two_animals(shift=0.0):
    """Two instances far apart in one image, one in another."""
    a = [(10 + shift, 10), (20, 12), (5, 12)]
    b = [(210, 110 + shift), (220, 112), (205, 112)]
    c = [(50, 60), None, (45, 62)]
    return a, b, c


def test_instances_are_matched_by_file_name_and_box(tmp_path):
    a, b, c = two_animals()
    ref = write(tmp_path / 'a.json',
                [dict(id=1, file_name='img/x.jpg'), dict(id=2, file_name='img/y.jpg')],
                [ann(1, 1, a, (0, 0, 40, 30)), ann(2, 1, b, (200, 100, 40, 30)),
                 ann(3, 2, c, (30, 40, 40, 40))])
    a2, b2, c2 = two_animals(shift=1.5)
    # other image ids, other order, boxes a little off, a backslash path
    other = write(tmp_path / 'b.json',
                  [dict(id=7, file_name='img\\y.jpg'), dict(id=9, file_name='./img/x.jpg'),
                   dict(id=8, file_name='img/z.jpg')],
                  [ann(11, 9, b2, (202, 101, 38, 30)), ann(12, 7, c2, (31, 40, 40, 41)),
                   ann(13, 9, a2, (1, 0, 40, 29)), ann(14, 8, c2, (30, 40, 40, 40))])
    rep = match_label_files([read_label_file(ref), read_label_file(other)])
    assert rep.file_names == ['img/x.jpg', 'img/x.jpg', 'img/y.jpg']
    assert rep.common_images == 2 and rep.matched.tolist() == [3, 3]
    assert rep.totals.tolist() == [3, 4]
    np.testing.assert_allclose(rep.points[0, 1], a2)  # ref instance 1 <-> ann 13
    np.testing.assert_allclose(rep.points[1, 1], b2)  # ref instance 2 <-> ann 11
    assert rep.visible[2].tolist() == [[True, False, True]] * 2
    np.testing.assert_allclose(rep.areas, [(1200 + 1160) / 2, (1200 + 1140) / 2, (1600 + 1640) / 2])


def test_oks_matching_needs_no_boxes_and_thresholds_apply(tmp_path):
    a, b, _ = two_animals()
    images = [dict(id=1, file_name='x.jpg', width=400, height=300)]
    ref = write(tmp_path / 'a.json', images, [ann(1, 1, a), ann(2, 1, b)])
    far = [(p[0] + 60, p[1]) for p in a]   # a third animal, near nobody
    other = write(tmp_path / 'b.json', images, [ann(5, 1, b), ann(6, 1, far)])
    files = [read_label_file(ref), read_label_file(other)]
    rep = match_label_files(files, match='oks')
    assert len(rep.areas) == 1 and rep.matched.tolist() == [1, 1]
    np.testing.assert_allclose(rep.points[0, 0], b)
    rep_iou = match_label_files(files, match='iou', min_match=0.0)
    assert len(rep_iou.areas) == 2  # derived boxes: every pair counts at 0


def test_greedy_pairs_take_the_best_first():
    sim = np.array([[0.9, 0.8], [0.85, 0.1], [0.3, 0.4]])
    assert greedy_pairs(sim, 0.5) == [(0, 0)]
    assert greedy_pairs(sim, 0.05) == [(0, 0), (2, 1)]
    assert greedy_pairs(np.zeros((0, 3)), 0.5) == []


def test_three_files_and_scale_choices(tmp_path):
    a, _, _ = two_animals()
    images = [dict(id=1, file_name='x.jpg')]
    box = (0, 0, 40, 30)
    paths = [write(tmp_path / f'{i}.json', images, [ann(1, 1, a, box, area=500.0 + i)])
             for i in range(3)]
    rep = match_label_files([read_label_file(p) for p in paths])
    assert rep.points.shape == (1, 3, 3, 2) and rep.areas.tolist() == [501.0]
    rep_box = match_label_files([read_label_file(p, scale='box') for p in paths])
    assert rep_box.areas.tolist() == [1200.0]


def test_left_out_annotations_are_counted(tmp_path):
    a, b, c = two_animals()
    path = write(tmp_path / 'a.json', [dict(id=1, file_name='x.jpg')],
                 [ann(1, 1, a, (0, 0, 40, 30), iscrowd=1), ann(2, 1, [None] * 3),
                  ann(3, 1, b, (0, 0, 40, 30), area=0), dict(ann(4, 1, c), category_id=2),
                  ann(5, 1, c, (0, 0, 10, 10))])
    f = read_label_file(path)
    assert f.ann_ids == [5]
    assert dict(f.skipped) == {'crowd': 1, 'no labelled point': 1, 'area <= 0': 1,
                               'another category': 1}


@pytest.mark.parametrize('change, message', [
    (lambda d: d['annotations'][0].update(keypoints=[1, 2, 2]),
     r'a.json: annotation 1: "keypoints" must be 9 finite numbers'),
    (lambda d: d['annotations'][0].update(bbox=[0, 0, 'w', 5]),
     r'a.json: annotation 1: "bbox" must be 4 finite numbers'),
    (lambda d: d['annotations'][0].update(image_id=5),
     r'a.json: annotation 1: "image_id" 5 names no image'),
    (lambda d: d['images'].append(dict(id=2, file_name='x.jpg')),
     r"a.json: file_name 'x.jpg' appears in two images"),
    (lambda d: d['categories'].append(category(id=2)), r'a.json: 2 categories list keypoints'),
    (lambda d: d.pop('annotations'), r'a.json: not a COCO-keypoint file'),
])
def test_bad_files_name_file_record_and_field(tmp_path, change, message):
    a, _, _ = two_animals()
    data = dict(images=[dict(id=1, file_name='x.jpg')], annotations=[ann(1, 1, a)],
                categories=[category()])
    change(data)
    (tmp_path / 'a.json').write_text(json.dumps(data))
    with pytest.raises(ConversionError, match=message):
        read_label_file(tmp_path / 'a.json')


def test_files_must_define_the_same_points(tmp_path):
    a, _, _ = two_animals()
    images = [dict(id=1, file_name='x.jpg')]
    ref = write(tmp_path / 'a.json', images, [ann(1, 1, a, (0, 0, 40, 30))])
    cat = dict(category(), keypoints=['nose', 'ear_l', 'ear_r'])
    other = write(tmp_path / 'b.json', images, [ann(1, 1, a, (0, 0, 40, 30))], [cat])
    with pytest.raises(ConversionError, match=r"b.json labels the points \['nose', 'ear_l'"):
        match_label_files([read_label_file(ref), read_label_file(other)])
    with pytest.raises(ConversionError, match='at least two'):
        match_label_files([read_label_file(ref)])
