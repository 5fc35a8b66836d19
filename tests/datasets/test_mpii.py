"""MpiiDataset on the real MPII sample file and on generated records."""
from __future__ import annotations

import json

import numpy as np
import pytest

from customkpt.core.presets import MPII_METAINFO
from customkpt.datasets import MpiiDataset
from customkpt.registry import DATASETS

from .conftest import write_image

UPPER_NECK, HEAD_TOP = 8, 9


def record(image: str, scale: float = 0.5, vis: list[int] | None = None) -> dict:
    joints = [[10.0 + 3 * i, 20.0 + 2 * i] for i in range(16)]
    vis = [1] * 16 if vis is None else vis
    joints = [j if v else [-1.0, -1.0] for j, v in zip(joints, vis)]
    return {'image': image, 'center': [40.0, 50.0], 'scale': scale, 'joints': joints,
            'joints_vis': vis}


@pytest.fixture
def generated(tmp_path):
    for name in ('001.jpg', '002.jpg'):
        write_image(tmp_path / 'images' / name, 80, 90)
    vis = [1] * 16
    vis[UPPER_NECK] = 0
    records = [record('001.jpg'), record('001.jpg', 0.8, vis), record('002.jpg', 0.4, [0] * 16)]
    path = tmp_path / 'mpii.json'
    path.write_text(json.dumps(records))
    return path, records


def build(path, **kwargs) -> MpiiDataset:
    kwargs.setdefault('pipeline', [])
    return MpiiDataset(ann_file=path.name, data_root=str(path.parent),
                       data_prefix=dict(img='images/'), **kwargs)


def test_real_mpii_sample(samples):
    root = samples / 'mpii'
    raw = json.loads((root / 'test_mpii.json').read_text())
    ds = MpiiDataset(ann_file='test_mpii.json', data_root=str(root), pipeline=[])
    assert len(ds) == len(raw) == 5
    assert ds.metainfo['keypoint_names'] == MPII_METAINFO['keypoint_names']
    assert ds.metainfo['flip_indices'] == [5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10]
    for i, rec in enumerate(raw):
        s = ds.get_data_info(i)
        vis = np.asarray(rec['joints_vis']) > 0
        joints = np.asarray(rec['joints'], np.float32)
        assert s['id'] == i and s['img_id'] == int(rec['image'][:-4])
        assert s['img_path'] == str(root / rec['image'])
        np.testing.assert_array_equal(s['keypoints_visible'][0], vis)
        # 1-based MATLAB coordinates -> 0-based; unlabelled (-1, -1) -> 0.
        np.testing.assert_allclose(s['keypoints'][0][vis], joints[vis] - 1)
        np.testing.assert_array_equal(s['keypoints'][0][~vis], 0)
        cx, cy = rec['center']
        side = 200 * rec['scale']
        cy_adj = cy - 1 + 15 * rec['scale']
        np.testing.assert_allclose(s['bbox'][0], [cx - 1 - side / 2, cy_adj - side / 2,
                                                  cx - 1 + side / 2, cy_adj + side / 2], rtol=1e-5)
        head = np.linalg.norm(joints[UPPER_NECK] - joints[HEAD_TOP])
        assert s['head_size'].shape == (1,) and s['head_size'].dtype == np.float32
        assert s['head_size'][0] == pytest.approx(head, rel=1e-5)
        # In MPII's annotations the head segment is 200 * scale / 6.
        assert s['head_size'][0] == pytest.approx(200 * rec['scale'] / 6, rel=2e-3)
    assert not ds.get_data_info(2)['keypoints_visible'][0, [0, 5]].any()


def test_generated_records_training_and_test_mode(generated):
    path, records = generated
    train = build(path)
    assert [train.get_data_info(i)['id'] for i in range(len(train))] == [0, 1]
    test = build(path, test_mode=True)
    assert len(test) == 3 and test.get_data_info(2)['num_keypoints'] == 0
    s = train.get_data_info(0)
    assert s['img_id'] == 1 and s['category_id'] == 1 and s['dataset_name'] == 'mpii'
    for key, shape in (('bbox', (1, 4)), ('bbox_score', (1,)), ('keypoints', (1, 16, 2)),
                       ('keypoints_visible', (1, 16)), ('area', (1,)), ('head_size', (1,))):
        assert s[key].shape == shape and s[key].dtype == np.float32, key
    assert s['area'][0] == pytest.approx(100.0 ** 2)
    # Upper neck unlabelled: head size from the scale.
    assert train.get_data_info(1)['head_size'][0] == pytest.approx(200 * 0.8 / 6)
    np.testing.assert_allclose(s['head_size'][0],
                               np.hypot(3 * (HEAD_TOP - UPPER_NECK), 2 * (HEAD_TOP - UPPER_NECK)))


@pytest.mark.parametrize('layout', ['npy_n22', 'npy_22n', 'json'])
def test_headboxes_file_gives_the_pckh_head_size(generated, layout):
    path, records = generated
    boxes = np.array([[[0, 0], [30, 40]], [[0, 0], [6, 8]], [[1, 1], [4, 5]]], np.float32)
    if layout == 'json':
        target = path.parent / 'heads.json'
        target.write_text(json.dumps(boxes.tolist()))
    else:
        target = path.parent / 'heads.npy'
        np.save(target, boxes if layout == 'npy_n22' else boxes.transpose(1, 2, 0))
    ds = build(path, headboxes_file=target.name, test_mode=True)
    sizes = [ds.get_data_info(i)['head_size'][0] for i in range(3)]
    assert sizes == pytest.approx([0.6 * 50, 0.6 * 10, 0.6 * 5])


def test_headboxes_of_the_wrong_shape_are_refused(generated):
    path, _ = generated
    np.save(path.parent / 'heads.npy', np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r'shape \(3, 2, 2\)'):
        build(path, headboxes_file='heads.npy')


def test_metainfo_overrides_the_default_and_build_from_config(generated):
    path, _ = generated
    ds = DATASETS.build(dict(type='MpiiDataset', ann_file=str(path),
                             data_prefix=dict(img=str(path.parent / 'images')), pipeline=[],
                             metainfo=dict(dataset_name='mpii_custom', sigmas=[0.05] * 16)))
    assert isinstance(ds, MpiiDataset)
    assert ds.metainfo['dataset_name'] == 'mpii_custom'
    assert ds.metainfo['sigmas'] == [0.05] * 16
    assert ds.metainfo['flip_pairs'] == MPII_METAINFO['flip_pairs']
