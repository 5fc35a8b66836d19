"""Validation of the COCO category that holds the keypoint definition.

The dataset reads the names of its K points (and the skeleton, flip pairs)
from one entry of ``categories``; a mistyped field there is reported as a
fatal problem naming the entry and the field, before the definition is built.
"""
from __future__ import annotations

from typing import Any, Mapping

from .records import describe, is_id
from .report import DatasetValidationError, ValidationReport

__all__ = ['check_category', 'require_category']


def _is_pair_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2
        and all(isinstance(i, int) and not isinstance(i, bool) for i in p) for p in value)


def check_category(report: ValidationReport, category: Mapping[str, Any], pos: int) -> bool:
    """Check the fields of ``categories[pos]``; True when they are usable."""
    where = f'categories[{pos}]'
    problems = []
    if 'id' in category and not is_id(category['id']):
        problems.append(('id', f'must be an integer, got {describe(category["id"])}'))
    if 'name' in category and not isinstance(category['name'], str):
        problems.append(('name', f'must be a string, got {describe(category["name"])}'))
    names = category.get('keypoints')
    if names is not None and not (isinstance(names, list)
                                  and all(isinstance(n, str) and n for n in names)):
        problems.append(('keypoints', f'must be a list of point names, got {describe(names)}'))
    for key in ('skeleton', 'flip_pairs'):
        value = category.get(key)
        if value is not None and not _is_pair_list(value):
            problems.append((key, f'must be a list of [a, b] index pairs, got {describe(value)}'))
    for key, message in problems:
        report.error(None, None, f'{where}.{key}', message)
    if problems:
        report.fatal = True
    return not problems


def require_category(file: str, data: Any, category: Mapping[str, Any] | None,
                     has_metainfo: bool) -> None:
    """Raise :class:`DatasetValidationError` when the chosen category has a
    mistyped field, or when neither it nor the config defines the points."""
    report = ValidationReport(file=file)
    cats = data.get('categories') if isinstance(data, Mapping) else None
    if category is not None and isinstance(cats, list):
        pos = next((i for i, c in enumerate(cats) if isinstance(c, Mapping)
                    and c.get('id') == category.get('id')), 0)
        check_category(report, category, pos)
    if not report.errors and not has_metainfo and not (category or {}).get('keypoints'):
        got = 'no "categories" list' if not isinstance(cats, list) else \
            f'{len(cats)} categories, none with a "keypoints" list'
        report.error(None, None, 'categories',
                     f'no keypoint definition: the file has {got} (the names of the K points) '
                     'and the config gives no metainfo')
        report.fatal = True
    if report.errors:
        raise DatasetValidationError(report)
