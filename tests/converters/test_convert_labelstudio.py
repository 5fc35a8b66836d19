"""Label Studio JSON export -> COCO: percent coordinates, rectangles as
instances, image paths, several labels, errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from customkpt.cli.convert import main as convert_main
from customkpt.converters import ConversionError, convert_labelstudio
from customkpt.converters.labelstudio import UNANNOTATED, image_candidates
from customkpt.converters.tool_images import NO_IMAGE_FILE

W, H = 200, 100


def _kp(rid: str, name: str, x: float, y: float, parent: str | None = None) -> dict:
    out = {'original_width': W, 'original_height': H, 'image_rotation': 0,
           'value': {'x': x, 'y': y, 'width': 0.5, 'keypointlabels': [name]},
           'id': rid, 'from_name': 'kp', 'to_name': 'image', 'type': 'keypointlabels',
           'origin': 'manual'}
    if parent:
        out['parentID'] = parent
    return out


def _rect(rid: str, label: str, x, y, w, h, rotation=0) -> dict:
    return {'original_width': W, 'original_height': H, 'image_rotation': 0,
            'value': {'x': x, 'y': y, 'width': w, 'height': h, 'rotation': rotation,
                      'rectanglelabels': [label]},
            'id': rid, 'from_name': 'label', 'to_name': 'image', 'type': 'rectanglelabels'}


def _task(tid: int, image: str, results: list, cancelled=False, extra=()) -> dict:
    anns = [{'id': tid * 10, 'completed_by': 1, 'result': results, 'was_cancelled': cancelled,
             'ground_truth': False, 'lead_time': 3.2}]
    anns += [{'id': tid * 10 + 1, 'result': r, 'was_cancelled': False} for r in extra]
    return {'id': tid, 'annotations': anns, 'predictions': [], 'data': {'image': image},
            'meta': {}, 'inner_id': tid, 'project': 1}


@pytest.fixture
def export(tmp_path: Path, write_image) -> Path:
    media = tmp_path / 'media'
    write_image(media / 'frame1.png', W, H)           # uploaded as 3f2a9c1e-frame1.png
    write_image(media / 'sub' / 'frame2.png', W, H)
    write_image(media / 'frame3.png', W, H)
    tasks = [
        _task(1, '/data/upload/1/3f2a9c1e-frame1.png', [
            _rect('r1', 'mouse', 10, 10, 30, 60), _rect('r2', 'mouse', 50, 10, 40, 80),
            _kp('k1', 'nose', 20, 20),                    # inside r1
            _kp('k2', 'nose', 60, 20, parent='r2'),       # by parentID
            _kp('k3', 'tail', 35, 50, parent='r2'),       # inside r1, but its parent is r2
            _kp('k4', 'tail', 99, 99)]),                  # in no rectangle
        _task(2, '/data/upload/1/aaaaaaaa-frame2.png', [], cancelled=True),
        _task(3, '/data/local-files/?d=sub/frame2.png', [
            _rect('r9', 'mouse', 0, 0, 100, 100), _kp('k9', 'tail', 50, 50)],
            extra=[[_kp('z', 'nose', 1, 1)]]),
        _task(4, '/data/upload/1/gone.png', [{'type': 'choices', 'value': {'choices': ['x']}}]),
    ]
    path = tmp_path / 'export.json'
    path.write_text(json.dumps(tasks))
    return path


def test_rectangles_group_points(export, tmp_path):
    res = convert_labelstudio(export, images_dir=tmp_path / 'media', progress=False)
    cat = res.coco['categories'][0]
    assert (cat['name'], cat['keypoints']) == ('mouse', ['nose', 'tail'])
    assert [i['file_name'] for i in res.coco['images']] == ['frame1.png', 'sub/frame2.png']
    r1, r2, r9 = res.coco['annotations']
    assert r1['keypoints'] == [40.0, 20.0, 2, 0, 0, 0]                 # percent -> pixels
    assert r1['bbox'] == [20.0, 10.0, 60.0, 60.0]
    assert r2['keypoints'] == [120.0, 20.0, 2, 70.0, 50.0, 2]
    assert r2['bbox'] == [100.0, 10.0, 80.0, 80.0]
    assert r9['keypoints'] == [0, 0, 0, 100.0, 50.0, 2]
    notes = ' | '.join(res.stats.notes)
    assert '1 keypoint(s) inside no rectangle' in notes
    assert '1 further annotation(s)' in notes
    # task 2 (cancelled) is not labelled; task 4 is, with nothing to convert, but has no image
    assert res.stats.images_left_out == {UNANNOTATED: 1, NO_IMAGE_FILE: 1}
    assert f'1 image(s) left out: {UNANNOTATED}' in res.stats.summary_notes()
    assert res.image_root == (tmp_path / 'media').resolve()


def test_labelled_tasks_without_regions_keep_their_image(export, tmp_path):
    tasks = json.loads(export.read_text())
    tasks += [_task(5, '/data/upload/1/0badcafe-frame3.png', []),
              {'id': 6, 'annotations': [], 'data': {'image': '/data/upload/1/frame3.png'}}]
    export.write_text(json.dumps(tasks))
    res = convert_labelstudio(export, images_dir=tmp_path / 'media', progress=False)
    images = res.coco['images']
    assert [i['file_name'] for i in images] == ['frame1.png', 'sub/frame2.png', 'frame3.png']
    assert (images[2]['width'], images[2]['height']) == (W, H)     # from the file
    assert images[2]['id'] not in {a['image_id'] for a in res.coco['annotations']}
    assert res.stats.empty_images == 1
    assert '1 image(s) without a labelled instance kept (no annotation)' in res.stats.summary_notes()
    assert res.stats.images_left_out == {UNANNOTATED: 2, NO_IMAGE_FILE: 1}


def test_tasks_without_rectangles_and_keypoint_order(tmp_path, write_image):
    write_image(tmp_path / 'a.png', W, H)
    tasks = [_task(5, 'a.png', [_kp('1', 'tail', 10, 10), _kp('2', 'head', 50, 50)])]
    path = tmp_path / 'e.json'
    path.write_text(json.dumps(tasks))
    res = convert_labelstudio(path, keypoints=['head', 'tail', 'fin'], category_name='fish',
                              progress=False)
    cat = res.coco['categories'][0]
    assert (cat['name'], cat['keypoints']) == ('fish', ['head', 'tail', 'fin'])
    assert res.coco['annotations'][0]['keypoints'] == [100.0, 50.0, 2, 20.0, 10.0, 2, 0, 0, 0]
    tasks[0]['annotations'][0]['result'].append(_kp('3', 'tail', 30, 30))
    path.write_text(json.dumps(tasks))
    with pytest.raises(ConversionError, match=r"e\.json: task 5, result 2 \(id '3'\): keypoint "
                                              r"'tail' appears twice.*need rectangles"):
        convert_labelstudio(path, progress=False)


def test_rotated_rectangle_box_is_its_extent(tmp_path, write_image):
    write_image(tmp_path / 'a.png', W, H)
    rect = _rect('r', 'mouse', 50, 10, 10, 20, rotation=90)   # 20 x 20 px, turned about (100, 10)
    path = tmp_path / 'e.json'
    path.write_text(json.dumps([_task(1, 'a.png', [rect, _kp('k', 'nose', 45, 20)])]))
    ann = convert_labelstudio(path, progress=False).coco['annotations'][0]
    assert ann['bbox'] == pytest.approx([80.0, 10.0, 20.0, 20.0])


def test_several_labels_and_missing_images(export, tmp_path):
    tasks = json.loads(export.read_text())
    tasks.append(_task(4, '/data/upload/1/frame3.png', [_rect('q', 'rat', 0, 0, 50, 50),
                                                        _kp('q1', 'ear', 10, 10)]))
    export.write_text(json.dumps(tasks))
    media = tmp_path / 'media'
    with pytest.raises(ConversionError, match=r"several labels with keypoints: 'mouse' \(3 "
                                              r"instances\), 'rat' \(1 instance\).*--label"):
        convert_labelstudio(export, images_dir=media, progress=False)
    res = convert_labelstudio(export, images_dir=media, label='rat', progress=False)
    assert res.coco['categories'][0]['keypoints'] == ['ear']
    assert res.stats.skipped == {"label 'mouse' not converted": 3}
    with pytest.raises(ConversionError, match=r"export\.json: task 1: image "
                                              r"'/data/upload/1/3f2a9c1e-frame1\.png' not found"):
        convert_labelstudio(export, progress=False)      # default root: the json's folder


def test_bad_results_name_task_and_result(tmp_path, write_image):
    write_image(tmp_path / 'a.png', W, H)
    bad = _kp('k', 'nose', 'left', 20)
    path = tmp_path / 'e.json'
    path.write_text(json.dumps([_task(8, 'a.png', [bad])]))
    with pytest.raises(ConversionError, match=r"task 8, result 0 \(id 'k'\): value needs "
                                              r"numbers \['x', 'y'\]"):
        convert_labelstudio(path, progress=False)
    two = _kp('k', 'nose', 1, 2)
    two['value']['keypointlabels'] = ['nose', 'tail']
    path.write_text(json.dumps([_task(8, 'a.png', [two])]))
    with pytest.raises(ConversionError, match='expected one label in keypointlabels'):
        convert_labelstudio(path, progress=False)
    small = _kp('k', 'nose', 1, 2)
    small['original_width'] = 50
    path.write_text(json.dumps([_task(8, 'a.png', [small])]))
    with pytest.raises(ConversionError, match=r"task 8: the export gives the size 50x100, but "
                                              r".*a\.png is 200x100"):
        convert_labelstudio(path, progress=False)
    path.write_text(json.dumps({'id': 1}))
    with pytest.raises(ConversionError, match='expected a list of tasks'):
        convert_labelstudio(path, progress=False)
    path.write_bytes(b'\x89HDF\r\n\x1a\n\x00\xff')     # e.g. a .slp file given by mistake
    with pytest.raises(ConversionError, match=r'e\.json: invalid json'):
        convert_labelstudio(path, progress=False)


def test_image_candidates(tmp_path):
    got = image_candidates('/data/upload/3/0123abcd-my%20img.png', tmp_path)
    assert got == [tmp_path / '3/0123abcd-my img.png', tmp_path / '0123abcd-my img.png',
                   tmp_path / 'my img.png']
    assert image_candidates('/data/local-files/?d=imgs/x.jpg', tmp_path)[0] == \
        tmp_path / 'imgs/x.jpg'
    assert image_candidates('https://host/bucket/a/b.png', tmp_path)[:2] == [
        tmp_path / 'bucket/a/b.png', tmp_path / 'b.png']


def test_cli_labelstudio(export, tmp_path):
    out = tmp_path / 'ds'
    assert convert_main(['labelstudio', str(export), str(out), '--images-dir',
                         str(tmp_path / 'media'), '--keypoints', 'tail,nose', '--no-split',
                         '--no-progress']) == 0
    coco = json.loads((out / 'all.json').read_text())
    assert coco['categories'][0]['keypoints'] == ['tail', 'nose']
