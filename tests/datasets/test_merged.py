"""MergedKeypointDataset: COCO + AI Challenger onto COCO's 17 points, and
generated sources with every kind of mapping."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from customkpt.datasets import CocoKeypointDataset, MergedKeypointDataset
from customkpt.engine.config import load_config
from customkpt.meta import KeypointMeta, KeypointMetaError
from customkpt.registry import DATASETS

from .conftest import REPO_ROOT, ann

COCO_META = str(REPO_ROOT / 'configs/_base_/datasets/coco.py')  # MMPose-layout file
AIC_META = 'aic'  # the built-in preset
COCO = KeypointMeta.from_file(COCO_META)
# AI Challenger's point order, and the COCO name each lands on.
AIC_ORDER = ['right_shoulder', 'right_elbow', 'right_wrist', 'left_shoulder', 'left_elbow',
             'left_wrist', 'right_hip', 'right_knee', 'right_ankle', 'left_hip', 'left_knee',
             'left_ankle', 'head_top', 'neck']
FACE = ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear']


def sources(samples, aic_meta=AIC_META):
    return [dict(type='CocoKeypointDataset', data_root=str(samples / 'coco'),
                 ann_file='test_coco.json', metainfo=COCO_META),
            dict(type='CocoKeypointDataset', data_root=str(samples / 'aic'),
                 ann_file='test_aic.json', metainfo=aic_meta)]


@pytest.fixture(scope='module')
def built(samples):
    """The COCO and AIC sample datasets, built once (sources may be objects)."""
    return [DATASETS.build(dict(cfg, pipeline=[])) for cfg in sources(samples)]


def aic_samples(ds):
    return [ds.get_data_info(i) for i in range(len(ds))
            if f'{os.sep}aic{os.sep}' in ds.get_data_info(i)['img_path']]


def test_aic_points_land_on_the_same_coco_points(samples):
    raw = json.loads((samples / 'aic' / 'test_aic.json').read_text())
    raw_by_id = {a['id']: np.asarray(a['keypoints'], np.float32).reshape(14, 3)
                 for a in raw['annotations']}
    ds = MergedKeypointDataset(metainfo=COCO_META, datasets=sources(samples), pipeline=[])
    assert ds.metainfo == COCO.to_dict()
    aic = aic_samples(ds)
    assert len(ds) == 12 + 9 and len(aic) == 9
    for s in aic:
        src = raw_by_id[s['id']]
        assert s['keypoints'].shape == (1, 17, 2) and s['keypoints_visible'].shape == (1, 17)
        assert s['flip_indices'] == COCO.flip_indices and s['dataset_name'] == 'coco'
        for a_idx, name in enumerate(AIC_ORDER[:12]):
            c_idx = COCO.keypoint_names.index(name)
            labelled = src[a_idx, 2] > 0
            assert s['keypoints_visible'][0, c_idx] == float(labelled), name
            if labelled:
                np.testing.assert_array_equal(s['keypoints'][0, c_idx], src[a_idx, :2])
        for name in FACE:
            c_idx = COCO.keypoint_names.index(name)
            assert s['keypoints_visible'][0, c_idx] == 0
            np.testing.assert_array_equal(s['keypoints'][0, c_idx], [0, 0])
        # head_top and neck have no COCO twin: their coordinates appear nowhere.
        for a_idx in (12, 13):
            assert not (s['keypoints'][0] == src[a_idx, :2]).all(axis=1).any()
        assert s['num_keypoints'] == int((src[:12, 2] > 0).sum())
    # Left and right are kept apart on a fully labelled AIC person (id 12).
    s = next(s for s in aic if s['id'] == 12)
    right, left = (COCO.keypoint_names.index(n) for n in ('right_wrist', 'left_wrist'))
    np.testing.assert_array_equal(s['keypoints'][0, right], [111, 187])
    np.testing.assert_array_equal(s['keypoints'][0, left], [475, 346])


def test_coco_samples_pass_through_unchanged(built):
    ds = MergedKeypointDataset(metainfo=COCO_META, datasets=built, pipeline=[])
    coco = built[0]
    merged = [ds.get_data_info(i) for i in range(len(ds))][:len(coco)]
    for i, s in enumerate(merged):
        ref = coco.get_data_info(i)
        assert s['id'] == ref['id']
        np.testing.assert_array_equal(s['keypoints'], ref['keypoints'])
        np.testing.assert_array_equal(s['bbox'], ref['bbox'])


def test_rename_map_matches_the_names_of_the_json_itself(samples, built):
    # Without aic.py the AIC category names ("Right Shoulder", ...) apply.
    raw_names = json.loads((samples / 'aic' / 'test_aic.json').read_text())['categories'][0][
        'keypoints']
    rename = {raw: ours for raw, ours in zip(raw_names[:12], AIC_ORDER[:12])}
    cfgs = [built[0], sources(samples, aic_meta=dict(sigmas=[0.05] * 14))[1]]
    by_name = MergedKeypointDataset(metainfo=COCO_META, datasets=built)
    renamed = MergedKeypointDataset(metainfo=COCO_META, datasets=cfgs, mappings=[None, rename])
    assert len(by_name) == len(renamed)
    for i in range(len(by_name)):
        np.testing.assert_array_equal(by_name.get_data_info(i)['keypoints'],
                                      renamed.get_data_info(i)['keypoints'])
    with pytest.raises(KeypointMetaError, match='shares no point'):
        MergedKeypointDataset(metainfo=COCO_META, datasets=cfgs)


def test_index_pair_mapping(samples, built):
    raw = json.loads((samples / 'aic' / 'test_aic.json').read_text())
    pairs = [[0, 6], [3, 5]]           # AIC right/left shoulder -> COCO 6 / 5
    ds = MergedKeypointDataset(metainfo=COCO_META, datasets=built[1:], mappings=[pairs])
    assert len(ds) == 9
    np.testing.assert_array_equal(ds.index_maps[0][[5, 6]], [3, 0])
    for i, a in enumerate(raw['annotations']):
        kp = np.asarray(a['keypoints'], np.float32).reshape(14, 3)
        s = ds.get_data_info(i)
        assert set(np.flatnonzero(s['keypoints_visible'][0])) <= {5, 6}
        np.testing.assert_array_equal(s['keypoints'][0, 6], kp[0, :2] * (kp[0, 2] > 0))
        np.testing.assert_array_equal(s['keypoints'][0, 5], kp[3, :2] * (kp[3, 2] > 0))
    for bad, match in (([[14, 0]], 'source index'), ([[0, 17]], 'target index'),
                       ([[0, 1], [2, 1]], 'given twice')):
        with pytest.raises(KeypointMetaError, match=match):
            MergedKeypointDataset(metainfo=COCO_META, datasets=built[1:], mappings=[bad])


def test_sample_ratio_is_deterministic_under_a_seed(built):
    def ids(ratio, seed=0):
        ds = MergedKeypointDataset(metainfo=COCO_META, datasets=built,
                                   sample_ratio=ratio, seed=seed)
        return [(('aic' in ds.get_data_info(i)['img_path']), ds.get_data_info(i)['id'])
                for i in range(len(ds))]
    half = ids([0.5, 1.0])
    assert sum(not is_aic for is_aic, _ in half) == 6 and len(half) == 6 + 9
    assert ids([0.5, 1.0]) == half
    assert any(ids([0.5, 1.0], seed=s) != half for s in (1, 2, 3))
    twice = ids([0.0, 2.0])
    assert len(twice) == 18 and all(is_aic for is_aic, _ in twice)
    assert all(twice.count(x) == 2 for x in twice)
    one_and_half = [x for x in ids([1.5, 0.0])]
    assert len(one_and_half) == 12 + 6 and len(set(one_and_half)) == 12
    with pytest.raises(ValueError, match='sample_ratio'):
        MergedKeypointDataset(metainfo=COCO_META, datasets=built, sample_ratio=[1])


def test_the_coco_aic_merge_config_builds(samples):
    cfg = load_config(str(REPO_ROOT / 'configs/coco_aic_merge.py'))
    dataset_cfg = cfg.train_dataloader.dataset
    assert dataset_cfg.type == 'MergedKeypointDataset'
    assert os.path.samefile(dataset_cfg.datasets[1].data_root, samples / 'aic')
    assert [t.type for t in dataset_cfg.pipeline][-2:] == ['GenerateTarget', 'PackPoseInputs']
    dataset_cfg.pipeline = []          # the transforms are not under test here
    ds = DATASETS.build(dataset_cfg)
    assert isinstance(ds, MergedKeypointDataset)
    assert len(ds) == 21 and ds.metainfo['num_keypoints'] == 17
    assert [m.dataset_name for m in ds.source_metas] == ['coco', 'aic']
    # The rest is a full training config: COCO's model, evaluated on COCO.
    assert cfg.model.head.out_channels == 17 and cfg.train_dataloader.batch_size == 64
    assert cfg.train_cfg.max_epochs == 210
    val = DATASETS.build(dict(cfg.val_dataloader.dataset, pipeline=[]))
    assert val.metainfo['num_keypoints'] == 17 and len(val) > 0
    assert os.path.samefile(cfg.val_evaluator[0].ann_file, samples / 'coco' / 'test_coco.json')


def test_generated_sources_pipeline_and_unlabelled_after_mapping(write_coco, tmp_path):
    img = [{'id': 1, 'file_name': 'a.png'}]
    five = write_coco(img, [ann(1, 1, [(1, 1, 2), (2, 2, 2), (3, 3, 2), (4, 4, 2), (5, 5, 2)],
                                bbox=[0, 0, 9, 9])],
                      ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot'],
                      name='five.json')
    three = write_coco(img, [ann(1, 1, [(7, 7, 2), (8, 8, 2), (0, 0, 0)], bbox=[0, 0, 9, 9]),
                             ann(2, 1, [(0, 0, 0), (0, 0, 0), (9, 9, 2)], bbox=[0, 0, 9, 9])],
                       ['head', 'left_hand', 'tail'], name='three.json')
    bench = dict(keypoint_names=['head', 'left_hand', 'right_hand'], flip_pairs=[[1, 2]],
                 sigmas=[0.05] * 3, dataset_name='bench')
    built = CocoKeypointDataset(ann_file=str(three), data_prefix=dict(img=str(tmp_path / 'img')),
                                metainfo=dict(sigmas=[0.05] * 3), pipeline=[])

    def mark(sample):
        sample['seen'] = True
        return sample

    ds = MergedKeypointDataset(
        metainfo=bench, pipeline=[mark],
        datasets=[dict(type='CocoKeypointDataset', ann_file=str(five), metainfo=dict(
            sigmas=[0.05] * 5), data_prefix=dict(img=str(tmp_path / 'img'))), built])
    # Instance 2 of `three` only has `tail`: nothing left on the benchmark.
    assert len(ds) == 2
    first, second = ds[0], ds[1]
    assert first['seen'] and first['flip_indices'] == [0, 2, 1]
    np.testing.assert_array_equal(first['keypoints'][0], [[1, 1], [2, 2], [3, 3]])
    np.testing.assert_array_equal(second['keypoints'][0], [[7, 7], [8, 8], [0, 0]])
    np.testing.assert_array_equal(second['keypoints_visible'], [[1, 1, 0]])
    assert second['dataset_name'] == 'bench'
    test = MergedKeypointDataset(metainfo=bench, datasets=[built], test_mode=True)
    assert len(test) == 2
