"""Annotation files that cannot be read: one error naming the file and why."""
from __future__ import annotations

import json

import pytest

from customkpt.datasets import CocoKeypointDataset, DatasetValidationError, MpiiDataset
from customkpt.datasets.validation import read_json

GOOD = {'images': [], 'annotations': [], 'categories': []}


def _problem(info: pytest.ExceptionInfo) -> str:
    report = info.value.report
    assert report.fatal and len(report.errors) == 1
    problem = report.errors[0]
    assert problem.field == 'file'
    return str(problem)


@pytest.mark.parametrize('content, words', [
    (b'', 'the file is empty'),
    (b'  \n', 'the file is empty'),
    (json.dumps(GOOD).encode()[:-7], 'looks truncated'),
    (b'{"images": [1, 2,, 3]}', 'not valid json'),
    (b'{"images": "\xff\xfe"}', 'not UTF-8 text: byte 0xff at offset 12'),
    (b'[' * 100000 + b']' * 100000, 'nested too deeply'),
    (b'{"a": 1' + b'0' * 5000 + b'}', 'not usable json'),
])
def test_unreadable_json_is_one_fatal_problem(tmp_path, content, words):
    path = tmp_path / 'ann.json'
    path.write_bytes(content)
    with pytest.raises(DatasetValidationError) as info:
        read_json(str(path))
    text = _problem(info)
    assert str(path) in text and words in text, text


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DatasetValidationError) as info:
        read_json(str(tmp_path / 'gone.json'))
    assert 'annotation file not found' in _problem(info)
    with pytest.raises(DatasetValidationError) as info:
        read_json(str(tmp_path / 'nowhere' / 'gone.json'), 'detection file')
    assert 'detection file not found (its folder' in _problem(info)
    with pytest.raises(DatasetValidationError) as info:
        read_json(str(tmp_path))
    assert 'is a folder' in _problem(info)


def test_a_byte_order_mark_is_fine(tmp_path):
    path = tmp_path / 'ann.json'
    path.write_bytes(b'\xef\xbb\xbf' + json.dumps(GOOD).encode())
    assert read_json(str(path)) == GOOD


@pytest.mark.parametrize('dataset', [CocoKeypointDataset, MpiiDataset])
def test_datasets_raise_the_validation_error(tmp_path, dataset):
    path = tmp_path / 'ann.json'
    path.write_bytes(b'{"images": [')
    with pytest.raises(DatasetValidationError, match='looks truncated'):
        dataset(ann_file=str(path), pipeline=[])
    with pytest.raises(DatasetValidationError, match='annotation file not found'):
        dataset(ann_file=str(tmp_path / 'missing.json'), pipeline=[])
