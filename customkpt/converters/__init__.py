"""Dataset converters: DeepLabCut, Labelme, AI Challenger and MPII to
COCO-keypoint json.

Each ``convert_*`` function reads one source format and returns a
:class:`ConversionResult` (the COCO dict, the image root its ``file_name``
entries are relative to, and counts); :func:`write_splits` writes it as
``train.json`` / ``val.json`` (or ``all.json``). ``tools/convert_dataset.py``
is the command-line front end.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .aic import convert_aic
from .builder import CocoBuilder, ConversionResult, ConversionStats, bbox_from_points
from .category import make_category
from .common import DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, ConversionError, write_json
from .dlc import convert_dlc
from .images import image_size
from .labelme import convert_labelme
from .mpii import convert_mpii
from .splits import (DEFAULT_VAL_FRACTION, SplitOutcome, SplitSpec, format_summary,
                     split_image_ids, subset, write_splits)

#: Format name -> converter function.
CONVERTERS: dict[str, Callable[..., ConversionResult]] = {
    'dlc': convert_dlc,
    'labelme': convert_labelme,
    'aic': convert_aic,
    'mpii': convert_mpii,
}


def convert(fmt: str, src: str | Path, **kwargs: Any) -> ConversionResult:
    """Run the converter of ``fmt`` (a key of :data:`CONVERTERS`) on ``src``."""
    if fmt not in CONVERTERS:
        raise ConversionError(f'unknown format {fmt!r}; known: {sorted(CONVERTERS)}')
    return CONVERTERS[fmt](src, **kwargs)


__all__ = [
    'CONVERTERS', 'CocoBuilder', 'ConversionError', 'ConversionResult',
    'ConversionStats', 'DEFAULT_BBOX_PAD', 'DEFAULT_MIN_MARGIN', 'DEFAULT_VAL_FRACTION',
    'SplitOutcome', 'SplitSpec', 'bbox_from_points', 'convert', 'convert_aic',
    'convert_dlc', 'convert_labelme', 'convert_mpii', 'format_summary', 'image_size',
    'make_category', 'split_image_ids', 'subset', 'write_json', 'write_splits',
]
