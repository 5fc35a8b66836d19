"""Labelme -> COCO: groups, rectangles, name order, errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from customkpt.converters import ConversionError, convert_labelme


def _point(label: str, x: float, y: float, group=None) -> dict:
    return {'label': label, 'points': [[x, y]], 'group_id': group, 'shape_type': 'point',
            'flags': {}}


def _rect(x0: float, y0: float, x1: float, y1: float, group=None, label='cat') -> dict:
    return {'label': label, 'points': [[x0, y0], [x1, y1]], 'group_id': group,
            'shape_type': 'rectangle', 'flags': {}}


def _write(path: Path, image_path: str, shapes: list, size=(100, 80), with_size=True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {'version': '5.2.1', 'flags': {}, 'shapes': shapes, 'imagePath': image_path,
            'imageData': None}
    if with_size:
        data.update(imageWidth=size[0], imageHeight=size[1])
    path.write_text(json.dumps(data))


@pytest.fixture
def labelme_dir(tmp_path: Path, write_image) -> Path:
    src = tmp_path / 'lm'
    write_image(src / 'a.png', 100, 80)
    write_image(src / 'imgs' / 'b.png', 60, 40)
    write_image(src / 'sub' / 'c.png', 50, 50)
    _write(src / 'a.json', 'a.png', [
        _point('nose', 10, 12, 2), _point('left_eye', 14, 10, 2),
        _rect(90, 70, 60, 40, 1),      # corners in any order
        _point('right_eye', 70, 50, 1), _point('nose', 75, 55, 1),
        _rect(0, 0, 5, 5, 3),          # a box without points
        {'label': 'tail', 'points': [[1, 1], [2, 2], [3, 1]], 'group_id': 1,
         'shape_type': 'polygon'},
    ])
    _write(src / 'sub' / 'b.json', '../imgs/b.png', [
        _point('tail', 30, 20), _point('right_eye', 20, 10)], size=(60, 40))
    _write(src / 'sub' / 'c.json', 'c.png', [_point('nose', 25, 25)], with_size=False)
    (src / 'notes.json').write_text(json.dumps({'comment': 'not labelme'}))
    return src


def test_groups_rectangles_and_collected_names(labelme_dir):
    res = convert_labelme(labelme_dir, progress=False)
    coco = res.coco
    cat = coco['categories'][0]
    # first appearance: a.json (nose, left_eye, right_eye), then sub/b.json (tail)
    assert cat['keypoints'] == ['nose', 'left_eye', 'right_eye', 'tail']
    assert cat['flip_pairs'] == [[1, 2]]
    assert [(i['file_name'], i['width'], i['height'], i['folder']) for i in coco['images']] == [
        ('a.png', 100, 80, '.'), ('imgs/b.png', 60, 40, 'sub'), ('sub/c.png', 50, 50, 'sub')]
    anns = coco['annotations']
    assert [(a['image_id'], a.get('group_id')) for a in anns] == [(1, 1), (1, 2), (2, None),
                                                                  (3, None)]
    g1, g2, b, c = anns
    assert g1['bbox'] == [60.0, 40.0, 30.0, 30.0]       # from the rectangle
    assert g1['keypoints'] == [75.0, 55.0, 2, 0, 0, 0, 70.0, 50.0, 2, 0, 0, 0]
    assert g2['keypoints'][:6] == [10.0, 12.0, 2, 14.0, 10.0, 2]
    x, y, w, h = g2['bbox']                              # from the points, padded
    assert x < 10 and y < 10 and x + w > 14 and y + h > 12
    assert b['keypoints'] == [0, 0, 0, 0, 0, 0, 20.0, 10.0, 2, 30.0, 20.0, 2]
    assert c['num_keypoints'] == 1
    assert res.stats.skipped == {'no labelled point': 1}  # the rectangle of group 3
    assert any('not Labelme' in n for n in res.stats.notes)
    assert any('1 shape(s) other than point/rectangle' in n for n in res.stats.notes)
    assert res.image_root == labelme_dir.resolve()


def test_explicit_keypoint_order_and_unknown_label(labelme_dir):
    res = convert_labelme(labelme_dir, keypoints=['tail', 'nose', 'right_eye', 'left_eye'],
                          progress=False)
    assert res.coco['categories'][0]['keypoints'] == ['tail', 'nose', 'right_eye', 'left_eye']
    assert res.coco['annotations'][0]['keypoints'][3:9] == [75.0, 55.0, 2, 70.0, 50.0, 2]
    with pytest.raises(ConversionError, match=r"a.json: point label 'left_eye' is not a "
                                              'keypoint name'):
        convert_labelme(labelme_dir, keypoints=['nose', 'right_eye', 'tail'], progress=False)


def test_point_without_group_in_grouped_image_is_an_error(labelme_dir, write_image):
    bad = labelme_dir / 'sub' / 'd.json'
    write_image(labelme_dir / 'sub' / 'd.png', 40, 40)
    _write(bad, 'd.png', [_point('nose', 1, 1, 0), _point('tail', 5, 5, None)])
    with pytest.raises(ConversionError) as info:
        convert_labelme(labelme_dir, progress=False)
    msg = str(info.value)
    assert str(bad) in msg and "point 'tail'" in msg and 'no group_id' in msg


def test_duplicate_point_without_groups_and_missing_image(tmp_path):
    src = tmp_path / 'x'
    _write(src / 'a.json', 'a.png', [_point('nose', 1, 1), _point('nose', 5, 5)])
    with pytest.raises(ConversionError, match="keypoint 'nose' appears twice"):
        convert_labelme(src, progress=False)
    _write(src / 'a.json', 'a.png', [_point('nose', 1, 1)], with_size=False)
    with pytest.raises(ConversionError, match='a.json: no imageWidth/imageHeight and image '
                                              'not found'):
        convert_labelme(src, progress=False)


def test_images_without_an_instance_are_kept_and_counted(labelme_dir, write_image):
    write_image(labelme_dir / 'e1.png', 30, 20)
    write_image(labelme_dir / 'e2.png', 30, 20)
    _write(labelme_dir / 'e1.json', 'e1.png', [], size=(30, 20))
    _write(labelme_dir / 'e2.json', 'e2.png', [     # only a shape that is ignored
        {'label': 'tail', 'points': [[1, 1], [2, 2], [3, 1]], 'shape_type': 'polygon'}],
        size=(30, 20))
    res = convert_labelme(labelme_dir, progress=False)
    images = {i['file_name']: i['id'] for i in res.coco['images']}
    assert 'e1.png' in images and 'e2.png' in images and len(images) == 5
    annotated = {a['image_id'] for a in res.coco['annotations']}
    assert images['e1.png'] not in annotated and images['e2.png'] not in annotated
    assert '2 image(s) without a labelled instance kept (no annotation)' in res.stats.summary_notes()
    # the box-only group of a.json is an instance without points: skipped, not an image
    # without an instance
    assert res.stats.skipped == {'no labelled point': 1}
    res = convert_labelme(labelme_dir, progress=False, exclude=[labelme_dir / 'e1.json',
                                                                labelme_dir / 'e2.json'])
    assert not any('without a labelled instance' in n for n in res.stats.notes)
