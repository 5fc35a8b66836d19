"""The image files an annotation file refers to: the folder, then each file.

A wrong image folder is one fatal problem ("the image folder does not
exist") rather than one "not found" per image; missing or broken files are
reported in natural order of their names (``2.png`` before ``10.png``).
"""
from __future__ import annotations

import os
import re
from typing import Any, Mapping

from .records import check_image_file
from .report import ValidationReport

__all__ = ['natural_key', 'check_image_folder', 'check_image_files']

_DIGITS = re.compile(r'(\d+)')


def natural_key(text: Any) -> tuple:
    """Sort key that orders the digit runs of ``str(text)`` by value:
    ``['4.png', '37.png', '40.png']`` rather than ``'37' < '4'``."""
    return tuple((0, int(part), '') if part.isdigit() else (1, 0, part)
                 for part in _DIGITS.split(str(text)) if part)


def check_image_folder(report: ValidationReport, img_dir: str, names: list[str],
                       check: bool | str, field_name: str = 'file_name') -> bool:
    """Add one fatal problem when ``img_dir`` is not a folder although the
    (relative) image ``names`` need it; True when the folder is usable."""
    if not check or not img_dir or not names or all(os.path.isabs(n) for n in names):
        return True
    if os.path.isdir(img_dir):
        return True
    what = 'is not a folder' if os.path.exists(img_dir) else 'does not exist'
    report.error(None, None, field_name,
                 f'the image folder {img_dir} {what} ({len(names)} images refer to it; '
                 'check data_root / data_prefix, or --img-root)')
    report.fatal = True
    return False


def check_image_files(report: ValidationReport, files: Mapping[Any, str], img_dir: str,
                      check: bool | str, field_name: str = 'file_name') -> set[Any]:
    """Check the image file of every ``{image key: file name}`` in natural
    order of the names; returns the keys of unusable images."""
    bad: set[Any] = set()
    if not check_image_folder(report, img_dir, list(files.values()), check, field_name):
        return set(files)
    for key, name in sorted(files.items(), key=lambda item: natural_key(item[1])):
        why = check_image_file(os.path.join(img_dir, name), check)
        if why:
            report.error(key, None, field_name, why)
            bad.add(key)
    return bad
