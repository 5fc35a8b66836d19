"""Evaluation: COCO OKS AP/AR and PCK / PCKh / AUC / EPE.

Importing this package registers :class:`CocoKeypointMetric`,
:class:`CocoDetectionMetric` (box AP, :mod:`~customkpt.evaluation.coco_detection`),
:class:`PCKAccuracy` and :class:`MpiiPCKAccuracy` in
``customkpt.registry.METRICS``. :mod:`customkpt.evaluation.functional` holds
the pure-numpy pieces (rescoring, PCK, AUC, EPE); OKS and OKS-NMS are in
:mod:`customkpt.core.boxes`. The COCO metric's parts:
:mod:`~customkpt.evaluation.samples` (reading data samples),
:mod:`~customkpt.evaluation.results` (scoring, OKS-NMS, the results json) and
:mod:`~customkpt.evaluation.coco_eval` (ground truth and the COCOeval run).
"""
from .coco_detection import DETECTION_STATS, CocoDetectionMetric
from .coco_metric import COCO_KEYPOINT_STATS, CocoKeypointMetric
from .functional import (auc, auc_thresholds, epe, keypoint_errors, pck, pck_curve,
                         rescore_instances)
from .pck_metric import MpiiPCKAccuracy, PCKAccuracy

__all__ = [
    'CocoKeypointMetric', 'CocoDetectionMetric', 'DETECTION_STATS', 'PCKAccuracy',
    'MpiiPCKAccuracy', 'COCO_KEYPOINT_STATS',
    'rescore_instances', 'keypoint_errors', 'pck', 'pck_curve', 'auc',
    'auc_thresholds', 'epe'
]
