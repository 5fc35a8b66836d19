"""CocoKeypointDataset on mistyped records: every dropped record is counted,
every mistyped field is an error naming file, record and field."""
from __future__ import annotations

import json

import pytest

from customkpt.datasets import CocoKeypointDataset, DatasetValidationError
from customkpt.datasets import coco as coco_module

from .conftest import ann, write_image

NAMES = ['a', 'b', 'c']
PTS = [(5, 5, 2), (10, 12, 2), (0, 0, 0)]
BOX = [1, 1, 20, 20]
HUGE = 10 ** 400


def build(path, **kwargs):
    return CocoKeypointDataset(ann_file=str(path), data_prefix=dict(img=str(path.parent / 'img')),
                               pipeline=[], metainfo=dict(sigmas=[0.05] * 3), **kwargs)


def errors_of(path, **kwargs) -> set[tuple]:
    with pytest.raises(DatasetValidationError) as info:
        build(path, **kwargs)
    assert str(path) in str(info.value)
    return {(p.image_id, p.ann_id, p.field) for p in info.value.report.errors}


@pytest.fixture
def one_image(write_coco):
    def write(*anns, **kwargs):
        return write_coco([{'id': 1, 'file_name': 'a.png'}], list(anns), NAMES, **kwargs)
    return write


def test_other_category_is_counted_and_logged_with_ids(one_image, monkeypatch):
    logged = []
    monkeypatch.setattr(coco_module, 'print_log',
                        lambda msg, logger=None, level=None: logged.append(msg))
    path = one_image(ann(1, 1, PTS, bbox=BOX), ann(2, 1, PTS, bbox=BOX, category_id=7),
                     ann(3, 1, PTS, bbox=BOX, category_id=7), ann(4, 1, PTS, bbox=BOX, iscrowd=1))
    ds = build(path)
    assert len(ds) == 1
    reasons = ds.report.skipped
    assert reasons['category_id 7 is not the keypoint category 1 (and not in "categories")'] \
        == [2, 3]
    assert reasons['crowd (iscrowd 1)'] == [4]
    assert [p.field for p in ds.report.warnings] == ['category_id']
    line = next(m for m in logged if 'instances from' in m)
    assert '2 annotations skipped: category_id 7 is not the keypoint category 1' in line
    assert 'ann ids [2, 3]' in line and '1 annotation skipped: crowd' in line


def test_a_listed_other_category_is_a_skip_not_a_warning(write_coco):
    cats = [{'id': 1, 'name': 'thing', 'keypoints': NAMES}, {'id': 2, 'name': 'car'}]
    path = write_coco([{'id': 1, 'file_name': 'a.png'}],
                      [ann(1, 1, PTS, bbox=BOX), ann(2, 1, PTS, bbox=BOX, category_id=2)],
                      NAMES, categories=cats)
    ds = build(path)
    assert ds.report.skipped == {"category_id 2 ('car') is not the keypoint category 1": [2]}
    assert not ds.report.warnings
    assert "1 annotation skipped: category_id 2 ('car')" in ds.report.format()


@pytest.mark.parametrize('extra, field', [
    (dict(iscrowd='0'), 'iscrowd'),
    (dict(iscrowd=2), 'iscrowd'),
    (dict(category_id='1'), 'category_id'),
    (dict(num_keypoints=[1, 2]), 'num_keypoints'),
    (dict(area=HUGE), 'area'),
    (dict(bbox=[1, 1, HUGE, 5]), 'bbox'),
])
def test_mistyped_fields_are_errors(one_image, extra, field):
    path = one_image(ann(1, 1, PTS, bbox=BOX), ann(2, 1, PTS, **dict(dict(bbox=BOX), **extra)))
    assert errors_of(path) == {(1, 2, field)}
    ds = build(path, skip_invalid=True)
    assert [ds.get_data_info(i)['id'] for i in range(len(ds))] == [1]


def test_huge_integers_in_keypoints(one_image):
    bad = ann(2, 1, PTS, bbox=BOX)
    bad['keypoints'][0] = HUGE
    path = one_image(ann(1, 1, PTS, bbox=BOX), bad)
    with pytest.raises(DatasetValidationError, match='too large for a float') as info:
        build(path)
    assert {(p.ann_id, p.field) for p in info.value.report.errors} == {(2, 'keypoints')}


def test_list_ids_and_nul_file_names(write_coco):
    images = [{'id': 1, 'file_name': 'a.png'}, {'id': [2], 'file_name': 'b.png'},
              {'id': 3, 'file_name': 'c\u0000.png'}]
    anns = [ann(1, 1, PTS, bbox=BOX), ann([5], 1, PTS, bbox=BOX), ann(6, [1], PTS, bbox=BOX),
            ann(7, 3, PTS, bbox=BOX)]
    path = write_coco(images, anns, NAMES, make_images=False)
    write_image(path.parent / 'img' / 'a.png', 64, 48)
    found = errors_of(path)
    assert found == {('[2]', None, 'id'), (1, '[5]', 'id'), ('[1]', 6, 'image_id'),
                     (3, None, 'file_name')}


def test_no_instance_left_is_an_error_that_says_why(one_image, tmp_path):
    path = one_image(ann(1, 1, PTS, bbox=BOX, iscrowd=1), ann(2, 1, [(0, 0, 0)] * 3, bbox=BOX))
    with pytest.raises(DatasetValidationError) as info:
        build(path)
    message = str(info.value)
    assert 'no usable instance in 2 records' in message
    assert '1 skipped: crowd' in message and '1 skipped: no labelled point' in message
    empty = tmp_path / 'empty.json'
    empty.write_text(json.dumps({'images': [], 'annotations': [],
                                 'categories': [{'id': 1, 'keypoints': NAMES}]}))
    with pytest.raises(DatasetValidationError, match='no usable instance in 0 records'):
        build(empty)


def test_wrong_image_folder_is_one_problem(one_image, tmp_path):
    path = one_image(ann(1, 1, PTS, bbox=BOX))
    with pytest.raises(DatasetValidationError) as info:
        CocoKeypointDataset(ann_file=str(path), data_prefix=dict(img=str(tmp_path / 'nope')),
                            pipeline=[], metainfo=dict(sigmas=[0.05] * 3), skip_invalid=True)
    errors = info.value.report.errors
    assert len(errors) == 1 and 'does not exist' in errors[0].message


@pytest.mark.parametrize('category, field', [
    ({'id': 1, 'keypoints': NAMES, 'skeleton': [[1, 2], 3]}, 'categories[0].skeleton'),
    ({'id': 1, 'keypoints': 'abc'}, 'categories[0].keypoints'),
    ({'id': 1, 'keypoints': NAMES, 'flip_pairs': 'ab'}, 'categories[0].flip_pairs'),
])
def test_mistyped_category_fields(write_coco, category, field):
    path = write_coco([{'id': 1, 'file_name': 'a.png'}], [ann(1, 1, PTS, bbox=BOX)], NAMES,
                      categories=[category])
    with pytest.raises(DatasetValidationError) as info:
        CocoKeypointDataset(ann_file=str(path), data_prefix=dict(img=str(path.parent / 'img')),
                            pipeline=[])
    assert [p.field for p in info.value.report.errors] == [field]


def test_no_definition_anywhere_names_the_categories(write_coco):
    path = write_coco([{'id': 1, 'file_name': 'a.png'}], [ann(1, 1, PTS, bbox=BOX)], NAMES,
                      categories=[])
    with pytest.raises(DatasetValidationError, match='no keypoint definition') as info:
        CocoKeypointDataset(ann_file=str(path), data_prefix=dict(img=str(path.parent / 'img')),
                            pipeline=[])
    assert info.value.report.errors[0].field == 'categories'
