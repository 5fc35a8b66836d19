"""COCO keypoint results: rescoring, OKS-NMS, categories and the results json."""
from __future__ import annotations

import json

import numpy as np

from customkpt.evaluation.results import coco_predictions, write_results


def _result(img_id: int, kpts: np.ndarray, kscores: np.ndarray, bscores: list[float]) -> dict:
    return dict(img_id=img_id, category_id=3, keypoints=kpts, keypoint_scores=kscores,
                bbox_scores=np.asarray(bscores), areas=np.full(len(kpts), 100.0))


def test_predictions_are_sorted_by_image_then_score_and_suppressed():
    pose = np.array([[10.0, 10.0], [20.0, 20.0]])
    near = np.stack([pose, pose + 0.1, pose + 30])
    results = [_result(2, near, np.ones((3, 2)), [0.5, 0.9, 0.7]),
               _result(1, pose[None], np.full((1, 2), 0.8), [1.0]),
               _result(5, np.zeros((0, 2, 2)), np.zeros((0, 2)), [])]
    sigmas = np.full(2, 0.1)
    kept = coco_predictions(results, sigmas, lambda c: 7, 'bbox_keypoint', 0.2, 'oks_nms', 0.9)
    assert [(p['image_id'], p['score']) for p in kept] == [(1, 0.8), (2, 0.9), (2, 0.7)]
    assert all(p['category_id'] == 7 for p in kept)
    assert kept[0]['keypoints'] == [10.0, 10.0, 0.8, 20.0, 20.0, 0.8]
    every = coco_predictions(results, sigmas, int, 'bbox', 0.2, 'none', 0.9)
    assert [(p['image_id'], p['score']) for p in every] == [(1, 1.0), (2, 0.9), (2, 0.7),
                                                            (2, 0.5)]
    assert {p['category_id'] for p in every} == {3}


def test_write_results_creates_the_folder(tmp_path):
    path = tmp_path / 'a' / 'b' / 'res.keypoints.json'
    preds = [dict(image_id=1, category_id=1, keypoints=[1.0, 2.0, 0.5], score=0.5)]
    write_results(preds, str(path))
    assert json.loads(path.read_text()) == preds
