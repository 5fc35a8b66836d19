"""Dataset converters: DeepLabCut, Labelme, AI Challenger, MPII, SLEAP,
DeepPoseKit, CVAT and Label Studio to COCO-keypoint json.

Each ``convert_*`` function reads one source format and returns a
:class:`ConversionResult` (the COCO dict, the image root its ``file_name``
entries are relative to, and counts); :func:`write_splits` writes it as
``train.json`` / ``val.json`` (or ``all.json``). ``tools/convert_dataset.py``
is the command-line front end. Writing back: :mod:`.export_dlc` (DeepLabCut
/ Lightning Pose tables) and :mod:`.export_coco` (predictions as COCO json).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .aic import convert_aic
from .builder import CocoBuilder, ConversionResult, ConversionStats, bbox_from_points
from .category import make_category
from .common import DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, ConversionError, write_json
from .cvat import convert_cvat
from .deepposekit import convert_deepposekit
from .dlc import convert_dlc
from .export_coco import prediction_dataset, prediction_results
from .export_dlc import coco_to_dlc, write_dlc_predictions, write_dlc_table
from .images import image_size
from .labelme import convert_labelme
from .labelstudio import convert_labelstudio
from .mpii import convert_mpii
from .sleap import convert_sleap
from .splits import (DEFAULT_VAL_FRACTION, SplitOutcome, SplitSpec, format_summary,
                     split_image_ids, subset, write_splits)

#: Format name -> converter function.
CONVERTERS: dict[str, Callable[..., ConversionResult]] = {
    'dlc': convert_dlc,
    'labelme': convert_labelme,
    'aic': convert_aic,
    'mpii': convert_mpii,
    'sleap': convert_sleap,
    'deepposekit': convert_deepposekit,
    'cvat': convert_cvat,
    'labelstudio': convert_labelstudio,
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
    'coco_to_dlc', 'write_dlc_predictions', 'write_dlc_table', 'prediction_dataset',
    'prediction_results', 'convert_sleap', 'convert_deepposekit', 'convert_cvat',
    'convert_labelstudio',
]
