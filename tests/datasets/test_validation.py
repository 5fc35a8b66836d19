"""Up-front validation: one report naming file, image, annotation and field."""
from __future__ import annotations

import json
import math

import pytest

from customkpt.datasets import CocoKeypointDataset, DatasetValidationError, MpiiDataset
from customkpt.datasets import base as base_module
from customkpt.datasets.validation import (Problem, ValidationReport, validate_coco,
                                           validate_detections)

from .conftest import ann, write_image

NAMES = ['a', 'b', 'c']
GOOD = [(5, 5, 2), (10, 12, 2), (0, 0, 0)]


@pytest.fixture
def bad_file(write_coco, tmp_path):
    """One file with every kind of problem (and some fine records)."""
    images = [{'id': 1, 'file_name': 'ok.png'},
              {'id': 2, 'file_name': 'missing.png'},
              {'id': 3, 'file_name': 'empty.png'},
              {'id': 4, 'file_name': 'dup1.png'}, {'id': 4, 'file_name': 'dup2.png'},
              {'id': 5, 'file_name': 'ok.png', 'width': -1},
              {'id': 6, 'file_name': 'garbage.png'}]
    box = [1, 1, 20, 20]
    anns = [
        ann(1, 1, GOOD, bbox=box),                                     # fine
        ann(2, 1, GOOD[:2], bbox=box),                                 # 6 values, K=3
        ann(3, 1, [(math.nan, 5, 2), (1, 1, 2), (2, 2, 2)], bbox=box),  # NaN point
        ann(4, 1, GOOD, bbox=[1, 1, math.inf, 5]),                     # inf box
        ann(5, 1, [(5, 5, 3), (1, 1, 2), (2, 2, 2)], bbox=box),        # visibility 3
        ann(6, 1, GOOD, bbox=[1, 1, 0, 5]),                            # w = 0
        ann(7, 1, GOOD, bbox=[1, 1, 5, -2]),                           # h < 0
        ann(1, 1, GOOD, bbox=box),                                     # duplicate id 1
        ann(9, 99, GOOD, bbox=box),                                    # unknown image
        ann(10, 1, [(-3, 5, 2), (1, 1, 2), (0, 0, 0)], bbox=box),      # warning only
        ann(11, 2, GOOD, bbox=box),                                    # image file missing
        ann(12, 1, GOOD),                                              # box derived: fine
        ann(13, 1, [(0, 0, 0)] * 3),                                   # skipped in training
        ann(14, 3, GOOD, bbox=box),                                    # image file empty
        ann(15, 1, GOOD, bbox=box, area=math.nan),                     # NaN area
        ann(16, 1, [(5, 5, 2), (0, 0, 0), (0, 0, 0)]),                 # box not derivable
        ann(17, 1, GOOD, bbox=[100, 100, 5, 5]),                       # box outside 64x48
        dict(ann(18, 1, GOOD, bbox=box), num_keypoints=3),             # warning only
        ann(19, 4, GOOD, bbox=box),                                    # duplicate image id
        ann(20, 5, GOOD, bbox=box),                                    # bad image width
        ann(21, 6, GOOD, bbox=box),                                    # undecodable image
    ]
    path = write_coco(images, anns, NAMES, make_images=False)
    for name in ('ok.png', 'dup1.png', 'dup2.png'):
        write_image(tmp_path / 'img' / name, 64, 48)
    (tmp_path / 'img' / 'empty.png').write_bytes(b'')
    (tmp_path / 'img' / 'garbage.png').write_bytes(b'not a png at all')
    return path


EXPECTED_ERRORS = {
    (1, 2, 'keypoints'), (1, 3, 'keypoints'), (1, 4, 'bbox'), (1, 5, 'keypoints'),
    (1, 6, 'bbox'), (1, 7, 'bbox'), (1, 1, 'id'), (99, 9, 'image_id'),
    (2, None, 'file_name'), (3, None, 'file_name'), (1, 15, 'area'), (1, 16, 'bbox'),
    (1, 17, 'bbox'), (4, None, 'id'), (5, None, 'width'),
}
EXPECTED_WARNINGS = {(1, 10, 'keypoints'), (1, 18, 'num_keypoints')}
GOOD_IDS = [1, 10, 12, 18, 21]   # 13 has no labelled point: skipped, not an error


def build(path, **kwargs):
    kwargs.setdefault('pipeline', [])
    return CocoKeypointDataset(ann_file=str(path), data_prefix=dict(img=str(path.parent / 'img')),
                               metainfo=dict(sigmas=[0.05] * 3), **kwargs)


def run_validate(path, **kwargs) -> ValidationReport:
    data = json.loads(path.read_text())
    return validate_coco(data, str(path), str(path.parent / 'img'), 3, category_id=1, **kwargs)


def test_report_lists_every_problem_with_its_location(bad_file):
    report = run_validate(bad_file)
    assert {(p.image_id, p.ann_id, p.field) for p in report.errors} == EXPECTED_ERRORS
    assert {(p.image_id, p.ann_id, p.field) for p in report.warnings} == EXPECTED_WARNINGS
    assert all(p.file == str(bad_file) for p in report.errors + report.warnings)
    text = str(next(p for p in report.errors if p.ann_id == 2))
    assert str(bad_file) in text and 'image 1' in text and 'annotation 2' in text
    assert "'keypoints'" in text and 'expected 3*K = 9' in text
    assert str(Problem('f.json', None, None, 'file', 'x')) == \
        "error: f.json: image -, annotation -, field 'file': x"
    assert not report.ok and not report.fatal


def test_messages_say_what_is_wrong(bad_file):
    messages = {(p.ann_id, p.image_id): p.message for p in run_validate(bad_file).errors}
    assert 'NaN or inf' in messages[(3, 1)]
    assert 'NaN or inf' in messages[(4, 1)]
    assert '[3.0]' in messages[(5, 1)]
    assert 'non-positive' in messages[(6, 1)] and 'non-positive' in messages[(7, 1)]
    assert 'duplicate annotation id' in messages[(1, 1)]
    assert 'not found' in messages[(None, 2)] and 'empty' in messages[(None, 3)]
    assert 'outside' in messages[(17, 1)]
    assert 'derive' in messages[(16, 1)]


def test_decode_check_finds_undecodable_images(bad_file):
    plain = run_validate(bad_file)
    decoded = run_validate(bad_file, check_images='decode')
    new = {(p.image_id, p.field) for p in decoded.errors} - {(p.image_id, p.field)
                                                            for p in plain.errors}
    assert new == {(6, 'file_name')}
    assert not any(p.field == 'file_name' for p in run_validate(bad_file,
                                                                 check_images=False).errors)


def test_dataset_raises_one_error_with_the_whole_report(bad_file):
    with pytest.raises(DatasetValidationError) as info:
        build(bad_file)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert len(info.value.report.errors) == len(EXPECTED_ERRORS)
    for image_id, ann_id, field in EXPECTED_ERRORS:
        wanted = f'image {image_id}, annotation {"-" if ann_id is None else ann_id}, ' \
                 f'field {field!r}'
        assert wanted in message
    assert 'skip_invalid=True' in message


def test_skip_invalid_drops_exactly_the_bad_records_and_logs_once(bad_file, monkeypatch):
    logged = []
    monkeypatch.setattr(base_module, 'print_log',
                        lambda msg, logger=None, level=None: logged.append((msg, level)))
    ds = build(bad_file, skip_invalid=True)
    assert sorted(ds.get_data_info(i)['id'] for i in range(len(ds))) == GOOD_IDS
    skipped = [m for m, _ in logged if 'skipped' in m]
    assert len(skipped) == 1
    # 15 errors; dropped: 14 bad annotations + those of bad images.
    assert 'skipped 15 of 21 records' in skipped[0]
    for field in ('keypoints: 3', 'bbox: 5', 'file_name: 2', 'id: 2'):
        assert field in skipped[0]
    assert ds.report is not None and len(ds.report.errors) == len(EXPECTED_ERRORS)


def test_long_reports_are_truncated_in_the_exception(write_coco):
    anns = [ann(i, 1, GOOD[:2], bbox=[1, 1, 5, 5]) for i in range(80)]
    path = write_coco([{'id': 1, 'file_name': 'a.png'}], anns, NAMES)
    with pytest.raises(DatasetValidationError) as info:
        build(path)
    message = str(info.value)
    assert '80 errors (keypoints: 80)' in message
    assert 'and 30 more problems' in message
    assert message.count('field \'keypoints\'') == 50


def test_file_level_problems_cannot_be_skipped(tmp_path):
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps({'images': [], 'categories': [{'id': 1, 'keypoints': NAMES}]}))
    with pytest.raises(DatasetValidationError, match='no "annotations" list'):
        build(path, skip_invalid=True)


def test_training_instances_without_points_need_no_box_but_test_ones_do(write_coco):
    path = write_coco([{'id': 1, 'file_name': 'a.png'}],
                      [ann(1, 1, GOOD, bbox=[1, 1, 9, 9]), ann(2, 1, [(0, 0, 0)] * 3)], NAMES)
    assert run_validate(path).ok
    errors = run_validate(path, test_mode=True).errors
    assert [(p.ann_id, p.field) for p in errors] == [(2, 'bbox')]


def test_detection_file_validation(tmp_path):
    write_image(tmp_path / 'x.png', 10, 10)
    images = {1: {'id': 1, 'file_name': 'x.png', 'width': 10, 'height': 10},
              3: {'id': 3, 'file_name': 'gone.png'}}
    dets = [{'image_id': 1, 'bbox': [1, 1, 5, 5], 'score': 0.9},
            {'image_id': 2, 'bbox': [1, 1, 5, 5], 'score': 0.9},
            {'image_id': 1, 'bbox': [1, 1, 5, 5], 'score': None},
            {'image_id': 1, 'bbox': [1, 1, -5, 5], 'score': 0.5},
            {'image_id': 3, 'bbox': [1, 1, 5, 5], 'score': 0.5}]
    report = validate_detections(dets, 'det.json', images, str(tmp_path))
    assert {(p.image_id, p.ann_id, p.field) for p in report.errors} == {
        (2, 1, 'image_id'), (1, 2, 'score'), (1, 3, 'bbox'), (3, None, 'file_name')}
    assert report.bad_records == {1, 2, 3, 4}
    unchecked = validate_detections(dets, 'det.json', images, str(tmp_path), check_images=False)
    assert unchecked.bad_records == {1, 2, 3}


def test_mpii_validation_and_skipping(tmp_path):
    write_image(tmp_path / 'a.jpg', 32, 32)
    good = {'image': 'a.jpg', 'center': [10, 10], 'scale': 0.1,
            'joints': [[5, 5]] * 16, 'joints_vis': [1] * 16}
    records = [good, dict(good, joints=[[5, 5]] * 15), dict(good, scale=-1),
               dict(good, joints_vis=[3] * 16), dict(good, image='nope.jpg')]
    path = tmp_path / 'mpii.json'
    path.write_text(json.dumps(records))
    with pytest.raises(DatasetValidationError) as info:
        MpiiDataset(ann_file=str(path), data_prefix=dict(img=str(tmp_path)), pipeline=[])
    found = {(p.image_id, p.ann_id, p.field) for p in info.value.report.errors}
    assert found == {('a.jpg', 1, 'joints'), ('a.jpg', 2, 'scale'), ('a.jpg', 3, 'joints_vis'),
                     ('nope.jpg', None, 'image')}
    ds = MpiiDataset(ann_file=str(path), data_prefix=dict(img=str(tmp_path)), pipeline=[],
                     skip_invalid=True)
    assert [ds.get_data_info(i)['id'] for i in range(len(ds))] == [0]
