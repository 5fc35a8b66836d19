"""Validation of a COCO detection-result list (the boxes of top-down evaluation)."""
from __future__ import annotations

import os
from typing import Any, Mapping

from .records import check_box, check_image_file, describe, image_size, is_finite, is_id
from .report import ValidationReport

__all__ = ['validate_detections']


def validate_detections(dets: Any, bbox_file: str, images: Mapping[Any, Mapping[str, Any]],
                        img_dir: str, check_images: bool | str = True) -> ValidationReport:
    """Validate a COCO detection-result list (top-down evaluation boxes).

    Args:
        dets: the parsed json: a list of ``{image_id, bbox (xywh), score,
            category_id}``.
        bbox_file: its path (for messages).
        images: the annotation file's images by id.
        img_dir: the folder image ``file_name`` is relative to.
        check_images: as in :func:`validate_coco`, for images with detections.

    Returns:
        The report; ``bad_records`` holds detection positions, ``ann_id`` in
        problems is the detection's position in the list.
    """
    report = ValidationReport(file=bbox_file)
    used: dict[Any, list[int]] = {}
    for pos, det in report.objects(dets, 'a detection file', 'detection'):
        iid = det.get('image_id')
        bad = False
        if iid is not None and not is_id(iid):
            report.error(describe(iid), pos, 'image_id',
                         f'must be an integer or a string, got {describe(iid)}')
            iid, bad = None, True
        elif iid not in images:
            report.error(iid, pos, 'image_id', 'refers to an image id not in the annotation file')
            bad = True
        else:
            used.setdefault(iid, []).append(pos)
        if not check_box(report, det.get('bbox'), image_size(images.get(iid, {})),
                         iid, pos, 'bbox'):
            bad = True
        score = det.get('score')
        if not is_finite(score):
            report.error(iid, pos, 'score', f'must be a finite number, got {describe(score)}')
            bad = True
        if bad:
            report.bad_records.add(pos)
    for iid, positions in used.items():
        why = check_image_file(os.path.join(img_dir, str(images[iid].get('file_name', ''))),
                               check_images)
        if why:
            report.error(iid, None, 'file_name', why)
            report.bad_records.update(positions)
    return report
