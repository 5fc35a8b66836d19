"""CocoImageDataset: one sample per image with every instance, classes in
category_ids order, boxes derived from points where a record has none."""
import numpy as np
import pytest

from customkpt.core.boxes import boxes_from_points, clip_boxes
from customkpt.datasets import CocoImageDataset

NAMES = ['a', 'left_b', 'right_b']


def _kpts(points):
    return [v for x, y in points for v in (x, y, 2)]


CATEGORIES = [dict(id=1, name='cat', keypoints=NAMES), dict(id=2, name='dog', keypoints=NAMES),
              dict(id=5, name='ball')]
IMAGES = [dict(id=1, file_name='a.png'), dict(id=2, file_name='b.png'),
          dict(id=3, file_name='c.png')]
ANNOTATIONS = [
    dict(id=10, image_id=1, category_id=1, bbox=[4, 4, 20, 20], keypoints=_kpts(
        [(6, 6), (10, 10), (14, 14)])),
    dict(id=11, image_id=1, category_id=2, keypoints=_kpts([(30, 10), (40, 20), (50, 30)])),
    dict(id=12, image_id=1, category_id=5, bbox=[0, 0, 10, 10], iscrowd=1,
         keypoints=[0] * 9),
    dict(id=13, image_id=2, category_id=5, bbox=[1, 2, 8, 9], keypoints=[0] * 9),
]


def _dataset(write_coco, tmp_path, **kwargs):
    ann = write_coco(IMAGES, ANNOTATIONS, categories=CATEGORIES)
    return CocoImageDataset(str(ann), data_prefix=dict(img=str(tmp_path / 'img')), **kwargs)


def test_images_with_all_their_instances_in_class_order(write_coco, tmp_path):
    ds = _dataset(write_coco, tmp_path, category_ids=[2, 1, 5])
    assert [c['name'] for c in ds.classes] == ['dog', 'cat', 'ball']
    assert ds.metainfo['keypoint_names'] == NAMES
    assert len(ds) == 2   # the third image has no instance (training)
    first = ds.get_data_info(0)
    assert first['id'] == [10, 11]                       # the crowd ball is left out
    np.testing.assert_array_equal(first['bbox_label'], [1, 0])
    assert first['keypoints'].shape == (2, 3, 2) and first['bbox'].shape == (2, 4)
    derived = clip_boxes(boxes_from_points(
        np.array([[[30, 10], [40, 20], [50, 30]]], np.float32), np.ones((1, 3), bool)), 64, 48)
    np.testing.assert_allclose(first['bbox'][1], derived[0])
    np.testing.assert_allclose(first['bbox'][0], [4, 4, 24, 24])
    second = ds.get_data_info(1)
    np.testing.assert_array_equal(second['bbox_label'], [2])
    assert second['keypoints_visible'].sum() == 0
    assert any('crowd' in line for line in ds.report.skip_lines())


def test_evaluation_keeps_every_image_and_default_classes_are_by_id(write_coco, tmp_path):
    ds = _dataset(write_coco, tmp_path, test_mode=True)
    assert [c['id'] for c in ds.classes] == [1, 2, 5] and len(ds) == 3
    assert len(ds.get_data_info(2)['bbox']) == 0


def test_refuses_mixed_definitions_and_detection_files(write_coco, tmp_path):
    cats = [dict(CATEGORIES[0]), dict(CATEGORIES[1], keypoints=NAMES + ['extra'])]
    ann = write_coco(IMAGES[:1], ANNOTATIONS[:1], categories=cats)
    with pytest.raises(ValueError, match='different numbers of keypoints'):
        CocoImageDataset(str(ann), data_prefix=dict(img=str(tmp_path / 'img')))
    with pytest.raises(ValueError, match='no categories with ids'):
        _dataset(write_coco, tmp_path, category_ids=[9])
    with pytest.raises(ValueError, match='bbox_file'):
        _dataset(write_coco, tmp_path, bbox_file='dets.json')
