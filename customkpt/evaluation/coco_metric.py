"""COCO keypoint AP/AR (OKS) for any keypoint definition.

What happens, in order:

1. ``process`` keeps, per data sample, the predicted keypoints (N, K, 2),
   keypoint scores (N, K), box scores (N,) and areas (N,) of its instances,
   and (only when no ``ann_file`` is given) its ground-truth instances.
2. ``compute_metrics`` groups predictions by image, scores each instance
   (``score_mode``; by default box score x mean of the keypoint scores above
   ``keypoint_score_thr``), removes duplicates per image by OKS-NMS
   (``nms_mode``, ``nms_thr``), writes the COCO results json when asked, and
   runs the COCO evaluation (``pycocotools`` or ``xtcocotools``) with the
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

import contextlib
import copy
import io
import json
import logging
import os
import os.path as osp
import time
from collections import defaultdict
from typing import Any, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_local_path
from mmengine.logging import print_log

from ..registry import METRICS
from .functional import SCORE_MODES, oks_nms, rescore_instances

#: Summary names, in the order of COCOeval's ``stats`` for keypoints.
COCO_KEYPOINT_STATS = ('AP', 'AP .5', 'AP .75', 'AP (M)', 'AP (L)', 'AR', 'AR .5', 'AR .75',
                       'AR (M)', 'AR (L)')
NMS_MODES = ('oks_nms', 'none')
BACKENDS = ('pycocotools', 'xtcocotools')
#: xtcocotools' object-area estimate from a box when ``use_area=False``.
BOX_AREA_FACTOR = 0.53


def to_numpy(value: Any) -> np.ndarray:
    """A numpy array from a numpy array, a torch tensor, a list or a scalar."""
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def sample_field(sample: dict, key: str, default: Any = None) -> Any:
    """``sample[key]``, also looking inside a nested ``metainfo`` dict.

    ``BaseDataElement.to_dict`` puts metainfo keys at the top level; a dict
    built by hand may keep them under ``metainfo``.
    """
    if key in sample:
        return sample[key]
    meta = sample.get('metainfo')
    if isinstance(meta, dict) and key in meta:
        return meta[key]
    return default


def _box_areas(bboxes: np.ndarray) -> np.ndarray:
    """(N,) areas of (N, 4) xyxy boxes."""
    b = bboxes.reshape(-1, 4).astype(np.float64)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def _coco_backend(backend: str) -> tuple[type, type]:
    """(COCO, COCOeval) classes of the chosen library."""
    if backend == 'pycocotools':
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    elif backend == 'xtcocotools':
        try:
            from xtcocotools.coco import COCO
            from xtcocotools.cocoeval import COCOeval
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError("backend='xtcocotools' needs the xtcocotools package "
                              "(pip install customkpt[xtcoco]); or use "
                              "backend='pycocotools'") from exc
    else:
        raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
    return COCO, COCOeval


@METRICS.register_module()
class CocoKeypointMetric(BaseMetric):
    """COCO keypoint AP/AR with the dataset's own OKS sigmas (any K).

    Reports (with the default prefix ``coco``) ``coco/AP``, ``coco/AP .5``,
    ``coco/AP .75``, ``coco/AP (M)``, ``coco/AP (L)``, ``coco/AR``,
    ``coco/AR .5``, ``coco/AR .75``, ``coco/AR (M)``, ``coco/AR (L)``.

    Data samples (dicts, as mmengine passes them) need ``img_id`` and
    ``pred_instances`` with ``keypoints`` (N, K, 2) and ``keypoint_scores``
    (N, K); ``bbox_scores`` (N,) and ``bboxes`` (N, 4 xyxy) are used when
    present. Without ``ann_file`` they also need ``gt_instances`` with
    ``keypoints`` (N, K, 2), ``keypoints_visible`` (N, K), ``bboxes``
    (N, 4 xyxy) and ``areas`` (N,), and the annotation ``id``.

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
        backend: ``'pycocotools'`` (sigmas through
            ``params.kpt_oks_sigmas``) or ``'xtcocotools'``.
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
                 backend: str = 'pycocotools', collect_device: str = 'cpu',
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
        _coco_backend(backend)  # fail early on a bad name or a missing library
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

    # ------------------------------------------------------------------ process
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
                          bbox_scores=self._bbox_scores(pred, gt, num),
                          areas=self._areas(pred, gt, kpts))
            if self.ann_file is None and not self.format_only:
                result['gt'] = self._gt_of_sample(sample, gt, int(img_id))
            self.results.append(result)

    @staticmethod
    def _bbox_scores(pred: dict, gt: dict, num: int) -> np.ndarray:
        for source in (pred, gt):
            if source.get('bbox_scores') is not None:
                s = to_numpy(source['bbox_scores']).astype(np.float32).reshape(-1)
                if s.shape[0] == num:
                    return s
        return np.ones(num, np.float32)

    @staticmethod
    def _areas(pred: dict, gt: dict, kpts: np.ndarray) -> np.ndarray:
        num = kpts.shape[0]
        if pred.get('areas') is not None:
            a = to_numpy(pred['areas']).astype(np.float64).reshape(-1)
            if a.shape[0] == num:
                return a
        for source in (pred, gt):
            if source.get('bboxes') is not None:
                b = to_numpy(source['bboxes'])
                if b.size == 4 * num:
                    return _box_areas(b)
        if num == 0:
            return np.zeros(0)
        ext = kpts.max(axis=1) - kpts.min(axis=1)
        return (ext[:, 0] * ext[:, 1]).astype(np.float64)

    @staticmethod
    def _gt_of_sample(sample: dict, gt: dict, img_id: int) -> dict:
        """The ground-truth instances of one sample, as numpy."""
        if 'keypoints' not in gt:
            raise KeyError('CocoKeypointMetric(ann_file=None) builds the ground truth from '
                           'gt_instances, but a sample has no gt_instances.keypoints; give '
                           'ann_file')
        kpts = to_numpy(gt['keypoints']).astype(np.float64)
        kpts = kpts[None] if kpts.ndim == 2 else kpts
        num, num_kpts = kpts.shape[:2]
        vis = gt.get('keypoints_visible')
        vis = (np.ones((num, num_kpts)) if vis is None else
               to_numpy(vis).astype(np.float64).reshape(num, num_kpts))
        if gt.get('bbox_scores') is not None:
            box_scores = to_numpy(gt['bbox_scores']).reshape(-1)
            if np.any(np.abs(box_scores - 1) > 1e-6):
                raise ValueError(
                    'CocoKeypointMetric(ann_file=None) builds the ground truth from the '
                    'samples, but these carry detection boxes (gt bbox_scores != 1) and no '
                    'ground-truth keypoints: give ann_file')
        if gt.get('bboxes') is not None:
            bboxes = to_numpy(gt['bboxes']).astype(np.float64).reshape(num, 4)
        else:
            lab = vis > 0
            lo = np.where(lab[..., None], kpts, np.inf).min(axis=1)
            hi = np.where(lab[..., None], kpts, -np.inf).max(axis=1)
            bboxes = np.where(np.isfinite(lo).all(1, keepdims=True) & np.isfinite(hi).all(
                1, keepdims=True), np.concatenate([lo, hi], axis=1), 0.0)
        areas = (to_numpy(gt['areas']).astype(np.float64).reshape(num)
                 if gt.get('areas') is not None else _box_areas(bboxes))
        ann_id = sample_field(sample, 'id')
        ids = None if ann_id is None else [int(i) for i in np.atleast_1d(to_numpy(ann_id))]
        if ids is not None and len(ids) != num:
            ids = None
        shape = sample_field(sample, 'ori_shape')
        return dict(img_id=img_id, ids=ids, keypoints=kpts, visible=vis, bboxes=bboxes,
                    areas=areas, category_id=sample_field(sample, 'category_id'),
                    height=None if shape is None else int(shape[0]),
                    width=None if shape is None else int(shape[1]))

    # ------------------------------------------------------- ground truth
    def _load_ann_file(self) -> dict:
        """The annotation file's images, keypoint categories and their
        annotations, with missing ``num_keypoints``/``iscrowd``/``area``/
        ``bbox`` filled in (cached)."""
        if self._gt_cache is not None:
            return self._gt_cache
        with get_local_path(self.ann_file) as local:
            with open(local, encoding='utf-8') as f:
                data = json.load(f)
        cats = [c for c in data.get('categories', []) if c.get('keypoints')]
        if not cats:
            cats = list(data.get('categories', []))
        if not cats:
            raise ValueError(f'{self.ann_file}: no categories')
        cat_ids = {c['id'] for c in cats}
        anns = []
        for ann in data.get('annotations', []):
            if ann.get('category_id', cats[0]['id']) not in cat_ids or 'keypoints' not in ann:
                continue
            ann = dict(ann)
            ann.pop('segmentation', None)
            ann.setdefault('category_id', cats[0]['id'])
            kp = np.asarray(ann['keypoints'], dtype=np.float64).reshape(-1, 3)
            lab = kp[:, 2] > 0
            ann.setdefault('num_keypoints', int(lab.sum()))
            ann.setdefault('iscrowd', 0)
            if 'bbox' not in ann:
                if lab.any():
                    lo, hi = kp[lab, :2].min(0), kp[lab, :2].max(0)
                    ann['bbox'] = [lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]]
                else:
                    ann['bbox'] = [0.0, 0.0, 0.0, 0.0]
            ann.setdefault('area', float(ann['bbox'][2] * ann['bbox'][3]))
            anns.append(ann)
        images = [dict(id=img['id'], width=img.get('width'), height=img.get('height'))
                  for img in data.get('images', [])]
        self._gt_cache = dict(images=images, categories=cats, annotations=anns)
        return self._gt_cache

    @staticmethod
    def _gt_from_results(results: list, category_id: int, num_kpts: int) -> dict:
        """A COCO ground-truth dict from the samples' gt instances (one
        annotation per distinct (image, annotation id))."""
        images: dict[int, dict] = {}
        anns: list[dict] = []
        seen: set = set()
        for res in results:
            gt = res['gt']
            img_id = gt['img_id']
            img = images.setdefault(img_id, dict(id=img_id))
            if gt['width'] is not None:
                img.update(width=gt['width'], height=gt['height'])
            kpts, vis = gt['keypoints'], gt['visible']
            if kpts.shape[1] != num_kpts:
                raise ValueError(f'ground truth has {kpts.shape[1]} keypoints, predictions '
                                 f'{num_kpts}')
            for i in range(kpts.shape[0]):
                if gt['ids'] is not None:
                    key = (img_id, gt['ids'][i])
                    if key in seen:
                        continue
                    seen.add(key)
                v = np.where(vis[i] > 0, np.clip(np.round(vis[i]), 1, 2), 0)
                flat = np.concatenate([np.where(v[:, None] > 0, kpts[i], 0.0), v[:, None]],
                                      axis=1).reshape(-1)
                x1, y1, x2, y2 = gt['bboxes'][i].tolist()
                anns.append(dict(image_id=img_id, category_id=category_id, iscrowd=0,
                                 keypoints=flat.tolist(), num_keypoints=int((v > 0).sum()),
                                 bbox=[x1, y1, x2 - x1, y2 - y1], area=float(gt['areas'][i])))
        return dict(images=sorted(images.values(), key=lambda d: d['id']),
                    categories=[dict(id=category_id, name='object',
                                     keypoints=[f'kpt{i}' for i in range(num_kpts)])],
                    annotations=anns)

    # ------------------------------------------------------------ compute
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

    def _predictions(self, results: list, sigmas: np.ndarray,
                     category_of: Any) -> list[dict]:
        """COCO result dicts: rescored, OKS-NMS'd per image, sorted by image
        id then score."""
        per_image: dict[int, list[dict]] = defaultdict(list)
        for res in results:
            if res['keypoints'].shape[0]:
                per_image[res['img_id']].append(res)
        out = []
        for img_id in sorted(per_image):
            group = per_image[img_id]
            kpts = np.concatenate([r['keypoints'] for r in group]).astype(np.float64)
            kscores = np.concatenate([r['keypoint_scores'] for r in group]).astype(np.float64)
            bscores = np.concatenate([r['bbox_scores'] for r in group]).astype(np.float64)
            areas = np.concatenate([r['areas'] for r in group]).astype(np.float64)
            cats = [category_of(r['category_id']) for r in group
                    for _ in range(r['keypoints'].shape[0])]
            scores = rescore_instances(kscores, bscores, self.score_mode,
                                       self.keypoint_score_thr)
            if self.nms_mode == 'oks_nms':
                keep = oks_nms(kpts, scores, areas, sigmas, self.nms_thr)
            else:
                keep = np.argsort(-scores, kind='stable')
            for i in keep:
                flat = np.concatenate([kpts[i], kscores[i][:, None]], axis=1).reshape(-1)
                out.append(dict(image_id=int(img_id), category_id=int(cats[i]),
                                keypoints=flat.tolist(), score=float(scores[i])))
        return out

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
            cat_ids = [c['id'] for c in gt['categories']]
            default_cat = cat_ids[0]

            def category_of(cat: Any) -> int:
                return int(cat) if cat is not None and int(cat) in cat_ids else default_cat
        else:
            cats = {int(r['category_id']) for r in results if r.get('category_id') is not None}
            default_cat = cats.pop() if len(cats) == 1 else 1

            def category_of(cat: Any) -> int:
                return default_cat

        preds = self._predictions(results, sigmas, category_of)
        path = self.results_path()
        if path is not None:
            os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
            with open(path, 'w', encoding='utf-8') as f:
                f.write(json.dumps(preds))  # dumps uses the C encoder, dump does not
            print_log(f'CocoKeypointMetric: {len(preds)} predictions written to {path}',
                      logger='current')
        if self.format_only:
            return {}
        if gt is None:
            gt = self._gt_from_results(results, default_cat, num_kpts)
        metrics = self._evaluate(gt, preds, sigmas)
        print_log(f'CocoKeypointMetric: {len(preds)} predictions on {len(gt["images"])} '
                  f'images evaluated in {time.perf_counter() - tic:.2f} s', logger='current')
        return metrics

    def _evaluate(self, gt: dict, preds: list[dict], sigmas: np.ndarray) -> dict[str, float]:
        """Run COCOeval (keypoints) and return the ten summary numbers."""
        coco_cls, eval_cls = _coco_backend(self.backend)
        gt = dict(gt)
        anns = []
        for new_id, ann in enumerate(gt['annotations'], start=1):
            ann = dict(ann, id=new_id)
            if len(ann['keypoints']) != 3 * len(sigmas):
                raise ValueError(f'ground truth has {len(ann["keypoints"]) // 3} keypoints, '
                                 f'predictions {len(sigmas)}')
            if not self.use_area and self.backend == 'pycocotools':
                ann['area'] = float(ann['bbox'][2] * ann['bbox'][3] * BOX_AREA_FACTOR)
            anns.append(ann)
        gt['annotations'] = anns
        img_ids = {img['id'] for img in gt['images']}
        kept = [p for p in preds if p['image_id'] in img_ids]
        if len(kept) < len(preds):
            print_log(f'CocoKeypointMetric: {len(preds) - len(kept)} predictions are on images '
                      'absent from the ground truth and were left out', logger='current',
                      level=logging.WARNING)
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            coco_gt = coco_cls()
            coco_gt.dataset = gt
            coco_gt.createIndex()
            if kept:
                # loadRes adds keys to each dict but only reads 'keypoints'
                coco_dt = coco_gt.loadRes([dict(p) for p in kept])
            else:
                coco_dt = coco_cls()
                coco_dt.dataset = dict(images=list(gt['images']),
                                       categories=copy.deepcopy(gt['categories']),
                                       annotations=[])
                coco_dt.createIndex()
            if self.backend == 'xtcocotools':
                ev = eval_cls(coco_gt, coco_dt, 'keypoints', sigmas, use_area=self.use_area)
            else:
                ev = eval_cls(coco_gt, coco_dt, 'keypoints')
                ev.params.kpt_oks_sigmas = sigmas
            ev.params.useSegm = None
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        print_log(f'CocoKeypointMetric ({self.backend}):\n{text.getvalue()}', logger='current')
        return {name: float(value) for name, value in zip(COCO_KEYPOINT_STATS, ev.stats)}


__all__ = ['CocoKeypointMetric', 'COCO_KEYPOINT_STATS', 'to_numpy', 'sample_field']
