"""Files that are one json list of records: the MPII layout and detection results."""
from __future__ import annotations

import pytest

from customkpt.datasets.validation.detections import validate_detections
from customkpt.datasets.validation.mpii import validate_mpii


def _mpii(records):
    return validate_mpii(records, 'mpii.json', '/nonexistent', 16, check_images=False)


def _detections(dets):
    images = {1: {'id': 1, 'file_name': 'a.jpg', 'width': 100, 'height': 80}}
    return validate_detections(dets, 'dets.json', images, '/nonexistent', check_images=False)


@pytest.mark.parametrize('validate, what', [(_mpii, 'an MPII annotation file'),
                                            (_detections, 'a detection file')])
def test_anything_but_a_list_is_fatal_with_one_error(validate, what):
    report = validate({'annotations': []})
    assert report.fatal and report.num_records == 0
    assert [(p.field, p.message) for p in report.errors] == [
        ('file', f'{what} must hold a json list')]


@pytest.mark.parametrize('validate, field', [(_mpii, 'record'), (_detections, 'detection')])
def test_records_that_are_not_objects_are_bad_in_file_order(validate, field):
    report = validate([7, {}, 'x'])
    assert not report.fatal and report.num_records == 3
    assert {0, 2} <= report.bad_records
    not_objects = [p for p in report.errors if p.message == 'not an object']
    assert [(p.ann_id, p.field) for p in not_objects] == [(0, field), (2, field)]
    # errors stand in file order: those of the object at position 1 between
    positions = [p.ann_id for p in report.errors]
    assert positions.index(0) < positions.index(1) < positions.index(2)
