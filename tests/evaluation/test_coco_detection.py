"""COCO box AP of one-stage predictions, the detection records, and the
keypoint metric's per-instance categories (several classes per image)."""
import json

import numpy as np
import pytest

from customkpt.core.boxes import boxes_from_points, clip_boxes, xywh_to_xyxy
from customkpt.evaluation import CocoDetectionMetric, CocoKeypointMetric
from customkpt.evaluation.coco_detection import detection_records, load_box_gt

K = 3


def _kpts(points):
    return [v for x, y in points for v in (x, y, 2)]


@pytest.fixture
def two_class_file(tmp_path):
    """Two images; categories 1 and 2 share a 3-point definition; one
    annotation has no bbox (its box comes from its points)."""
    cats = [dict(id=1, name='cat', keypoints=['a', 'b', 'c']),
            dict(id=2, name='dog', keypoints=['a', 'b', 'c'])]
    anns = [dict(id=1, image_id=1, category_id=1, bbox=[10, 10, 30, 40], area=1200,
                 keypoints=_kpts([(15, 15), (25, 30), (35, 45)])),
            dict(id=2, image_id=1, category_id=2, bbox=[50, 5, 40, 30], area=1200,
                 keypoints=_kpts([(55, 10), (70, 20), (85, 30)])),
            dict(id=3, image_id=2, category_id=2,
                 keypoints=_kpts([(20, 20), (40, 30), (60, 50)]))]
    images = [dict(id=1, width=100, height=80), dict(id=2, width=100, height=80)]
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(dict(images=images, annotations=anns, categories=cats)))
    return path, anns


def _perfect_samples(anns):
    """One data sample per image predicting its ground truth exactly."""
    per_image = {}
    for ann in anns:
        kp = np.asarray(ann['keypoints'], np.float32).reshape(K, 3)
        box = ann.get('bbox')
        box = (xywh_to_xyxy(box)[0] if box is not None else clip_boxes(
            boxes_from_points(kp[None, :, :2], kp[None, :, 2] > 0), 100, 80)[0])
        per_image.setdefault(ann['image_id'], []).append((box, kp[:, :2], ann['category_id']))
    samples = []
    for img_id, objs in per_image.items():
        samples.append(dict(img_id=img_id, pred_instances=dict(
            bboxes=np.stack([o[0] for o in objs]), bbox_scores=np.ones(len(objs)),
            category_ids=np.array([o[2] for o in objs]),
            keypoints=np.stack([o[1] for o in objs]), keypoint_scores=np.ones((len(objs), K)))))
    return samples


def _evaluate(metric, samples, dataset_meta=None):
    metric.dataset_meta = dataset_meta or dict(sigmas=[0.05] * K, keypoint_names=['a', 'b', 'c'])
    metric.process([], samples)
    return metric.evaluate(size=len(samples))   # mmengine cuts results at the sample count


def test_perfect_boxes_score_one_with_several_per_image(two_class_file):
    path, anns = two_class_file
    metrics = _evaluate(CocoDetectionMetric(ann_file=str(path)), _perfect_samples(anns))
    assert metrics['bbox/AP'] == pytest.approx(1.0) and metrics['bbox/AR'] == pytest.approx(1.0)
    swapped = _perfect_samples(anns)
    swapped[0]['pred_instances']['category_ids'] = np.array([2, 1])   # wrong classes
    assert _evaluate(CocoDetectionMetric(ann_file=str(path)), swapped)['bbox/AP'] < 0.7


def test_ground_truth_boxes_are_derived_as_the_datasets_derive_them(two_class_file):
    path, anns = two_class_file
    gt = load_box_gt(str(path))
    kp = np.asarray(anns[2]['keypoints'], np.float32).reshape(K, 3)
    expected = clip_boxes(boxes_from_points(kp[None, :, :2], kp[None, :, 2] > 0), 100, 80)[0]
    np.testing.assert_allclose(xywh_to_xyxy(gt['annotations'][2]['bbox'])[0], expected,
                               atol=1e-4)
    assert [c['id'] for c in load_box_gt(str(path), [2])['categories']] == [2]


def test_detection_records_and_the_written_file(two_class_file, tmp_path):
    records = detection_records(7, np.array([[1, 2, 11, 22]]), np.array([0.5]), np.array([3]))
    assert records == [dict(image_id=7, bbox=[1.0, 2.0, 10.0, 20.0], score=0.5, category_id=3)]
    path, anns = two_class_file
    out = tmp_path / 'dets.json'
    metric = CocoDetectionMetric(outfile=str(out), format_only=True)
    assert _evaluate(metric, _perfect_samples(anns)) == {}
    assert len(json.loads(out.read_text())) == 3
    with pytest.raises(ValueError, match='ann_file'):
        CocoDetectionMetric()


def test_keypoint_metric_takes_each_instances_category(two_class_file, tmp_path):
    path, anns = two_class_file
    out = tmp_path / 'kpts.json'
    metric = CocoKeypointMetric(ann_file=str(path), outfile=str(out))
    assert _evaluate(metric, _perfect_samples(anns))['coco/AP'] == pytest.approx(1.0)
    written = json.loads(out.read_text())
    assert sorted((r['image_id'], r['category_id']) for r in written) == [(1, 1), (1, 2), (2, 2)]
