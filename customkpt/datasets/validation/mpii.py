"""Validation of an MPII-layout annotation file."""
from __future__ import annotations

import os
from typing import Any, Mapping

from .records import check_image_file, check_mpii_record
from .report import ValidationReport

__all__ = ['validate_mpii']


def validate_mpii(records: Any, ann_file: str, img_dir: str, num_keypoints: int, *,
                  check_images: bool | str = True) -> ValidationReport:
    """Validate an MPII-layout json (a list of ``image``, ``center``,
    ``scale``, ``joints`` (K x 2), ``joints_vis`` (K) records).

    The image id in problems is the ``image`` name, the annotation id the
    record's position.
    """
    report = ValidationReport(file=ann_file)
    if not isinstance(records, list):
        report.error(None, None, 'file', 'an MPII annotation file must hold a json list')
        report.fatal = True
        return report
    report.num_records = len(records)
    k = int(num_keypoints)
    by_image: dict[str, list[int]] = {}
    for pos, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            report.error(None, pos, 'record', 'not an object')
            report.bad_records.add(pos)
            continue
        name = rec.get('image')
        if isinstance(name, str) and name:
            by_image.setdefault(name, []).append(pos)
        if not check_mpii_record(report, rec, pos, k):
            report.bad_records.add(pos)
    for name, positions in by_image.items():
        why = check_image_file(os.path.join(img_dir, name), check_images)
        if why:
            report.error(name, None, 'image', why)
            report.bad_records.update(positions)
    return report
