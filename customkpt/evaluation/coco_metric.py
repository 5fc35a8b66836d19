"""COCO keypoint AP/AR (OKS) for any keypoint definition.

What happens, in order:

1. ``process`` keeps, per data sample, the predicted keypoints (N, K, 2),
   keypoint scores (N, K), box scores (N,) and areas (N,) of its instances,
   and (only when no ``ann_file`` is given) its ground-truth instances.
2. ``compute_metrics`` groups predictions by image, scores each instance
   (``score_mode``; by default box score x mean of the keypoint scores above
   ``keypoint_score_thr``), removes duplicates per image by OKS-NMS
   (``nms_mode``, ``nms_thr``), writes the COCO results json when asked, and
   runs the COCO evaluation (faster-coco-eval, pycocotools or xtcocotools) with the
   definition's per-keypoint sigmas (``dataset_meta['sigmas']``).

Conventions:

* The area of a prediction (used only by OKS-NMS) is, in this order of
  preference: ``pred_instances.areas``; the predicted box ``w * h``
  (``pred_instances.bboxes``, xyxy: in top-down models the input box, i.e.
  the ground-truth or detector box before padding); the ground-truth box of
  the sample; the extent of the predicted points. MMPose uses the padded
  crop box instead, which is 1.25^2 times larger and so suppresses a little
  more at the same threshold.
* Ground-truth annotation ids are renumbered 1..n inside the evaluation
  (COCOeval treats id 0 as "unmatched"); image ids are kept.
* Ground truth built from the samples (``ann_file=None``) has no crowd
  regions and none of the annotations the dataset skipped (crowd, zero
  area), so it agrees with evaluating the annotation file exactly when the
  file has neither.
"""
from __future__ import annotations

import logging
import os.path as osp
import time
from typing import Any, Callable, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from ..core.arrays import to_numpy
from ..registry import METRICS
from .coco_eval import (COCO_KEYPOINT_STATS, coco_backend, evaluate_keypoints, gt_from_results,
                        load_coco_gt)
from .functional import SCORE_MODES
from .results import NMS_MODES, coco_predictions, write_results
from .samples import bbox_scores, gt_of_sample, instance_areas, sample_field

__all__ = ['CocoKeypointMetric', 'COCO_KEYPOINT_STATS']


@METRICS.register_module()
class CocoKeypointMetric(BaseMetric):
    """COCO keypoint AP/AR with the dataset's own OKS sigmas (any K).

    Reports (with the default prefix ``coco``) ``coco/AP``, ``coco/AP .5``,
    ``coco/AP .75``, ``coco/AP (M)``, ``coco/AP (L)``, ``coco/AR``,
    ``coco/AR .5``, ``coco/AR .75``, ``coco/AR (M)``, ``coco/AR (L)``.

    Data samples (dicts, as mmengine passes them) need ``img_id`` and
    ``pred_instances`` with ``keypoints`` (N, K, 2) and ``keypoint_scores``
    (N, K); ``bbox_scores`` (N,), ``bboxes`` (N, 4 xyxy) and
    ``category_ids`` (N,) (each instance's category, else the sample's
    ``category_id``) are used when present. Without ``ann_file`` they also
    need ``gt_instances`` with ``keypoints`` (N, K, 2), ``keypoints_visible``
    (N, K), ``bboxes`` (N, 4 xyxy) and ``areas`` (N,), and the annotation
    ``id``.

    Args:
        ann_file: COCO-keypoint json of the evaluated split. When None the
            ground truth is built from the samples' ``gt_instances`` (every
            custom dataset works without one; it must then carry
            ground-truth boxes, not detections).
        use_area: use the annotations' ``area`` as OKS scale; when False use
            ``0.53 x box w x h`` (xtcocotools' convention for files without
            areas).
        iou_type: only ``'keypoints'``.
        score_mode: instance score: ``'bbox_keypoint'`` (box score x mean of
            the keypoint scores above ``keypoint_score_thr``), ``'bbox'``
            or ``'keypoint'`` (the keypoint mean alone).
        keypoint_score_thr: see ``score_mode``.
        nms_mode: ``'oks_nms'`` (per image) or ``'none'``.
        nms_thr: OKS above which the lower-scored pose is dropped.
        format_only: only write the results json (needs ``outfile`` or
            ``outfile_prefix``); return no metrics.
        outfile_prefix: write results to ``outfile_prefix + '.keypoints.json'``.
        outfile: write results to exactly this path (wins over
            ``outfile_prefix``; ``tools/test.py --out`` sets it).
        backend: ``'auto'`` (faster-coco-eval when installed, else
            pycocotools), ``'faster'``, ``'pycocotools'`` or ``'xtcocotools'``
            (:mod:`~customkpt.evaluation.coco_backends`).
        collect_device: ``'cpu'`` or ``'gpu'``, for gathering results
            across processes.
        prefix: metric name prefix; ``'coco'`` when None.
        collect_dir: shared folder for gathering on cpu (optional).
    """

    default_prefix: Optional[str] = 'coco'

    def __init__(self, ann_file: Optional[str] = None, use_area: bool = True,
                 iou_type: str = 'keypoints', score_mode: str = 'bbox_keypoint',
                 keypoint_score_thr: float = 0.2, nms_mode: str = 'oks_nms',
                 nms_thr: float = 0.9, format_only: bool = False,
                 outfile_prefix: Optional[str] = None, outfile: Optional[str] = None,
                 backend: str = 'auto', collect_device: str = 'cpu',
                 prefix: Optional[str] = None, collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        if iou_type != 'keypoints':
            raise ValueError(f"iou_type must be 'keypoints', got {iou_type!r}")
        if score_mode not in SCORE_MODES:
            raise ValueError(f'score_mode must be one of {SCORE_MODES}, got {score_mode!r}')
        if nms_mode not in NMS_MODES:
            raise ValueError(f'nms_mode must be one of {NMS_MODES}, got {nms_mode!r}')
        if format_only and not (outfile or outfile_prefix):
            raise ValueError('format_only=True writes a results file: set outfile or '
                             'outfile_prefix')
        coco_backend(backend)  # fail early on a bad name or a missing library
        if ann_file is not None and '://' not in str(ann_file) and not osp.isfile(ann_file):
            raise FileNotFoundError(f'CocoKeypointMetric: ann_file {ann_file} not found')
        self.ann_file = None if ann_file is None else str(ann_file)
        self.use_area = bool(use_area)
        self.iou_type = iou_type
        self.score_mode = score_mode
        self.keypoint_score_thr = float(keypoint_score_thr)
        self.nms_mode = nms_mode
        self.nms_thr = float(nms_thr)
        self.format_only = bool(format_only)
        self.outfile_prefix = outfile_prefix
        self.outfile = outfile
        self.backend = backend
        self._gt_cache: Optional[dict] = None

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep the predictions (and, without ``ann_file``, the ground truth)
        of a batch of samples as plain numpy (picklable for gathering).

        Args:
            data_batch: unused.
            data_samples: dicts with ``img_id``, ``pred_instances`` and,
                without ``ann_file``, ``gt_instances`` (see the class docs).
        """
        for sample in data_samples:
            pred = sample.get('pred_instances')
            if pred is None or 'keypoints' not in pred:
                raise KeyError('CocoKeypointMetric: a data sample has no '
                               'pred_instances.keypoints')
            kpts = to_numpy(pred['keypoints']).astype(np.float32)
            if kpts.ndim == 2:
                kpts = kpts[None]
            scores = pred.get('keypoint_scores')
            if kpts.shape[-1] == 3:  # (x, y, score) triples
                scores = kpts[..., 2] if scores is None else scores
                kpts = kpts[..., :2]
            num = kpts.shape[0]
            scores = (np.ones(kpts.shape[:2], np.float32) if scores is None else
                      to_numpy(scores).astype(np.float32).reshape(kpts.shape[:2]))
            gt = sample.get('gt_instances') or {}
            img_id = sample_field(sample, 'img_id')
            if img_id is None:
                raise KeyError('CocoKeypointMetric: a data sample has no img_id')
            result = dict(img_id=int(img_id), category_id=sample_field(sample, 'category_id'),
                          keypoints=kpts, keypoint_scores=scores,
                          bbox_scores=bbox_scores(pred, gt, num),
                          areas=instance_areas(pred, gt, kpts))
            if pred.get('category_ids') is not None:  # one per instance (one-stage models)
                cats = to_numpy(pred['category_ids']).astype(np.int64)
                result['category_ids'] = cats.reshape(num)
            if self.ann_file is None and not self.format_only:
                result['gt'] = gt_of_sample(sample, gt, int(img_id))
            self.results.append(result)

    def _sigmas(self, num_kpts: int) -> np.ndarray:
        meta = self.dataset_meta or {}
        sigmas = meta.get('sigmas')
        if sigmas is None:
            names = meta.get('keypoint_names')
            if not names:
                raise ValueError('CocoKeypointMetric needs dataset_meta with sigmas (or '
                                 'keypoint_names to derive default sigmas from)')
            from ..meta import default_sigmas
            sigmas = default_sigmas(names)
            print_log('CocoKeypointMetric: dataset_meta has no sigmas; using defaults '
                      'derived from the keypoint names', logger='current',
                      level=logging.WARNING)
        sigmas = np.asarray(sigmas, dtype=np.float64).reshape(-1)
        if sigmas.shape[0] != num_kpts:
            raise ValueError(f'dataset_meta has {sigmas.shape[0]} sigmas but the '
                             f'predictions have {num_kpts} keypoints')
        return sigmas

    def results_path(self) -> Optional[str]:
        """Where the results json goes (None when it is not written)."""
        if self.outfile:
            return str(self.outfile)
        if self.outfile_prefix:
            return f'{self.outfile_prefix}.keypoints.json'
        return None

    def compute_metrics(self, results: list) -> dict[str, float]:
        """Score, suppress, write and evaluate all gathered predictions.

        Args:
            results: the ``process`` outputs of every sample of the split.

        Returns:
            ``{'AP': ..., 'AP .5': ..., ..., 'AR (L)': ...}`` (the prefix is
            added by mmengine), or ``{}`` when ``format_only``.
        """
        tic = time.perf_counter()
        num_kpts = next((r['keypoints'].shape[1] for r in results if r['keypoints'].ndim == 3
                         and r['keypoints'].shape[0]), None)
        if num_kpts is None:
            meta = self.dataset_meta or {}
            num_kpts = len(meta.get('sigmas') or meta.get('keypoint_names') or [])
        sigmas = self._sigmas(num_kpts) if num_kpts else np.zeros(0)
        gt = None
        if self.ann_file is not None:
            gt = self._load_ann_file()
        category_of, default_cat = self._categories(gt, results)
        preds = coco_predictions(results, sigmas, category_of, self.score_mode,
                                 self.keypoint_score_thr, self.nms_mode, self.nms_thr)
        path = self.results_path()
        if path is not None:
            write_results(preds, path)
        if self.format_only:
            return {}
        if gt is None:
            gt = gt_from_results(results, default_cat, num_kpts)
        metrics = evaluate_keypoints(gt, preds, sigmas, self.backend, self.use_area)
        print_log(f'CocoKeypointMetric: {len(preds)} predictions on {len(gt["images"])} '
                  f'images evaluated in {time.perf_counter() - tic:.2f} s', logger='current')
        return metrics

    def _load_ann_file(self) -> dict:
        """The ground truth of ``ann_file`` (see
        :func:`~customkpt.evaluation.coco_eval.load_coco_gt`), read once."""
        if self._gt_cache is None:
            self._gt_cache = load_coco_gt(self.ann_file)
        return self._gt_cache

    @staticmethod
    def _categories(gt: Optional[dict], results: list) -> tuple[Callable[[Any], int], int]:
        """The category id written for a sample's ``category_id``, and the
        default one: with an annotation file its keypoint categories (the
        first for unknown ids), without one the samples' single category
        (else 1)."""
        if gt is not None:
            cat_ids = [c['id'] for c in gt['categories']]
            default_cat = cat_ids[0]

            def category_of(cat: Any) -> int:
                return int(cat) if cat is not None and int(cat) in cat_ids else default_cat
        else:
            cats = {int(r['category_id']) for r in results if r.get('category_id') is not None}
            default_cat = cats.pop() if len(cats) == 1 else 1

            def category_of(cat: Any) -> int:
                return default_cat
        return category_of, default_cat
