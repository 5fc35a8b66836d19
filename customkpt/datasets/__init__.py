"""Keypoint datasets: COCO-keypoint and MPII files, up-front validation, and
merging several datasets onto one keypoint definition.

Importing this package registers :class:`CocoKeypointDataset`,
:class:`MpiiDataset` and :class:`MergedKeypointDataset` in
``customkpt.registry.DATASETS``. The transforms live in the
``customkpt.datasets.transforms`` subpackage, which registers itself.
"""
from .base import BaseKeypointDataset
from .coco import CocoKeypointDataset
from .merged import MergedKeypointDataset
from .mpii import MpiiDataset
from .validation import (DatasetValidationError, Problem, ValidationReport, validate_coco,
                         validate_detections, validate_mpii)

__all__ = [
    'BaseKeypointDataset', 'CocoKeypointDataset', 'MpiiDataset', 'MergedKeypointDataset',
    'DatasetValidationError', 'Problem', 'ValidationReport', 'validate_coco',
    'validate_detections', 'validate_mpii'
]
