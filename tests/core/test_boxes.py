"""customkpt.core.boxes: box formats, clipping, boxes from points, IoU, NMS,
OKS and OKS-NMS."""
from __future__ import annotations

import math

import numpy as np
import pytest

from customkpt.core.boxes import (box_iou, boxes_from_points, clip_boxes, nms, oks, oks_nms,
                                  select_detections,
                                  xywh_to_xyxy, xyxy_to_xywh)


# ------------------------------------------------- the former implementations
def _dataset_boxes_from_points(keypoints, visible, padding=0.25):
    """What the COCO dataset computed for annotations without a box."""
    x, y = keypoints[..., 0], keypoints[..., 1]
    with np.errstate(invalid='ignore'):
        x0 = np.where(visible, x, np.inf).min(axis=1)
        x1 = np.where(visible, x, -np.inf).max(axis=1)
        y0 = np.where(visible, y, np.inf).min(axis=1)
        y1 = np.where(visible, y, -np.inf).max(axis=1)
        pad = padding * np.maximum(x1 - x0, y1 - y0)
        boxes = np.stack([x0 - pad, y0 - pad, x1 + pad, y1 + pad], axis=1)
    boxes[~visible.any(axis=1)] = np.nan
    return boxes.astype(np.float32)


def _converter_bbox_from_points(xy, width, height, pad=0.25, min_margin=8.0):
    """What the dataset converters computed: a clipped [x, y, w, h] or None."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    margin = max(pad * max(x1 - x0, y1 - y0), min_margin)
    x0, x1 = min(max(x0 - margin, 0.0), width), min(max(x1 + margin, 0.0), width)
    y0, y1 = min(max(y0 - margin, 0.0), height), min(max(y1 + margin, 0.0), height)
    if not (x1 > x0 and y1 > y0):
        return None
    return [x0, y0, x1 - x0, y1 - y0]


def _tracker_oks(kpts, valid, ref_kpts, ref_valid, ref_areas, sigmas):
    """What the pose tracker computed: (N, M) OKS over points valid in both."""
    d2 = ((kpts[:, None] - ref_kpts[None]) ** 2).sum(-1)
    var = (2.0 * np.asarray(sigmas, dtype=np.float64)) ** 2
    area = np.maximum(np.asarray(ref_areas, dtype=np.float64), 1e-6)
    e = d2 / (2.0 * area[None, :, None] * var[None, None, :])
    both = valid[:, None, :] & ref_valid[None, :, :]
    count = both.sum(-1)
    total = np.where(both, np.exp(-e), 0.0).sum(-1)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


# ------------------------------------------------------------- formats, clip
def test_xywh_xyxy_round_trip():
    xywh = np.array([[10, 20, 30, 40], [0.5, 1.5, 0, 2]])
    xyxy = xywh_to_xyxy(xywh)
    np.testing.assert_array_equal(xyxy, [[10, 20, 40, 60], [0.5, 1.5, 0.5, 3.5]])
    assert xyxy.dtype == np.float32 and xywh_to_xyxy([1, 2, 3, 4]).shape == (1, 4)
    np.testing.assert_array_equal(xyxy_to_xywh(xyxy), xywh)
    assert xyxy_to_xywh(xyxy, dtype=np.float64).dtype == np.float64
    assert xywh_to_xyxy(np.zeros((0, 4))).shape == (0, 4)


def test_clip_boxes_scalar_and_per_box_sizes():
    boxes = np.array([[-5, -5, 50, 50], [10, 10, 300, 300], [np.nan] * 4], np.float32)
    np.testing.assert_array_equal(clip_boxes(boxes[:2], 40, 30),
                                  [[0, 0, 40, 30], [10, 10, 40, 30]])
    out = clip_boxes(boxes, np.array([100, np.nan, 10]), np.array([20, 200, 10]))
    np.testing.assert_array_equal(out[:2], [[0, 0, 50, 20], [10, 10, 300, 200]])  # NaN: open
    assert np.isnan(out[2]).all() and out.dtype == np.float32
    swapped = np.array([[50, 40, -5, 5]], np.float32)
    np.testing.assert_array_equal(clip_boxes(swapped, 30, 30, sort_corners=True),
                                  [[0, 5, 30, 30]])
    np.testing.assert_array_equal(clip_boxes(swapped, 30, 30), [[30, 30, 0, 5]])


# --------------------------------------------------------- boxes from points
def test_boxes_from_points_hand_computed():
    kpts = np.array([[[10, 20], [50, 30], [0, 0]], [[5, 5], [0, 0], [0, 0]]], np.float32)
    vis = np.array([[True, True, False], [True, False, False]])
    # extent 40 x 10 -> 25% of 40 = 10 on every side; a single point: no extent
    np.testing.assert_allclose(boxes_from_points(kpts, vis), [[0, 10, 60, 40], [5, 5, 5, 5]])
    np.testing.assert_allclose(boxes_from_points(kpts, vis, 0.0, min_margin=2),
                               [[8, 18, 52, 32], [3, 3, 7, 7]])
    none = boxes_from_points(kpts, np.zeros((2, 3), bool))
    assert np.isnan(none).all() and none.dtype == np.float32


def test_boxes_from_points_matches_the_dataset_rule():
    rng = np.random.default_rng(0)
    kpts = rng.uniform(-20, 300, (50, 7, 2)).astype(np.float32)
    vis = rng.random((50, 7)) < 0.6
    vis[:3] = False
    np.testing.assert_array_equal(boxes_from_points(kpts, vis),
                                  _dataset_boxes_from_points(kpts, vis))


@pytest.mark.parametrize('pad, min_margin', [(0.25, 8.0), (0.0, 2.0), (0.1, 0.0)])
def test_boxes_from_points_with_clip_matches_the_converter_rule(pad, min_margin):
    rng = np.random.default_rng(1)
    for _ in range(200):
        n = int(rng.integers(1, 6))
        xy = rng.uniform(-80, 260, (n, 2))
        width, height = float(rng.integers(50, 250)), float(rng.integers(50, 250))
        want = _converter_bbox_from_points(xy, width, height, pad, min_margin)
        box = boxes_from_points(xy[None], np.ones((1, n), bool), pad, min_margin,
                                dtype=np.float64)
        box = clip_boxes(box, width, height, dtype=np.float64)
        xywh = xyxy_to_xywh(box, dtype=np.float64)[0]
        got = xywh.tolist() if xywh[2] > 0 and xywh[3] > 0 else None
        assert got == want  # exactly, in float64
    assert boxes_from_points(np.zeros((1, 1, 2)), np.ones((1, 1), bool), min_margin=8).tolist() \
        == [[-8, -8, 8, 8]]


# ---------------------------------------------------------------- IoU, NMS
def test_box_iou_over_union_and_over_the_smaller_box():
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [2, 2, 4, 4]], np.float32)
    np.testing.assert_allclose(box_iou(a, b), [[1.0, 50 / 150, 0.0, 4 / 100]])
    np.testing.assert_allclose(box_iou(a, b, over='min'), [[1.0, 0.5, 0.0, 1.0]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 4)


def test_nms_per_class():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]])
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    assert nms(boxes, scores, 0.5).tolist() == [0, 3]
    assert nms(boxes, scores, 0.5, classes=np.array([0, 0, 1, 0])).tolist() == [0, 2, 3]
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []


def test_nms_keeps_equal_scores_in_input_order_and_threshold_is_strict():
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [0, 0, 10, 10]], np.float32)
    # IoU(0, 1) = 50 / 150 = 1/3: kept at thr 1/3 (only IoU above thr suppresses)
    assert nms(boxes, np.ones(3), 1 / 3).tolist() == [0, 1]
    assert nms(boxes, np.ones(3), 0.3).tolist() == [0]
    assert nms(boxes, np.array([0.1, 0.2, 0.3]), 0.99).tolist() == [2, 1]
    assert nms(boxes, np.ones(3), 0.5).dtype == np.int64


# ---------------------------------------------------------------- OKS

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


def test_oks_nms_a_non_finite_pose_suppresses_nothing_and_survives() -> None:
    sigmas = np.full(3, 0.1)
    a = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    broken = a.copy()
    broken[1] = np.nan
    kpts = np.stack([broken, a, a + [1.0, 0.0]])
    areas = np.full(3, 100.0)
    # the broken pose ranks first: the other two still meet each other
    assert oks_nms(kpts, np.array([0.9, 0.8, 0.7]), areas, sigmas, thr=0.88).tolist() == [0, 1]
    # ranked last, it is kept rather than silently dropped
    assert oks_nms(kpts, np.array([0.1, 0.8, 0.7]), areas, sigmas, thr=0.88).tolist() == [1, 0]


def test_oks_with_prediction_masks_matches_the_tracker_rule():
    """The tracker's OKS (points valid in both poses, the reference's area)
    is :func:`oks` with ``pred_valid``, one reference at a time."""
    rng = np.random.default_rng(3)
    sigmas = rng.uniform(0.02, 0.1, 6)
    ref = rng.uniform(0, 100, (4, 6, 2))
    kpts = ref[[0, 1, 2, 3, 0]] + rng.normal(0, 4, (5, 6, 2))
    valid, ref_valid = rng.random((5, 6)) < 0.7, rng.random((4, 6)) < 0.7
    valid[4] = False  # shares no point: 0
    areas = rng.uniform(400, 5000, 4)
    want = _tracker_oks(kpts, valid, ref, ref_valid, areas, sigmas)
    got = np.stack([oks(ref[m], ref_valid[m], areas[m], kpts, sigmas, pred_valid=valid)
                    for m in range(4)], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    assert (got[4] == 0).all() and got.max() > 0.3
    # all valid: the same as without a mask
    np.testing.assert_allclose(oks(ref[0], ref_valid[0], areas[0], kpts, sigmas,
                                   pred_valid=np.ones((5, 6), bool)),
                               oks(ref[0], ref_valid[0], areas[0], kpts, sigmas), rtol=1e-14)


def test_select_detections_filters_suppresses_caps_and_clips():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [50, 5, 70, 15],
                      [-5, -5, 5, 5], [95, 0, 120, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.95, 0.6, 0.1])
    labels = np.array([0, 0, 0, 1, 0, 0])
    # class 0 above 0.2, best first; the near copy of box 0 survives without NMS
    out, sc = select_detections(boxes, scores, labels, (40, 60, 3), 0.2, class_ids=[0])
    np.testing.assert_array_equal(out, [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30],
                                        [0, 0, 5, 5]])      # the last one clipped to the frame
    np.testing.assert_allclose(sc, [0.9, 0.8, 0.7, 0.6])
    assert out.dtype == sc.dtype == np.float32
    # NMS drops the copy; every class; the cap keeps the best two
    out, sc = select_detections(boxes, scores, labels, (40, 60), 0.2, nms_thr=0.5, max_det=2)
    np.testing.assert_array_equal(out, [[50, 5, 60, 15], [0, 0, 10, 10]])
    # a box outside the frame has no area left after clipping and is left out
    out, sc = select_detections(boxes[5:], scores[5:], labels[5:], (40, 60), 0.0)
    assert out.shape == (0, 4) and sc.shape == (0, )
