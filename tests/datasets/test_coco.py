"""CocoKeypointDataset on generated files (K=5, K=3) and on real COCO samples."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from customkpt.datasets import CocoKeypointDataset
from customkpt.meta import KeypointMetaError
from customkpt.registry import DATASETS

from .conftest import REPO_ROOT, ann

NAMES5 = ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot']
META5 = dict(keypoint_names=NAMES5, flip_pairs=[[1, 2], [3, 4]],
             sigmas=[0.026, 0.062, 0.062, 0.089, 0.089], dataset_name='self5')


def build(path, **kwargs) -> CocoKeypointDataset:
    kwargs.setdefault('pipeline', [])
    return CocoKeypointDataset(ann_file=path.name, data_root=str(path.parent),
                               data_prefix=dict(img='img/'), **kwargs)


@pytest.fixture
def five(write_coco):
    """Two images, K=5: a full instance, a partly labelled one, one without a box."""
    images = [{'id': 1, 'file_name': 'a.png'}, {'id': 2, 'file_name': 'b.png', 'width': 40}]
    anns = [
        ann(10, 1, [(5, 6, 2), (7, 8, 2), (9, 10, 1), (11, 12, 2), (13, 14, 2)],
            bbox=[2, 3, 20, 30], area=321.0),
        ann(11, 1, [(20, 21, 2), (0, 0, 0), (22, 23, 2), (0, 0, 0), (24, 25, 1)],
            bbox=[-5, 30, 30, 40]),                        # clipped to 0..64 x 0..48
        ann(12, 2, [(10, 20, 2), (30, 60, 2), (0, 0, 0), (0, 0, 0), (20, 40, 2)]),
    ]
    return write_coco(images, anns, NAMES5)


def test_k5_samples_follow_the_data_contract(five):
    ds = build(five, metainfo=META5)
    assert len(ds) == 3
    s = ds.get_data_info(0)
    assert s['img_path'] == str(five.parent / 'img' / 'a.png')
    assert (s['img_id'], s['id'], s['category_id'], s['iscrowd']) == (1, 10, 1, 0)
    for key, shape in (('bbox', (1, 4)), ('bbox_score', (1,)), ('keypoints', (1, 5, 2)),
                       ('keypoints_visible', (1, 5)), ('area', (1,))):
        assert s[key].shape == shape and s[key].dtype == np.float32, key
    np.testing.assert_allclose(s['bbox'], [[2, 3, 22, 33]])
    np.testing.assert_allclose(s['keypoints'][0], [[5, 6], [7, 8], [9, 10], [11, 12], [13, 14]])
    np.testing.assert_array_equal(s['keypoints_visible'], np.ones((1, 5)))
    assert s['bbox_score'][0] == 1 and s['area'][0] == pytest.approx(321.0)
    assert s['num_keypoints'] == 5
    assert s['flip_indices'] == [0, 2, 1, 4, 3]
    assert s['dataset_name'] == 'self5'
    assert ds.metainfo == ds.meta.to_dict()
    assert ds.metainfo['flip_indices'] == [0, 2, 1, 4, 3]


def test_unlabelled_points_have_zero_coordinates_and_visibility(five):
    s = build(five, metainfo=META5).get_data_info(1)
    np.testing.assert_array_equal(s['keypoints_visible'], [[1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(s['keypoints'][0, [1, 3]], np.zeros((2, 2)))
    assert s['num_keypoints'] == 3


def test_box_is_clipped_and_area_defaults_to_box_area(five):
    s = build(five, metainfo=META5).get_data_info(1)
    np.testing.assert_allclose(s['bbox'], [[0, 30, 25, 48]])  # x from -5, y2 70 -> 48
    assert s['area'][0] == pytest.approx(25 * 18)


def test_missing_box_is_derived_from_labelled_points(five):
    s = build(five, metainfo=META5).get_data_info(2)
    # extent x 10..30, y 20..60: longer side 40, padded by 10 on every side;
    # the image is 40 wide, so x2 50 is clipped to 40.
    np.testing.assert_allclose(s['bbox'], [[0, 10, 40, 48]])


def test_k3_definition_from_the_category(write_coco):
    path = write_coco([{'id': 7, 'file_name': 'x.png'}],
                      [ann(1, 7, [(1, 2, 2), (3, 4, 2), (5, 6, 0)], bbox=[0, 0, 10, 10])],
                      ['a', 'b', 'c'])
    ds = build(path)
    assert ds.metainfo['keypoint_names'] == ['a', 'b', 'c']
    assert ds.metainfo['num_keypoints'] == 3
    assert ds.get_data_info(0)['keypoints'].shape == (1, 3, 2)
    assert ds.get_data_info(0)['dataset_name'] == 'thing'


def test_crowd_zero_area_and_unlabelled_instances(write_coco):
    pts = [(5, 5, 2), (6, 6, 2), (7, 7, 2)]
    path = write_coco([{'id': 1, 'file_name': 'a.png'}], [
        ann(1, 1, pts, bbox=[1, 1, 10, 10]),
        ann(2, 1, pts, bbox=[1, 1, 10, 10], iscrowd=1),
        ann(3, 1, pts, bbox=[1, 1, 10, 10], area=0),
        ann(4, 1, [(0, 0, 0)] * 3, bbox=[1, 1, 10, 10]),
    ], ['a', 'b', 'c'])
    train = build(path)
    assert [train.get_data_info(i)['id'] for i in range(len(train))] == [1]
    test = build(path, test_mode=True)
    assert [test.get_data_info(i)['id'] for i in range(len(test))] == [1, 4]


def test_metainfo_overrides_the_category(write_coco, tmp_path):
    path = write_coco([{'id': 1, 'file_name': 'a.png'}],
                      [ann(1, 1, [(1, 2, 2), (3, 4, 2), (5, 6, 2)], bbox=[0, 0, 9, 9])],
                      ['a', 'left_x', 'right_x'])
    ds = build(path, metainfo=dict(flip_pairs=[[1, 2]], dataset_name='mine',
                                   sigmas=[0.1, 0.2, 0.2]))
    assert ds.metainfo['keypoint_names'] == ['a', 'left_x', 'right_x']
    assert ds.metainfo['flip_indices'] == [0, 2, 1]
    assert ds.metainfo['sigmas'] == pytest.approx([0.1, 0.2, 0.2])
    assert ds.get_data_info(0)['dataset_name'] == 'mine'
    with pytest.raises(KeypointMetaError, match='lists 3 keypoints'):
        build(path, metainfo=dict(keypoint_names=['a', 'b'], sigmas=[0.1, 0.1]))


def test_several_categories_with_keypoints_need_category_id(write_coco):
    cats = [{'id': 1, 'name': 'mouse', 'keypoints': ['a', 'b']},
            {'id': 2, 'name': 'rat', 'keypoints': ['a', 'b', 'c']},
            {'id': 3, 'name': 'cage'}]
    anns = [ann(1, 1, [(1, 1, 2), (2, 2, 2)], bbox=[0, 0, 5, 5]),
            dict(ann(2, 1, [(1, 1, 2), (2, 2, 2), (3, 3, 2)], bbox=[0, 0, 5, 5]), category_id=2),
            {'id': 3, 'image_id': 1, 'category_id': 3, 'bbox': [0, 0, 9, 9]}]
    path = write_coco([{'id': 1, 'file_name': 'a.png'}], anns, categories=cats)
    with pytest.raises(ValueError, match='category_id'):
        build(path)
    rats = build(path, category_id=2)
    assert len(rats) == 1 and rats.get_data_info(0)['id'] == 2
    assert rats.metainfo['dataset_name'] == 'rat' and rats.metainfo['num_keypoints'] == 3
    with pytest.raises(ValueError, match='no category with id 9'):
        build(path, category_id=9)


def test_build_from_a_config_dict(five):
    ds = DATASETS.build(dict(type='CocoKeypointDataset', ann_file=str(five),
                             data_prefix=dict(img=str(five.parent / 'img')), metainfo=META5,
                             pipeline=[]))
    assert isinstance(ds, CocoKeypointDataset) and len(ds) == 3
    assert ds[0]['id'] == 10  # pipeline=[] returns the sample dict


def test_metainfo_file_path_and_lazy_init(five, tmp_path):
    meta_file = tmp_path / 'meta.py'
    meta_file.write_text(f'keypoint_names = {NAMES5!r}\nflip_pairs = [[1, 2], [3, 4]]\n'
                         'sigmas = [0.05] * 5\ndataset_name = "fromfile"\n')
    ds = build(five, metainfo=str(meta_file), lazy_init=True)
    assert ds.metainfo['dataset_name'] == 'fromfile'   # readable before loading
    assert not ds._fully_initialized
    assert len(ds) == 3 and ds.get_data_info(0)['flip_indices'] == [0, 2, 1, 4, 3]


def test_definition_is_resolved_once_and_missing_flip_pairs_are_flagged(write_coco,
                                                                        monkeypatch):
    from customkpt.datasets import base
    logged = []
    monkeypatch.setattr(base, 'print_log', lambda msg, **kw: logged.append(msg))
    # The category lists no keypoints: the definition comes from the config
    # alone, which has no sigmas, so exactly one default-sigma warning. It
    # states no flip pairs: they come from the names, and the log says so.
    path = write_coco([{'id': 1, 'file_name': 'a.png'}],
                      [ann(1, 1, [(1, 1, 2)] * 5, bbox=[0, 0, 9, 9])])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ds = build(path, metainfo=dict(keypoint_names=NAMES5), lazy_init=True)
        assert ds.metainfo['num_keypoints'] == 5
        ds.full_init()
        assert ds.metainfo['flip_pairs'] == [[1, 2], [3, 4]]
    assert sum('no OKS sigmas' in str(w.message) for w in caught) == 1
    hints = [m for m in logged if 'derived from its keypoint names' in m]
    assert len(hints) == 1 and 'left_hand<->right_hand, left_foot<->right_foot' in hints[0]
    # Pairs stated as none: a warning that the names suggest some.
    logged.clear()
    ds = build(path, metainfo=dict(keypoint_names=NAMES5, flip_pairs=[], sigmas=[0.1] * 5))
    assert ds.metainfo['flip_pairs'] == []
    hints = [m for m in logged if 'no flip pairs' in m]
    assert len(hints) == 1 and '[[1, 2], [3, 4]]' in hints[0]


def test_invalid_arguments(five):
    with pytest.raises(ValueError, match='check_images'):
        build(five, metainfo=META5, check_images='maybe')
    with pytest.raises(ValueError, match='bbox_file'):
        build(five, metainfo=META5, use_gt_box=False, test_mode=True)
    with pytest.raises(ValueError, match='contradicts'):
        build(five, metainfo=META5, use_gt_box=True, bbox_file='d.json', test_mode=True)
    with pytest.raises(ValueError, match='test_mode'):
        build(five, metainfo=META5, bbox_file='d.json')


# ------------------------------------------------------------- real data
def test_real_coco_sample(samples):
    root = samples / 'coco'
    raw = json.loads((root / 'test_coco.json').read_text())
    ds = CocoKeypointDataset(ann_file='test_coco.json', data_root=str(root), pipeline=[],
                             metainfo=str(REPO_ROOT / 'configs/_base_/datasets/coco.py'))
    # 14 persons, none crowd; two have no labelled keypoint (training skips them).
    assert len(raw['annotations']) == 14
    assert len(ds) == 12
    assert len(CocoKeypointDataset(ann_file='test_coco.json', data_root=str(root), pipeline=[],
                                   test_mode=True)) == 14
    by_id = {a['id']: a for a in raw['annotations']}
    for i in range(len(ds)):
        s = ds.get_data_info(i)
        a = by_id[s['id']]
        kp = np.asarray(a['keypoints'], np.float32).reshape(17, 3)
        np.testing.assert_array_equal(s['keypoints_visible'][0], kp[:, 2] > 0)
        np.testing.assert_allclose(s['keypoints'][0][kp[:, 2] > 0], kp[kp[:, 2] > 0, :2])
        x, y, w, h = a['bbox']
        np.testing.assert_allclose(s['bbox'][0], [x, y, x + w, y + h], rtol=1e-6)
        assert s['img_path'].endswith(f'{s["img_id"]:012d}.jpg')
    assert ds.metainfo['flip_indices'][:3] == [0, 2, 1]
    assert ds.get_data_info(0)['dataset_name'] == 'coco'
    # Body halves and joint weights reach the samples (half-body augmentation,
    # weighted targets).
    s = ds.get_data_info(0)
    assert s['upper_body_ids'] == list(range(11)) and s['lower_body_ids'] == list(range(11, 17))
    assert s['dataset_keypoint_weights'][15] > 1


def test_real_detection_boxes_with_score_threshold(samples):
    root = samples / 'coco'
    dets = json.loads((root / 'test_coco_det_AP_H_56.json').read_text())
    ds = CocoKeypointDataset(ann_file='test_coco.json', bbox_file='test_coco_det_AP_H_56.json',
                             bbox_score_thr=0.5, data_root=str(root), pipeline=[], test_mode=True)
    kept = [d for d in dets if d['score'] >= 0.5]
    assert 0 < len(ds) == len(kept) < len(dets)
    for i, det in enumerate(kept):
        s = ds.get_data_info(i)
        assert s['id'] == i and s['img_id'] == det['image_id']
        assert s['bbox_score'][0] == pytest.approx(det['score'])
        x, y, w, h = det['bbox']
        assert s['bbox'][0, 0] == pytest.approx(max(x, 0), rel=1e-5)
        assert s['bbox'][0, 2] <= 640
        np.testing.assert_array_equal(s['keypoints'], np.zeros((1, 17, 2)))
        np.testing.assert_array_equal(s['keypoints_visible'], np.zeros((1, 17)))
    all_dets = CocoKeypointDataset(ann_file='test_coco.json',
                                   bbox_file='test_coco_det_AP_H_56.json', data_root=str(root),
                                   pipeline=[], test_mode=True)
    assert len(all_dets) == len(dets)


def test_twenty_thousand_annotations_load(write_coco):
    """A COCO-sized file loads (its speed: benchmarks/bench_dataset_load.py)."""
    rng = np.random.default_rng(0)
    images = [{'id': i, 'file_name': f'{i}.png', 'width': 640, 'height': 480}
              for i in range(2000)]
    kpts = np.concatenate([rng.uniform(1, 400, (20000, 17, 2)),
                           rng.integers(0, 3, (20000, 17, 1))], axis=2).round(1)
    anns = [{'id': i, 'image_id': i % 2000, 'category_id': 1, 'bbox': [1, 1, 300, 400],
             'iscrowd': 0, 'area': 1000.0, 'keypoints': kpts[i].ravel().tolist()}
            for i in range(20000)]
    path = write_coco(images, anns, [f'k{i}' for i in range(17)], make_images=False)
    ds = build(path, metainfo=dict(sigmas=[0.05] * 17), check_images=False)
    assert len(ds) == int((kpts[..., 2] > 0).any(axis=1).sum())
