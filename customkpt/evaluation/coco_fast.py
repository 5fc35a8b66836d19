"""The ``'faster'`` COCO keypoint backend's own parts: faster-coco-eval's
``COCOeval_faster`` with the keypoint OKS of all (detection, ground truth)
pairs of an evaluation computed in a few numpy passes, and keypoint results
loaded into faster-coco-eval's ``COCO`` with numpy.

Both give exactly what faster-coco-eval's own ``computeOks`` and
``COCO.loadRes`` give (the same floating-point operations in the same
order); they only leave out the per-pair and per-result Python loops.
"""
from __future__ import annotations

import copy
import itertools
from typing import Sequence

import numpy as np
from faster_coco_eval import COCO, COCOeval_faster

from customkpt.core.boxes import AREA_EPS

from .coco_eval import BOX_AREA_FACTOR

__all__ = ['FasterKeypointEval', 'keypoint_oks_matrices', 'load_keypoint_results']

#: Pairs whose OKS is computed in one numpy pass (bounds the memory).
_CHUNK = 1 << 16


def _box_offsets(points: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P, K) x and y distances of each pair's detected points outside its
    ground truth's box grown by the box's size on every side
    (``[x - w, x + 2w]``), 0 inside; ``points`` (P, K, 3), ``boxes`` (P, 4)."""
    x0, x1 = boxes[:, 0] - boxes[:, 2], boxes[:, 0] + boxes[:, 2] * 2
    y0, y1 = boxes[:, 1] - boxes[:, 3], boxes[:, 1] + boxes[:, 3] * 2
    xd, yd = points[:, :, 0], points[:, :, 1]
    dx = np.maximum(0.0, x0[:, None] - xd) + np.maximum(0.0, xd - x1[:, None])
    dy = np.maximum(0.0, y0[:, None] - yd) + np.maximum(0.0, yd - y1[:, None])
    return dx, dy


def _pairs_oks(dets: np.ndarray, gts: np.ndarray, boxes: np.ndarray, scales: np.ndarray,
               variances: np.ndarray, pd: np.ndarray, pg: np.ndarray) -> np.ndarray:
    """(P,) OKS of the pairs (detection ``pd[i]``, ground truth ``pg[i]``).

    Pairs are taken by the number ``c`` of labelled points of their ground
    truth, ``_CHUNK`` at a time, so that every OKS is the sum of one
    contiguous row of ``c`` (or, with none labelled, K) values divided by
    its length, as COCOeval computes it.
    """
    labelled = gts[:, :, 2] > 0
    counts = labelled.sum(axis=1)[pg]
    out = np.empty(pd.shape[0])
    for count in np.unique(counts):
        sel_all = np.flatnonzero(counts == count)
        for at in range(0, sel_all.size, _CHUNK):
            sel = sel_all[at:at + _CHUNK]
            d, g = pd[sel], pg[sel]
            if count:
                cols = np.nonzero(labelled[g])[1].reshape(sel.size, count)
                dx = dets[d[:, None], cols, 0] - gts[g[:, None], cols, 0]
                dy = dets[d[:, None], cols, 1] - gts[g[:, None], cols, 1]
                var = variances[cols]
            else:
                dx, dy = _box_offsets(dets[d], boxes[g])
                var = variances
            e = np.ascontiguousarray((dx ** 2 + dy ** 2) / var / (scales[g, None] + AREA_EPS) / 2)
            out[sel] = np.exp(-e).sum(axis=-1) / e.shape[-1]
    return out


def _kept_detections(groups: np.ndarray, scores: np.ndarray, max_dets: int) -> np.ndarray:
    """Indices of the detections COCOeval compares: by group, within one by
    descending score (ties in input order), at most ``max_dets`` each."""
    order = np.lexsort((-scores, groups))
    sorted_groups = groups[order]
    rank = np.arange(order.size) - np.searchsorted(sorted_groups, sorted_groups, side='left')
    return order[rank < max_dets]


def keypoint_oks_matrices(dets: np.ndarray, det_groups: np.ndarray, det_scores: np.ndarray,
                          gts: np.ndarray, gt_groups: np.ndarray, boxes: np.ndarray,
                          scales: np.ndarray, sigmas: np.ndarray, max_dets: int,
                          num_groups: int) -> list:
    """COCOeval's keypoint OKS matrices of many (image, category) groups.

    Per group the detections are ordered by descending score (stable) and
    cut at ``max_dets``. A ground truth with labelled points (``v > 0``) is
    compared on those: ``e = d^2 / (2 sigma)^2 / (scale + eps) / 2`` and
    OKS is the mean of ``exp(-e)``. One without labelled points is compared
    on all K points, ``d`` being each point's distance outside its box grown
    by the box's size on every side.

    Args:
        dets: (N, K, 3) detected keypoints (x, y, score).
        det_groups: (N,) int group of each detection, in ``[0, num_groups)``.
        det_scores: (N,) instance scores.
        gts: (M, K, 3) ground-truth keypoints (x, y, v).
        gt_groups: (M,) non-decreasing int group of each ground truth.
        boxes: (M, 4) ground-truth xywh boxes.
        scales: (M,) ground-truth object scales (areas).
        sigmas: (K,) OKS sigmas.
        max_dets: detections compared per group.
        num_groups: number of groups.

    Returns:
        Per group a (D, G) float64 OKS array (D kept detections in order,
        G ground truths in input order), or ``[]`` when D or G is 0.
    """
    kept = _kept_detections(np.asarray(det_groups), np.asarray(det_scores, np.float64),
                            max_dets)
    dets = np.asarray(dets, dtype=np.float64)[kept]
    num_d = np.bincount(np.asarray(det_groups)[kept], minlength=num_groups)
    num_g = np.bincount(np.asarray(gt_groups), minlength=num_groups)
    sizes = num_d * num_g
    first = np.cumsum(sizes) - sizes
    pair_group = np.repeat(np.arange(num_groups), sizes)
    local = np.arange(pair_group.size) - first[pair_group]
    cols = num_g[pair_group]
    pd = (np.cumsum(num_d) - num_d)[pair_group] + local // cols
    pg = (np.cumsum(num_g) - num_g)[pair_group] + local % cols
    oks = _pairs_oks(dets, np.asarray(gts, dtype=np.float64),
                     np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
                     np.asarray(scales, dtype=np.float64).reshape(-1),
                     (np.asarray(sigmas, dtype=np.float64) * 2) ** 2, pd, pg)
    return [oks[end - nd * ng:end].reshape(nd, ng) if nd * ng else []
            for end, nd, ng in zip(np.cumsum(sizes).tolist(), num_d.tolist(), num_g.tolist())]


class FasterKeypointEval(COCOeval_faster):
    """``COCOeval_faster`` whose keypoint OKS comes from
    :func:`keypoint_oks_matrices`, for all (image, category) pairs of an
    evaluation at once; the arrays are the library's own to the last bit."""

    def _prepare(self) -> None:
        super()._prepare()
        self._oks_table = None  # built on the first computeOks of this evaluation

    def computeOks(self, imgId: int, catId: int) -> list | np.ndarray:  # noqa: N802,N803
        """(D, G) OKS of the pair's detections (by score, at most
        ``maxDets[-1]``) to its ground truths; ``[]`` when either is
        empty."""
        if getattr(self, '_oks_table', None) is None:
            pairs = getattr(self, '_nonempty_iou_pairs', None)
            if pairs is None:
                p = self.params
                pairs = itertools.product(p.imgIds, p.catIds if p.useCats else [-1])
            self._oks_table = self._oks_of(sorted(pairs))
        key = (imgId, catId)
        return self._oks_table[key] if key in self._oks_table else self._oks_of([key])[key]

    def _oks_of(self, pairs: list[tuple[int, int]]) -> dict:
        """(image, category) -> its OKS array (or ``[]``), for ``pairs``."""
        p = self.params
        gts = [self.gt_dataset.get(img, cat) for img, cat in pairs]
        dts = [self.dt_dataset.get(img, cat) for img, cat in pairs]
        flat_g = list(itertools.chain.from_iterable(gts))
        flat_d = list(itertools.chain.from_iterable(dts))
        if not flat_g or not flat_d:
            arrays = [[] for _ in pairs]
        else:
            num_kpts = len(p.kpt_oks_sigmas)
            boxes = np.asarray([g['bbox'] for g in flat_g], dtype=np.float64)
            if self.use_area:
                scales = np.asarray([g['area'] for g in flat_g], dtype=np.float64)
            else:
                scales = boxes[:, 3] * boxes[:, 2] * BOX_AREA_FACTOR
            arrays = keypoint_oks_matrices(
                np.asarray([d['keypoints'] for d in flat_d], np.float64).reshape(-1, num_kpts, 3),
                np.repeat(np.arange(len(pairs)), [len(d) for d in dts]),
                np.asarray([d['score'] for d in flat_d], dtype=np.float64),
                np.asarray([g['keypoints'] for g in flat_g], np.float64).reshape(-1, num_kpts, 3),
                np.repeat(np.arange(len(pairs)), [len(g) for g in gts]), boxes, scales,
                p.kpt_oks_sigmas, p.maxDets[-1], len(pairs))
        return dict(zip(pairs, arrays))


def load_keypoint_results(coco_gt: COCO, results: Sequence[dict]) -> COCO:
    """Keypoint results as a faster-coco-eval ``COCO``, as
    ``coco_gt.loadRes(results)`` makes it, without changing ``results``.

    Each result gets ``id`` 1..N, ``bbox`` the xywh box of all its K points
    (labelled or not) and ``area`` that box's area. Results that loadRes
    would read differently (with a ``bbox``, ``segmentation`` or
    ``caption``) go through loadRes itself, as copies.

    Args:
        coco_gt: the ground truth, indexed.
        results: non-empty COCO keypoint results (``image_id``,
            ``category_id``, ``keypoints`` 3K floats, ``score``) on images of
            ``coco_gt``.

    Raises:
        ValueError: results on images absent from ``coco_gt``, or keypoint
            lists of different lengths.
    """
    first = results[0]
    if 'caption' in first or first.get('bbox', []) != [] or 'segmentation' in first:
        return coco_gt.loadRes([dict(r) for r in results])
    absent = {r['image_id'] for r in results} - set(coco_gt.imgs)
    if absent:
        raise ValueError(f'keypoint results on images absent from the ground truth: '
                         f'{sorted(absent)[:5]}')
    lengths = {len(r['keypoints']) for r in results}
    if len(lengths) > 1:
        raise ValueError(f'keypoint results have keypoint lists of lengths {sorted(lengths)}; '
                         'all need 3 x K values')
    flat = np.asarray([r['keypoints'] for r in results], dtype=np.float64)
    x, y = flat[:, 0::3], flat[:, 1::3]
    x0, x1, y0, y1 = x.min(axis=1), x.max(axis=1), y.min(axis=1), y.max(axis=1)
    w, h = x1 - x0, y1 - y0
    res = COCO()
    res.dataset['info'] = copy.deepcopy(coco_gt.dataset.get('info', {}))
    res.dataset['images'] = list(coco_gt.dataset['images'])
    res.dataset['categories'] = copy.deepcopy(coco_gt.dataset['categories'])
    res.dataset['annotations'] = [
        dict(r, area=a, id=i, bbox=[bx, by, bw, bh]) for i, (r, a, bx, by, bw, bh) in enumerate(
            zip(results, (w * h).tolist(), x0.tolist(), y0.tolist(), w.tolist(), h.tolist()),
            start=1)]
    res.createIndex()
    return res

