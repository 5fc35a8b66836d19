"""The faster backend's numpy parts: its OKS arrays are faster-coco-eval's
own to the last bit, and its results COCO is the one loadRes builds."""
from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
import pytest

pytest.importorskip('faster_coco_eval')

from faster_coco_eval import COCO, COCOeval_faster  # noqa: E402

from customkpt.core.boxes import oks  # noqa: E402
from customkpt.evaluation.coco_backends import (KEYPOINT_MAX_DETS, coco_backend,  # noqa: E402
                                                load_results, make_keypoint_eval)
from customkpt.evaluation.coco_eval import _renumbered  # noqa: E402
from customkpt.evaluation.coco_fast import (FasterKeypointEval,  # noqa: E402
                                            keypoint_oks_matrices, load_keypoint_results)

from .coco_generated import generated_set  # noqa: E402


def _indexed_gt(seed: int, num_kpts: int = 17) -> tuple[COCO, list[dict], np.ndarray]:
    """The generated set as an indexed faster-coco-eval COCO, with its
    predictions plus score ties (copies of the first ones at one score)."""
    gt, preds, sigmas = generated_set(seed, 20, num_kpts)
    preds = preds + [dict(p, score=0.5) for p in preds[:6] for _ in range(2)]
    coco_gt = COCO()
    coco_gt.dataset = _renumbered(gt, len(sigmas), True, 'faster')
    coco_gt.createIndex()
    return coco_gt, preds, sigmas


def _evaluated(eval_cls: type, coco_gt: COCO, coco_dt: COCO, sigmas: np.ndarray,
               use_area: bool) -> COCOeval_faster:
    ev = eval_cls(coco_gt, coco_dt, 'keypoints', kpt_oks_sigmas=sigmas, use_area=use_area)
    ev.params.maxDets = list(KEYPOINT_MAX_DETS)
    with contextlib.redirect_stdout(io.StringIO()):
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def test_the_faster_backend_uses_the_numpy_oks() -> None:
    name, coco_cls, eval_cls = coco_backend('faster')
    assert (name, coco_cls, eval_cls) == ('faster', COCO, FasterKeypointEval)
    coco_gt, preds, sigmas = _indexed_gt(0)
    ev = make_keypoint_eval(name, eval_cls, coco_gt, load_results(name, coco_gt, preds),
                            sigmas, True)
    assert isinstance(ev, FasterKeypointEval)


@pytest.mark.parametrize('use_area', [True, False])
@pytest.mark.parametrize('seed, num_kpts', [(0, 17), (1, 5), (2, 30)])
def test_oks_arrays_are_the_librarys_own(seed: int, num_kpts: int, use_area: bool) -> None:
    coco_gt, preds, sigmas = _indexed_gt(seed, num_kpts)
    anns = coco_gt.dataset['annotations']
    assert any(a['iscrowd'] for a in anns)
    assert any(a['num_keypoints'] == 0 for a in anns)  # measured against the grown box
    assert any(0 < a['num_keypoints'] < len(sigmas) for a in anns)
    ours = _evaluated(FasterKeypointEval, coco_gt, load_keypoint_results(coco_gt, preds),
                      sigmas, use_area)
    theirs = _evaluated(COCOeval_faster, coco_gt, coco_gt.loadRes(copy.deepcopy(preds)),
                        sigmas, use_area)
    assert ours.ious.keys() == theirs.ious.keys()
    shapes = set()
    for pair, reference in theirs.ious.items():
        got = ours.ious[pair]
        if isinstance(reference, list):
            assert isinstance(got, list) and got == reference == [], pair
            continue
        assert got.shape == reference.shape and np.array_equal(got, reference), pair
        shapes.add(got.shape)
    assert max(s[0] for s in shapes) == KEYPOINT_MAX_DETS[-1]  # more were cut
    assert any(d != g for d, g in shapes)  # (detections, ground truths), not transposed
    assert list(ours.stats) == list(theirs.stats)
    # a single pair asked for on its own gives the same array
    pair = next(p for p, v in theirs.ious.items() if not isinstance(v, list))
    assert np.array_equal(ours.computeOks(*pair), theirs.ious[pair])
    assert ours.computeOks(10 ** 6, 1) == []


def test_oks_matrices_by_hand() -> None:
    sigmas = np.array([0.05, 0.1, 0.08])
    gts = np.array([[[10, 10, 2], [20, 15, 1], [0, 0, 0]],    # two labelled points
                    [[0, 0, 0], [0, 0, 0], [0, 0, 0]],        # none: its box counts
                    [[1, 1, 2], [2, 2, 2], [3, 3, 2]]], float)
    boxes = np.array([[5, 5, 20, 20], [100, 100, 10, 20], [1, 1, 2, 2]], float)
    scales = np.array([300.0, 150.0, 4.0])
    dets = np.array([[[11, 12, 1], [19, 15, 1], [50, 50, 1]],
                     [[112, 95, 1], [75, 150, 1], [125, 99, 1]],
                     [[10, 10, 1], [20, 15, 1], [7, 7, 1]],
                     [[1, 1, 1], [2, 2, 1], [3, 3, 1]]], float)
    # group 0: three detections (scores 0.5, 0.9, 0.5), at most two compared,
    # and two ground truths; group 1: a detection only; group 2: a gt only
    got = keypoint_oks_matrices(dets, np.array([0, 0, 0, 1]), np.array([0.5, 0.9, 0.5, 1.0]),
                                gts, np.array([0, 0, 2]), boxes, scales, sigmas, 2, 3)
    assert len(got) == 3 and got[1] == [] and got[2] == []
    order = [1, 0]  # by score, the tie kept in input order, the third cut
    assert got[0].shape == (2, 2)
    np.testing.assert_array_equal(got[0][:, 0], oks(gts[0, :, :2], gts[0, :, 2], scales[0],
                                                    dets[order, :, :2], sigmas))
    # outside [x - w, x + 2w] x [y - h, y + 2h] = [90, 120] x [80, 140]
    dx = np.array([[0, 15, 5], [79, 71, 40]], float)
    dy = np.array([[0, 10, 0], [68, 65, 30]], float)
    e = (dx ** 2 + dy ** 2) / (2 * sigmas) ** 2 / (scales[1] + np.spacing(1)) / 2
    np.testing.assert_allclose(got[0][:, 1], np.exp(-e).mean(axis=1), rtol=0, atol=1e-15)
    assert 0.1 < got[0][0, 1] < 0.9


def test_results_coco_is_the_one_loadres_builds() -> None:
    coco_gt, preds, _ = _indexed_gt(0)
    preds[0]['keypoints'][6:9] = [-50.0, 10.0, 0.0]  # a point of score 0 still counts
    before = copy.deepcopy(preds)
    ours = load_keypoint_results(coco_gt, preds)
    theirs = coco_gt.loadRes(copy.deepcopy(preds))
    assert preds == before  # the caller's results are left as they are
    assert ours.dataset == theirs.dataset
    assert ours.anns == theirs.anns and ours.imgToAnns == theirs.imgToAnns
    assert ours.catToImgs == theirs.catToImgs
    ann = ours.anns[1]
    x, y = ann['keypoints'][0::3], ann['keypoints'][1::3]
    assert ann['bbox'] == [min(x), min(y), max(x) - min(x), max(y) - min(y)]
    assert ann['bbox'][0] == -50.0
    # results with their own box are loadRes' other case: handed to it
    boxed = [dict(p, bbox=[1.0, 2.0, 30.0, 40.0]) for p in preds]
    assert load_keypoint_results(coco_gt, boxed).anns[1]['area'] == 1200.0
    assert 'area' not in boxed[0]
    with pytest.raises(ValueError, match=r'lengths \[18, 51\]'):
        load_keypoint_results(coco_gt, [preds[0], dict(preds[1], keypoints=[0.0] * 18)])
    with pytest.raises(ValueError, match=r'images absent from the ground truth: \[999\]'):
        load_keypoint_results(coco_gt, [preds[0], dict(preds[1], image_id=999)])
