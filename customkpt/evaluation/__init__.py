"""Evaluation: COCO OKS AP/AR and PCK / PCKh / AUC / EPE.

Importing this package registers :class:`CocoKeypointMetric`,
:class:`PCKAccuracy` and :class:`MpiiPCKAccuracy` in
``customkpt.registry.METRICS``. :mod:`customkpt.evaluation.functional` holds
the pure-numpy pieces (OKS, OKS-NMS, rescoring, PCK, AUC, EPE).
"""
from .coco_metric import COCO_KEYPOINT_STATS, CocoKeypointMetric
from .functional import (auc, auc_thresholds, epe, keypoint_errors, oks, oks_nms, pck,
                         pck_curve, rescore_instances)
from .pck_metric import MpiiPCKAccuracy, PCKAccuracy

__all__ = [
    'CocoKeypointMetric', 'PCKAccuracy', 'MpiiPCKAccuracy', 'COCO_KEYPOINT_STATS', 'oks',
    'oks_nms', 'rescore_instances', 'keypoint_errors', 'pck', 'pck_curve', 'auc',
    'auc_thresholds', 'epe'
]
