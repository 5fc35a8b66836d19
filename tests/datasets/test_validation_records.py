"""Per-record checks of the annotation validation."""
from __future__ import annotations

import math

import numpy as np

from customkpt.datasets.validation import ValidationReport
from customkpt.datasets.validation.records import (check_annotation, check_box,
                                                   check_image_record, check_keypoint_list,
                                                   check_mpii_record, finite_numbers,
                                                   image_size, is_number)


def _messages(report: ValidationReport) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in report.errors + report.warnings]


def test_numbers():
    assert is_number(1) and is_number(np.float32(2.5)) and not is_number(True)
    assert finite_numbers([1, 2.0], 2) == (True, '')
    assert finite_numbers((1,), 2) == (False, 'has 1 values, expected 2')
    assert finite_numbers('ab') == (False, 'must be a list, got str')
    assert finite_numbers([1, 'x']) == (False, "contains non-numbers: [1, 'x']")
    assert finite_numbers([1, math.inf]) == (False, 'contains NaN or inf: [1, inf]')


def test_image_size_and_box():
    assert image_size(dict(width=4, height=3)) == (4.0, 3.0)
    w, h = image_size(dict(width=0, height='3'))
    assert math.isnan(w) and math.isnan(h)
    report = ValidationReport(file='f')
    assert check_box(report, [0, 0, 2, 2], (4.0, 4.0), 1, 2, 'bbox')
    assert not check_box(report, [0, 0, 0, 2], (4.0, 4.0), 1, 2, 'bbox')
    assert not check_box(report, [5, 0, 2, 2], (4.0, 4.0), 1, 2, 'bbox')
    assert check_box(report, [5, 0, 2, 2], (math.nan, math.nan), 1, 2, 'bbox')
    assert _messages(report) == [
        ('bbox', 'box [0, 0, 0, 2] has non-positive width or height (xywh)'),
        ('bbox', 'box [5, 0, 2, 2] lies outside the 4x4 image')]


def test_coco_image_and_annotation_records():
    report = ValidationReport(file='f')
    assert check_image_record(report, dict(id=1, file_name='a.jpg', width=3))
    assert not check_image_record(report, dict(id=2, file_name='', height=-1))
    assert check_keypoint_list(report, dict(id=1, image_id=1, keypoints=[0, 0, 0]), 1)
    assert not check_keypoint_list(report, dict(id=2, image_id=1, keypoints=[0, 0]), 1)
    assert not check_keypoint_list(report, dict(id=3, image_id=1, keypoints=[0, 0, '2']), 1)
    assert check_annotation(report, dict(id=4, image_id=1, bbox=[0, 0, 1, 1]), (2.0, 2.0))
    assert not check_annotation(report, dict(id=5, image_id=1, area=math.nan), None)
    assert _messages(report) == [
        ('file_name', 'missing'), ('height', 'must be a positive number, got -1'),
        ('keypoints', 'has 2 values, expected 3*K = 3 (K=1)'),
        ('keypoints', 'contains non-numbers'), ('area', 'must be a finite number, got nan')]


def test_mpii_record():
    good = dict(image='a.jpg', center=[5, 5], scale=1.0, joints=[[1, 1], [-1, 2]],
                joints_vis=[1, 1])
    report = ValidationReport(file='f')
    assert check_mpii_record(report, good, 0, 2)
    assert report.warnings[0].message == 'labelled joints [1] have negative coordinates'
    report = ValidationReport(file='f')
    bad = dict(good, image='', center=[-1, 3], joints_vis=[1, 3])
    assert not check_mpii_record(report, bad, 4, 2)
    assert [p.ann_id for p in report.errors] == [4, 4, 4]
    assert _messages(report) == [
        ('image', 'missing image name'),
        ('center', 'is -1 (no person position in the annotation)'),
        ('joints_vis', 'values must be in {0, 1, 2}, got [1, 3]')]
