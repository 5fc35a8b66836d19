"""Validation of a COCO detection-result list (the boxes of top-down evaluation)."""
from __future__ import annotations

import math
import os
from typing import Any, Mapping

from .records import check_box, check_image_file, image_size, is_number
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
    if not isinstance(dets, list):
        report.error(None, None, 'file', 'a detection file must hold a json list')
        report.fatal = True
        return report
    report.num_records = len(dets)
    used: dict[Any, list[int]] = {}
    for pos, det in enumerate(dets):
        if not isinstance(det, Mapping):
            report.error(None, pos, 'detection', 'not an object')
            report.bad_records.add(pos)
            continue
        iid = det.get('image_id')
        bad = False
        if iid not in images:
            report.error(iid, pos, 'image_id', 'refers to an image id not in the annotation file')
            bad = True
        else:
            used.setdefault(iid, []).append(pos)
        if not check_box(report, det.get('bbox'), image_size(images.get(iid, {})),
                         iid, pos, 'bbox'):
            bad = True
        score = det.get('score')
        if not (is_number(score) and math.isfinite(score)):
            report.error(iid, pos, 'score', f'must be a finite number, got {score!r}')
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
