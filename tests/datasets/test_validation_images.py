"""Image folder and files: one problem for a wrong folder, natural order of missing files."""
from __future__ import annotations

from customkpt.datasets.validation import ValidationReport, natural_key
from customkpt.datasets.validation.images import check_image_files, check_image_folder

from .conftest import write_image


def test_natural_key_orders_numbers_by_value():
    names = ['40.png', '4.png', 'b2.png', '37.png', 'b10.png', 'a.png']
    assert sorted(names, key=natural_key) == ['4.png', '37.png', '40.png', 'a.png', 'b2.png',
                                              'b10.png']


def test_missing_folder_is_one_fatal_problem(tmp_path):
    report = ValidationReport(file='ann.json')
    files = {i: f'{i}.png' for i in range(30)}
    assert check_image_files(report, files, str(tmp_path / 'nope'), True) == set(files)
    assert report.fatal and len(report.errors) == 1
    assert 'image folder' in report.errors[0].message
    assert 'does not exist' in report.errors[0].message
    (tmp_path / 'file').write_text('x')
    report = ValidationReport(file='ann.json')
    assert not check_image_folder(report, str(tmp_path / 'file'), ['a.png'], True)
    assert 'is not a folder' in report.errors[0].message
    # Nothing to check, or absolute names: the folder does not matter.
    assert check_image_folder(report, str(tmp_path / 'nope'), ['a.png'], False)
    assert check_image_folder(report, str(tmp_path / 'nope'), [str(tmp_path / 'a.png')], True)


def test_missing_files_in_natural_order(tmp_path):
    write_image(tmp_path / '5.png', 8, 8)
    files = {i: f'{i}.png' for i in (40, 4, 39, 5, 100)}
    report = ValidationReport(file='ann.json')
    assert check_image_files(report, files, str(tmp_path), True) == {4, 39, 40, 100}
    assert [p.image_id for p in report.errors] == [4, 39, 40, 100]
    assert not report.fatal
