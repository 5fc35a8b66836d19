"""The pure-numpy evaluation functions on hand-computed cases."""
from __future__ import annotations

import math

import numpy as np
import pytest

from customkpt.evaluation.functional import (auc, auc_thresholds, epe, oks, oks_nms, pck,
                                             pck_curve, rescore_instances)


def test_oks_hand_computed() -> None:
    sigmas = [0.1, 0.2]
    gt = np.array([[10.0, 10.0], [20.0, 20.0]])
    # offsets (1, 0) and (0, 2): e = d^2 / ((2 sigma)^2 * area * 2)
    # point 0: 1 / (0.04 * 100 * 2) = 0.125; point 1: 4 / (0.16 * 100 * 2) = 0.125
    pred = np.array([[[11.0, 10.0], [20.0, 22.0]],
                     [[10.0, 10.0], [20.0, 20.0]],
                     [[11.0, 10.0], [20.0, 20.0]]])
    got = oks(gt, [1, 1], 100.0, pred, sigmas)
    assert got.shape == (3,)
    assert got[0] == pytest.approx(math.exp(-0.125), abs=1e-12)
    assert got[1] == pytest.approx(1.0, abs=1e-12)
    assert got[2] == pytest.approx((math.exp(-0.125) + 1.0) / 2, abs=1e-12)
    # only labelled points count: point 1 unlabelled
    only0 = oks(gt, [2, 0], 100.0, pred, sigmas)
    assert only0 == pytest.approx([math.exp(-0.125), 1.0, math.exp(-0.125)], abs=1e-12)
    # per-prediction areas broadcast: area 25 quadruples e
    per_area = oks(gt, [1, 1], np.array([100.0, 25.0, 100.0]), pred[[0, 0, 0]], sigmas)
    assert per_area == pytest.approx([math.exp(-0.125), math.exp(-0.5), math.exp(-0.125)])
    # nothing labelled -> zeros; no predictions -> empty
    assert oks(gt, [0, 0], 100.0, pred, sigmas).tolist() == [0.0, 0.0, 0.0]
    assert oks(gt, [1, 1], 100.0, np.zeros((0, 2, 2)), sigmas).shape == (0,)
    with pytest.raises(ValueError):
        oks(gt, [1, 1], 100.0, pred, [0.1, 0.2, 0.3])


def test_oks_matches_pycocotools() -> None:
    """The same OKS as COCOeval.computeOks on random poses (K = 5)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    rng = np.random.default_rng(0)
    num_kpts = 5
    sigmas = rng.uniform(0.02, 0.1, num_kpts)
    gt_xy = rng.uniform(0, 200, (num_kpts, 2))
    vis = np.array([2, 0, 1, 2, 2])
    preds = gt_xy[None] + rng.normal(0, 6, (4, num_kpts, 2))
    gt_flat = np.concatenate([gt_xy, vis[:, None]], 1).reshape(-1).tolist()
    coco = COCO()
    coco.dataset = dict(images=[dict(id=1)], categories=[dict(id=1, name='x')],
                        annotations=[dict(id=1, image_id=1, category_id=1, iscrowd=0,
                                          keypoints=gt_flat, num_keypoints=4, area=900.0,
                                          bbox=[0, 0, 200, 200])])
    coco.createIndex()
    dets = coco.loadRes([dict(image_id=1, category_id=1, score=1.0 - 0.1 * i,
                              keypoints=np.concatenate([p, np.ones((num_kpts, 1))],
                                                       1).reshape(-1).tolist())
                         for i, p in enumerate(preds)])
    ev = COCOeval(coco, dets, 'keypoints')
    ev.params.kpt_oks_sigmas = sigmas
    ev.params.imgIds = [1]
    ev.evaluate()
    reference = ev.ious[(1, 1)][:, 0]
    assert oks(gt_xy, vis, 900.0, preds, sigmas) == pytest.approx(reference, abs=1e-12)


def test_oks_nms_hand_computed() -> None:
    sigmas = np.full(3, 0.1)
    a = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    # offset 1 px on every point: OKS = exp(-1 / (0.04 * 100 * 2)) = 0.8825
    near = a + [1.0, 0.0]
    far = a + 100.0
    kpts = np.stack([near, a, far])
    scores = np.array([0.8, 0.9, 0.85])
    areas = np.full(3, 100.0)
    assert oks_nms(kpts, scores, areas, sigmas, thr=0.9).tolist() == [1, 2, 0]
    assert oks_nms(kpts, scores, areas, sigmas, thr=0.88).tolist() == [1, 2]
    # the pair's area is the mean of both: areas 100 and 300 -> 200, OKS 0.9394
    assert oks_nms(kpts, scores, np.array([300.0, 100.0, 100.0]), sigmas,
                   thr=0.9).tolist() == [1, 2]
    assert oks_nms(np.zeros((0, 3, 2)), np.zeros(0), np.zeros(0), sigmas).tolist() == []


def test_rescore_instances() -> None:
    kscores = np.array([[0.9, 0.5, 0.1, 0.3],   # above 0.2: 0.9, 0.5, 0.3 -> 0.5667
                        [0.1, 0.2, 0.05, 0.0]])  # none above 0.2 -> 0
    box = np.array([0.5, 0.8])
    got = rescore_instances(kscores, box, 'bbox_keypoint', 0.2)
    assert got == pytest.approx([0.5 * (0.9 + 0.5 + 0.3) / 3, 0.0])
    assert rescore_instances(kscores, box, 'bbox').tolist() == [0.5, 0.8]
    assert rescore_instances(kscores, box, 'keypoint') == pytest.approx([1.7 / 3, 0.0])
    assert rescore_instances(kscores, None) == pytest.approx([1.7 / 3, 0.0])
    with pytest.raises(ValueError):
        rescore_instances(kscores, box, 'rle')


def test_pck_epe_auc_hand_computed() -> None:
    gt = np.zeros((1, 5, 2))
    # errors 3, 4.9, 5, 10 along x; point 4 unlabelled with a huge error
    pred = np.array([[[3.0, 0.0], [4.9, 0.0], [0.0, 5.0], [6.0, 8.0], [500.0, 0.0]]])
    mask = np.array([[True, True, True, True, False]])
    per, overall, count = pck(pred, gt, mask, np.array([100.0]), 0.05)  # 5 px
    assert count == 4
    assert overall == pytest.approx(0.5)  # 3 and 4.9 are < 5; 5 is not (strict)
    assert per[:4].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert np.isnan(per[4])
    per_epe, mean_epe = epe(pred, gt, mask)
    assert mean_epe == pytest.approx((3 + 4.9 + 5 + 10) / 4)
    assert per_epe[:4] == pytest.approx([3, 4.9, 5, 10]) and np.isnan(per_epe[4])
    # normalised errors 0.03, 0.049, 0.05, 0.1: PCK at 0.01..0.5 step 0.01
    thrs = auc_thresholds(0.5, 50)
    assert thrs[0] == pytest.approx(0.01) and thrs[-1] == pytest.approx(0.5)
    curve = pck_curve(pred, gt, mask, np.array([100.0]), thrs)
    # correct counts: t=0.01..0.03 -> 0; 0.04 -> 1; 0.05 -> 2; 0.06..0.10 -> 3; >0.10 -> 4
    expected = np.array([0, 0, 0, 1, 2, 3, 3, 3, 3, 3] + [4] * 40) / 4
    assert curve == pytest.approx(expected)
    assert auc(pred, gt, mask, np.array([100.0]), 0.5, 50) == pytest.approx(expected.mean())
    assert auc(gt, gt, mask, np.array([100.0])) == pytest.approx(1.0)
    # a non-positive norm removes the instance; nothing left -> NaN
    _, none, n = pck(pred, gt, mask, np.array([0.0]), 0.05)
    assert n == 0 and math.isnan(none)


def test_box_iou_over_union_and_over_the_smaller_box():
    from customkpt.evaluation.functional import box_iou
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [2, 2, 4, 4]], np.float32)
    np.testing.assert_allclose(box_iou(a, b), [[1.0, 50 / 150, 0.0, 4 / 100]])
    np.testing.assert_allclose(box_iou(a, b, over='min'), [[1.0, 0.5, 0.0, 1.0]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 4)
