"""Reading predictions and ground truth out of data samples."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from customkpt.core.arrays import to_numpy
from customkpt.evaluation.samples import (bbox_scores, box_areas, gt_of_sample, instance_areas,
                                          sample_field)


def test_to_numpy_and_sample_field():
    np.testing.assert_array_equal(to_numpy(torch.tensor([1.0, 2.0])), [1.0, 2.0])
    assert to_numpy(3).shape == ()
    assert sample_field(dict(img_id=4), 'img_id') == 4
    assert sample_field(dict(metainfo=dict(img_id=5)), 'img_id') == 5
    assert sample_field(dict(metainfo=dict()), 'img_id', 'none') == 'none'


def test_box_areas_clip_negative_sides():
    np.testing.assert_allclose(box_areas(np.array([[0, 0, 2, 3], [5, 5, 4, 9]])), [6.0, 0.0])


def test_bbox_scores_prefer_predicted_then_gt_then_ones():
    assert bbox_scores(dict(bbox_scores=[0.5]), dict(bbox_scores=[0.9]), 1).tolist() == [0.5]
    assert bbox_scores(dict(), dict(bbox_scores=[0.9]), 1).tolist() == pytest.approx([0.9])
    assert bbox_scores(dict(bbox_scores=[0.5, 0.6]), dict(), 1).tolist() == [1.0]


def test_instance_areas_order_of_preference():
    kpts = np.array([[[0.0, 0.0], [4.0, 2.0]]])
    assert instance_areas(dict(areas=[7.0]), dict(), kpts).tolist() == [7.0]
    pred_box = dict(bboxes=np.array([[0, 0, 3, 3]]))
    assert instance_areas(pred_box, dict(bboxes=[[0, 0, 1, 1]]), kpts).tolist() == [9.0]
    assert instance_areas(dict(), dict(bboxes=[[0, 0, 1, 2]]), kpts).tolist() == [2.0]
    assert instance_areas(dict(), dict(), kpts).tolist() == [8.0]   # the points' extent
    assert instance_areas(dict(), dict(), np.zeros((0, 2, 2))).shape == (0,)


def test_gt_of_sample_boxes_from_points_and_detection_guard():
    sample = dict(id=[11], ori_shape=(30, 40), category_id=1)
    gt = dict(keypoints=np.array([[[1.0, 2.0], [5.0, 8.0], [50.0, 50.0]]]),
              keypoints_visible=np.array([[1, 1, 0]]))
    out = gt_of_sample(sample, gt, 3)
    assert out['ids'] == [11] and (out['height'], out['width']) == (30, 40)
    np.testing.assert_allclose(out['bboxes'], [[1.0, 2.0, 5.0, 8.0]])
    np.testing.assert_allclose(out['areas'], [24.0])
    with pytest.raises(ValueError, match='detection boxes'):
        gt_of_sample(sample, dict(gt, bbox_scores=[0.7]), 3)
    with pytest.raises(KeyError, match='no gt_instances.keypoints'):
        gt_of_sample(sample, dict(), 3)
