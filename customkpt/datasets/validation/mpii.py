"""Validation of an MPII-layout annotation file."""
from __future__ import annotations

from typing import Any

from .images import check_image_files
from .records import check_mpii_record
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
    k = int(num_keypoints)
    by_image: dict[str, list[int]] = {}
    for pos, rec in report.objects(records, 'an MPII annotation file', 'record'):
        name = rec.get('image')
        if isinstance(name, str) and name:
            by_image.setdefault(name, []).append(pos)
        if not check_mpii_record(report, rec, pos, k):
            report.bad_records.add(pos)
    if report.fatal:
        return report
    bad = check_image_files(report, {name: name for name in by_image}, img_dir, check_images,
                            field_name='image')
    for name in bad:
        report.bad_records.update(by_image[name])
    return report
