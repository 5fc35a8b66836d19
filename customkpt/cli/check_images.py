"""``customkpt check``: decode a sample of a dataset's images.

Checking that every image file exists is cheap; decoding every one is not.
By default ``customkpt check`` decodes a sample spread evenly over the
dataset's distinct images (in natural order of their paths), which finds a
folder of placeholders, text files or truncated downloads in seconds.
"""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from customkpt.datasets.base import BaseKeypointDataset
from customkpt.datasets.validation import ValidationReport, natural_key

__all__ = ['sample_images', 'decode_sample']


def sample_images(ds: BaseKeypointDataset, count: int) -> list[tuple[Any, str]]:
    """Up to ``count`` distinct ``(img_id, img_path)`` of ``ds``, spread evenly
    over its images in natural order of their paths."""
    paths: dict[str, Any] = {}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        paths.setdefault(info['img_path'], info.get('img_id'))
    ordered = sorted(paths, key=natural_key)
    if count <= 0 or not ordered:
        return []
    picks = np.unique(np.linspace(0, len(ordered) - 1, min(count, len(ordered))).round()
                      .astype(int))
    return [(paths[ordered[i]], ordered[i]) for i in picks]


def decode_sample(ds: BaseKeypointDataset, report: ValidationReport, count: int) -> int:
    """Decode up to ``count`` images of ``ds``; add an error (field
    ``file_name``) to ``report`` for each one that does not decode.

    Returns:
        How many images were decoded.
    """
    sample = sample_images(ds, count)
    for img_id, path in sample:
        if cv2.imread(path, cv2.IMREAD_UNCHANGED) is None:
            report.error(img_id, None, 'file_name', f'image file cannot be decoded: {path} '
                                                    '(--decode-all checks every image)')
    return len(sample)
