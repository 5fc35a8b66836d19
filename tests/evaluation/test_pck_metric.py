"""PCKAccuracy and MpiiPCKAccuracy on hand-computed cases."""
from __future__ import annotations

import numpy as np
import pytest
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData

from customkpt.evaluation import MpiiPCKAccuracy, PCKAccuracy
from customkpt.registry import METRICS
from customkpt.structures import PoseDataSample

NAMES = ['nose', 'left_shoulder', 'right_shoulder', 'left_hip', 'right_hip']
META = dict(dataset_name='toy', num_keypoints=5, keypoint_names=NAMES, sigmas=[0.05] * 5)
MPII_NAMES = ['r_ankle', 'r_knee', 'r_hip', 'l_hip', 'l_knee', 'l_ankle', 'pelvis', 'thorax',
              'upper_neck', 'head_top', 'r_wrist', 'r_elbow', 'r_shoulder', 'l_shoulder',
              'l_elbow', 'l_wrist']


def sample(gt: np.ndarray, pred: np.ndarray, vis: np.ndarray | None = None,
           bbox: tuple[float, ...] = (0, 0, 100, 40), head_size: float | None = None) -> dict:
    """One top-down sample dict: (K, 2) ground truth and prediction."""
    gt_inst = dict(keypoints=np.asarray(gt, np.float32)[None],
                   keypoints_visible=(np.ones(len(gt), np.float32) if vis is None else
                                      np.asarray(vis, np.float32))[None],
                   bboxes=np.asarray([bbox], np.float32))
    if head_size is not None:
        gt_inst['head_size'] = np.array([head_size], np.float32)
    return dict(img_id=1, id=1, gt_instances=gt_inst,
                pred_instances=dict(keypoints=np.asarray(pred, np.float32)[None],
                                    keypoint_scores=np.ones((1, len(gt)), np.float32)))


def evaluate(metric: PCKAccuracy, samples: list[dict], meta: dict = META) -> dict:
    metric.dataset_meta = meta
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def toy_samples() -> list[dict]:
    """Two instances. Box 100 x 40 -> bbox norm 100 (the longer side);
    head_size 10; torso = |left_shoulder - right_hip| = 50 in the first,
    unlabelled right_hip in the second."""
    gt1 = np.array([[50, 10], [30, 20], [70, 20], [30, 60], [60, 60]], float)  # torso 50
    err1 = np.array([[3, 0], [0, 4.9], [6, 8], [0, 1], [200, 0]], float)  # 3, 4.9, 10, 1, 200
    gt2 = np.array([[10, 10], [20, 20], [30, 20], [20, 50], [0, 0]], float)
    err2 = np.array([[0, 2], [7, 0], [0, 0], [5, 0], [999, 999]], float)  # 2, 7, 0, 5, -
    return [sample(gt1, gt1 + err1, head_size=10),
            sample(gt2, gt2 + err2, vis=[1, 1, 1, 1, 0], head_size=20)]


def stored_errors(samples: list[dict]) -> np.ndarray:
    """The labelled points' pixel errors, from the float32 arrays as stored."""
    out = []
    for s in samples:
        d = np.linalg.norm(s['pred_instances']['keypoints'][0].astype(np.float64)
                           - s['gt_instances']['keypoints'][0], axis=-1)
        out.extend(d[s['gt_instances']['keypoints_visible'][0] > 0])
    return np.array(out)


def test_pck_bbox_hand_computed() -> None:
    got = evaluate(PCKAccuracy(thr=0.05, norm_item='bbox'), toy_samples())
    # 5 px: instance 1 errors 3, 4.9, 10, 1, 200 -> 3 correct; instance 2: 2, 7, 0, 5 -> 2
    # (5 is not < 5; the unlabelled 999 is ignored)
    assert got['PCK'] == pytest.approx(5 / 9)
    assert got['EPE'] == pytest.approx((3 + 4.9 + 10 + 1 + 200 + 2 + 7 + 0 + 5) / 9)
    assert got['PCK/nose'] == pytest.approx(1.0)
    assert got['PCK/left_shoulder'] == pytest.approx(0.5)
    assert got['PCK/right_shoulder'] == pytest.approx(0.5)
    assert got['PCK/left_hip'] == pytest.approx(0.5)
    assert got['PCK/right_hip'] == pytest.approx(0.0)  # only the 200 px one is labelled
    assert got['EPE/right_hip'] == pytest.approx(200.0)
    assert got['EPE/nose'] == pytest.approx(2.5)
    # AUC: normalised errors .03 .049 .1 .01 2 | .02 .07 0 .05, PCK at 0.01 .. 0.5
    errs = np.array([0.03, 0.049, 0.1, 0.01, 2.0, 0.02, 0.07, 0.0, 0.05])
    assert stored_errors(toy_samples()) / 100 == pytest.approx(errs, abs=1e-6)
    errs = stored_errors(toy_samples()) / 100  # as float32 storage rounds them
    thrs = 0.5 * np.arange(1, 51) / 50
    assert got['AUC'] == pytest.approx(np.mean([(errs < t).mean() for t in thrs]))
    assert set(got) == {'PCK', 'AUC', 'EPE'} | {f'PCK/{n}' for n in NAMES} | {
        f'EPE/{n}' for n in NAMES}


def test_pck_head_and_torso_norms() -> None:
    got = evaluate(PCKAccuracy(thr=0.5, norm_item=['head', 'torso']), toy_samples())
    # head: 5 px then 10 px -> instance 1: 3, 4.9, 1 -> 3; instance 2: 2, 7, 0, 5 -> 4
    assert got['PCKh'] == pytest.approx(7 / 9)
    # torso 50 -> 25 px in instance 1: 3, 4.9, 10, 1 -> 4 of 5; instance 2 skipped
    assert got['tPCK'] == pytest.approx(4 / 5)
    assert got['tPCK/right_hip'] == pytest.approx(0.0)
    assert got['PCKh/left_shoulder'] == pytest.approx(1.0)
    # AUC uses the first norm (head)
    errs = np.array([0.3, 0.49, 1.0, 0.1, 20, 0.1, 0.35, 0.0, 0.25])
    norms = np.array([10.0] * 5 + [20.0] * 4)
    assert stored_errors(toy_samples()) / norms == pytest.approx(errs, abs=1e-6)
    errs = stored_errors(toy_samples()) / norms
    thrs = 0.5 * np.arange(1, 51) / 50
    assert got['AUC'] == pytest.approx(np.mean([(errs < t).mean() for t in thrs]))
    torso = evaluate(PCKAccuracy(thr=0.5, norm_item='torso',
                                 torso_pair=['right_shoulder', 'left_hip']), toy_samples())
    # |right_shoulder - left_hip| = 56.57 (inst 1), 31.62 (inst 2): 28.3 and 15.8 px
    assert torso['tPCK'] == pytest.approx((4 + 4) / 9)


def test_perfect_prediction_and_errors() -> None:
    gt = np.array([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]], float)
    got = evaluate(PCKAccuracy(), [sample(gt, gt)] * 3)
    assert got['PCK'] == 1.0 and got['AUC'] == pytest.approx(1.0) and got['EPE'] == 0.0
    with pytest.raises(KeyError, match='head_size'):
        evaluate(PCKAccuracy(norm_item='head'), [sample(gt, gt)])
    with pytest.raises(ValueError, match='torso'):
        evaluate(PCKAccuracy(norm_item='torso'), [sample(gt, gt)],
                 dict(META, keypoint_names=['a', 'b', 'c', 'd', 'e']))
    with pytest.raises(ValueError, match='norm_item'):
        PCKAccuracy(norm_item='elbow')
    two = sample(gt, gt)
    two['pred_instances']['keypoints'] = np.zeros((2, 5, 2), np.float32)
    with pytest.raises(ValueError, match='ground-truth boxes'):
        evaluate(PCKAccuracy(), [two])


def mpii_case() -> tuple[list[dict], dict]:
    """Four instances, head size 10 (PCKh@0.5 = 5 px, @0.1 = 1 px). Errors:
    head_top 6 px in all four; l_wrist 6 px in two; pelvis and thorax 50 px;
    l_ankle 2 px; r_knee unlabelled in one; every other joint 0.5 px."""
    rng = np.random.default_rng(0)
    samples = []
    for i in range(4):
        gt = rng.uniform(0, 200, (16, 2))
        err = np.full(16, 0.5)
        err[MPII_NAMES.index('head_top')] = 6
        err[MPII_NAMES.index('l_wrist')] = 6 if i < 2 else 0.5
        err[MPII_NAMES.index('pelvis')] = 50
        err[MPII_NAMES.index('thorax')] = 50
        err[MPII_NAMES.index('l_ankle')] = 2
        vis = np.ones(16)
        if i == 0:
            vis[MPII_NAMES.index('r_knee')] = 0
            err[MPII_NAMES.index('r_knee')] = 100
        pred = gt + np.stack([err, np.zeros(16)], 1)
        samples.append(sample(gt, pred, vis=vis, head_size=10.0))
    meta = dict(dataset_name='mpii', num_keypoints=16, keypoint_names=MPII_NAMES)
    return samples, meta


def test_mpii_pckh_groups() -> None:
    samples, meta = mpii_case()
    got = evaluate(MpiiPCKAccuracy(), samples, meta)
    assert got['Head'] == pytest.approx(0.0)
    assert got['Wrist'] == pytest.approx((1.0 + 0.5) / 2)
    for group in ('Shoulder', 'Elbow', 'Hip', 'Knee', 'Ankle'):
        assert got[group] == pytest.approx(1.0), group
    # MPII mean: all labelled joints but pelvis and thorax: 14 x 4 - 1 (r_knee) = 55,
    # wrong: 4 head_top + 2 l_wrist
    assert got['Mean'] == pytest.approx(49 / 55)
    assert got['PCKh'] == got['Mean']
    # at 1 px the four 2 px l_ankle points fail too
    assert got['PCKh@0.1'] == pytest.approx(45 / 55)
    assert got['PCKh/pelvis'] == 0.0 and got['PCKh/r_knee'] == pytest.approx(1.0)


def test_mpii_long_names_and_other_definitions() -> None:
    samples, meta = mpii_case()
    long_names = [n.replace('l_', 'left_', 1) if n.startswith('l_') else
                  n.replace('r_', 'right_', 1) if n.startswith('r_') else n
                  for n in MPII_NAMES]
    got = evaluate(MpiiPCKAccuracy(), samples, dict(meta, keypoint_names=long_names))
    assert got['Wrist'] == pytest.approx(0.75)
    other = evaluate(MpiiPCKAccuracy(), samples,
                     dict(meta, keypoint_names=[f'p{i}' for i in range(16)]))
    assert 'Head' not in other
    # pooled over all 63 labelled points: wrong are 4 head_top, 2 l_wrist, 8 pelvis/thorax
    assert other['PCKh'] == pytest.approx((63 - 14) / 63)


def test_build_from_config_and_evaluator() -> None:
    metric = METRICS.build(dict(type='PCKAccuracy', thr=0.05, norm_item='bbox'))
    assert isinstance(metric, PCKAccuracy)
    mpii = METRICS.build(dict(type='MpiiPCKAccuracy'))
    assert isinstance(mpii, MpiiPCKAccuracy) and mpii.thr == 0.5
    direct = evaluate(PCKAccuracy(thr=0.05), toy_samples())

    evaluator = Evaluator([dict(type='customkpt.PCKAccuracy', thr=0.05)])
    evaluator.dataset_meta = META
    batch = []
    for s in toy_samples():
        ds = PoseDataSample(metainfo=dict(img_id=s['img_id'], id=s['id']))
        ds.gt_instances = InstanceData(**s['gt_instances'])
        ds.pred_instances = InstanceData(**s['pred_instances'])
        batch.append(ds)
    evaluator.process(batch)
    assert evaluator.evaluate(len(batch)) == direct
