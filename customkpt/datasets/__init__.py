"""Keypoint datasets: COCO-keypoint and MPII files, up-front validation, and
merging several datasets onto one keypoint definition.

Importing this package registers :class:`CocoKeypointDataset`,
:class:`CocoImageDataset` (whole images, one-stage models),
:class:`MpiiDataset`, :class:`MergedKeypointDataset`, and for semi-supervised
training :class:`VideoClipDataset` and
:class:`SemiSupervisedDataset`, in ``customkpt.registry.DATASETS`` (and
``semi_supervised_collate`` in ``FUNCTIONS``). The transforms live in the
``customkpt.datasets.transforms`` subpackage, which registers itself.
"""
from .base import BaseKeypointDataset
from .coco import CocoKeypointDataset
from .coco_image import CocoImageDataset
from .merged import MergedKeypointDataset
from .mpii import MpiiDataset
from .semi_supervised import SemiSupervisedDataset, semi_supervised_collate
from .validation import (DatasetValidationError, Problem, ValidationReport, validate_coco,
                         validate_detections, validate_mpii)
from .video_clips import VideoClipDataset

__all__ = [
    'BaseKeypointDataset', 'CocoKeypointDataset', 'CocoImageDataset', 'MpiiDataset',
    'MergedKeypointDataset',
    'DatasetValidationError', 'Problem', 'ValidationReport', 'validate_coco',
    'validate_detections', 'validate_mpii', 'VideoClipDataset', 'SemiSupervisedDataset',
    'semi_supervised_collate'
]
