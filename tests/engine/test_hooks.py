"""PredictionDrawingHook writes ground truth beside predictions; ModelMetaHook
fixes the model's keypoint definition from the dataset."""
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.structures import InstanceData

from customkpt.meta import KeypointMeta
from customkpt.registry import HOOKS
from customkpt.structures import PoseDataSample


def test_prediction_drawing_hook_writes_side_by_side_images(tmp_path):
    img_path = tmp_path / 'im.png'
    cv2.imwrite(str(img_path), np.zeros((40, 60, 3), np.uint8))
    meta = KeypointMeta(['a', 'b'], skeleton=[[0, 1]], sigmas=[0.1, 0.1]).to_dict()
    runner = SimpleNamespace(test_dataloader=SimpleNamespace(
        dataset=SimpleNamespace(metainfo=meta)))
    samples = []
    for i in range(3):
        s = PoseDataSample(metainfo=dict(img_id=i, id=10 + i, img_path=str(img_path)))
        kpts = np.array([[[20.0, 30.0], [45.0, 32.0]]], np.float32)  # below the titles
        box = np.array([[5, 5, 40, 30]], np.float32)
        s.gt_instances = InstanceData(keypoints=kpts, keypoints_visible=np.ones((1, 2)),
                                      bboxes=box)
        s.pred_instances = InstanceData(keypoints=kpts + 2, keypoint_scores=np.ones((1, 2)),
                                        bboxes=box)
        samples.append(s)
    hook = HOOKS.build(dict(type='PredictionDrawingHook', out_dir=str(tmp_path / 'out'),
                            max_images=2))
    hook.before_test(runner)
    hook.after_test_iter(runner, 0, None, samples)
    files = sorted((tmp_path / 'out').glob('*.png'))
    assert [f.name for f in files] == ['0_10.png', '1_11.png']
    drawn = cv2.imread(str(files[0]))
    assert drawn.shape == (40, 120, 3)
    colour = meta['keypoint_colors'][0][::-1]  # RGB -> BGR
    np.testing.assert_array_equal(drawn[30, 20], colour)       # ground truth, left half
    np.testing.assert_array_equal(drawn[32, 60 + 22], colour)  # prediction, right half


def _meta(flip_pairs):
    return KeypointMeta(['nose', 'left_eye', 'right_eye'], flip_pairs=flip_pairs,
                        sigmas=[0.1] * 3).to_dict()


def _runner(model_meta, data_meta):
    model = SimpleNamespace(dataset_meta=model_meta)
    loader = SimpleNamespace(dataset=SimpleNamespace(metainfo=data_meta))
    return SimpleNamespace(model=model, train_dataloader=loader, val_dataloader=loader,
                           test_dataloader=loader)


@pytest.mark.parametrize('stage', ['before_train', 'before_val', 'before_test'])
def test_model_meta_hook_gives_a_bare_model_the_datasets_definition(stage):
    data_meta = _meta([[1, 2]])
    runner = _runner(None, data_meta)
    getattr(HOOKS.build(dict(type='ModelMetaHook')), stage)(runner)
    assert runner.model.dataset_meta == data_meta
    assert runner.model.dataset_meta is not data_meta          # a copy
    assert runner.model.dataset_meta['flip_indices'] == [0, 2, 1]


def test_model_meta_hook_keeps_an_agreeing_definition_and_refuses_another():
    hook = HOOKS.build(dict(type='ModelMetaHook'))
    model_meta = dict(_meta([[1, 2]]), dataset_name='model')
    runner = _runner(model_meta, _meta([[1, 2]]))
    hook.before_val(runner)
    assert runner.model.dataset_meta is model_meta
    runner = _runner(model_meta, _meta([]))
    with pytest.raises(ValueError, match=r'\[0, 2, 1\].*test.*\[0, 1, 2\]'):
        hook.before_test(runner)
    # A model meta without a table is replaced; a dataset without one changes nothing.
    runner = _runner(dict(dataset_name='x'), _meta([[1, 2]]))
    hook.before_test(runner)
    assert runner.model.dataset_meta['flip_indices'] == [0, 2, 1]
    runner = _runner(None, dict(dataset_name='no table'))
    hook.before_test(runner)
    assert runner.model.dataset_meta is None


def test_model_meta_hook_is_in_the_default_runtime():
    cfg = Config.fromfile('configs/_base_/default_runtime.py')
    assert dict(type='ModelMetaHook') in cfg.custom_hooks


@pytest.mark.parametrize('stage', ['before_train', 'before_val', 'before_test'])
def test_model_meta_hook_refuses_a_head_for_another_keypoint_count(stage):
    from customkpt.engine.model_fit import KeypointCountError
    runner = _runner(None, _meta([[1, 2]]))
    runner.model.head = SimpleNamespace(out_channels=5)
    with pytest.raises(KeypointCountError, match=r'predicts 5 keypoints .* dataset defines 3'):
        getattr(HOOKS.build(dict(type='ModelMetaHook')), stage)(runner)
    runner.model.head = SimpleNamespace(out_channels=3)
    getattr(HOOKS.build(dict(type='ModelMetaHook')), stage)(runner)
    assert runner.model.dataset_meta['flip_indices'] == [0, 2, 1]
