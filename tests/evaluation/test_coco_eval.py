"""The COCO backend glue: ground truth from a file or from samples, COCOeval runs."""
from __future__ import annotations

import json

import numpy as np
import pytest

from customkpt.evaluation.coco_eval import (COCO_KEYPOINT_STATS, coco_backend,
                                            evaluate_keypoints, gt_from_results, load_coco_gt)

SIGMAS = np.full(3, 0.08)


def _gt() -> dict:
    ann = dict(image_id=1, category_id=1, iscrowd=0, num_keypoints=3, area=400.0,
               bbox=[10.0, 10.0, 20.0, 20.0],
               keypoints=[12.0, 12.0, 2, 20.0, 20.0, 2, 28.0, 28.0, 1])
    return dict(images=[dict(id=1, width=64, height=64)],
                categories=[dict(id=1, name='x', keypoints=['a', 'b', 'c'])], annotations=[ann])


def test_load_coco_gt_fills_missing_fields_and_keeps_keypoint_categories(tmp_path):
    data = dict(images=[dict(id=1, width=8, height=9, file_name='a.jpg')],
                categories=[dict(id=1, name='p', keypoints=['a', 'b']), dict(id=2, name='box')],
                annotations=[dict(id=5, image_id=1, category_id=1, segmentation=[[0, 0]],
                                  keypoints=[1, 2, 2, 4, 6, 1]),
                             dict(id=6, image_id=1, category_id=2, keypoints=[0] * 6),
                             dict(id=7, image_id=1, category_id=1, keypoints=[0] * 6)])
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(data))
    gt = load_coco_gt(str(path))
    assert gt['images'] == [dict(id=1, width=8, height=9)]
    assert [c['id'] for c in gt['categories']] == [1]
    first, empty = gt['annotations']
    assert 'segmentation' not in first
    assert (first['bbox'], first['area'], first['num_keypoints'], first['iscrowd']) == (
        [1.0, 2.0, 3.0, 4.0], 12.0, 2, 0)
    assert (empty['bbox'], empty['area'], empty['num_keypoints']) == ([0.0] * 4, 0.0, 0)


def test_gt_from_results_keeps_one_annotation_per_id():
    gt = dict(img_id=4, ids=[9], width=30, height=20, keypoints=np.array([[[1.0, 2.0]] * 3]),
              visible=np.array([[1.0, 2.0, 0.0]]), bboxes=np.array([[0.0, 0.0, 4.0, 5.0]]),
              areas=np.array([20.0]))
    out = gt_from_results([dict(gt=gt), dict(gt=gt)], category_id=2, num_kpts=3)
    assert out['images'] == [dict(id=4, width=30, height=20)]
    (ann,) = out['annotations']
    assert ann['keypoints'] == [1.0, 2.0, 1.0, 1.0, 2.0, 2.0, 0.0, 0.0, 0.0]
    assert (ann['bbox'], ann['num_keypoints'], ann['category_id']) == ([0.0, 0.0, 4.0, 5.0], 2, 2)
    with pytest.raises(ValueError, match='ground truth has 3 keypoints, predictions 2'):
        gt_from_results([dict(gt=gt)], 2, 2)


@pytest.mark.parametrize('backend', ['pycocotools', 'xtcocotools'])
def test_evaluate_keypoints_perfect_and_empty_predictions(backend):
    pytest.importorskip(backend)
    gt = _gt()
    kp = gt['annotations'][0]['keypoints']
    pred = dict(image_id=1, category_id=1, score=0.9,
                keypoints=[v if i % 3 != 2 else 1.0 for i, v in enumerate(kp)])
    stats = evaluate_keypoints(gt, [pred, dict(pred, image_id=99)], SIGMAS, backend, True)
    assert list(stats) == list(COCO_KEYPOINT_STATS)
    assert stats['AP'] == pytest.approx(1.0) and stats['AR'] == pytest.approx(1.0)
    assert 'id' not in gt['annotations'][0]          # the input is not changed
    assert evaluate_keypoints(gt, [], SIGMAS, backend, True)['AP'] <= 0


def test_coco_backend_rejects_unknown_names():
    with pytest.raises(ValueError, match='backend must be one of'):
        coco_backend('cocoapi')
