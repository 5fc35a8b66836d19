"""The one-stage configs build: the keypoint model and the detector (the
same model, keypoint branch off), their datasets, pipelines and metrics."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose

from customkpt.engine.config import check_conventions, load_config
from customkpt.registry import METRICS, MODELS

ROOT = Path(__file__).resolve().parents[2] / 'configs'


@pytest.mark.parametrize('name, keypoints, metrics', [
    ('onestage_self5_cpu.py', 5, ['CocoKeypointMetric', 'CocoDetectionMetric']),
    ('detector_self5_cpu.py', 0, ['CocoDetectionMetric'])])
def test_config_builds_its_model_and_passes_the_checks(name, keypoints, metrics):
    cfg = load_config(str(ROOT / name))
    check_conventions(cfg)
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'OneStageEstimator'
    assert model.head.num_keypoints == keypoints and model.category_ids == [1]
    assert model.head.decoder.input_size == tuple(cfg.input_size) == (128, 96)
    assert model.head.decoder.heatmap_size == (32, 24)            # stride 4
    assert model.test_cfg['flip_test'] is False            # one forward pass per image
    if not keypoints:              # a detector's flip test needs no keypoint definition
        model.test_cfg['flip_test'] = True
        model.dataset_meta = None
        assert model.predict_outputs(torch.zeros(1, 3, 96, 128))['box_size'].shape[1] == 2
        model.test_cfg['flip_test'] = False
    # keypoint heatmaps refine the keypoint model's points; the detector has none
    assert model.head.decoder.keypoint_heatmaps is bool(keypoints)
    heatmap_branches = {'keypoint_heatmap', 'keypoint_heatmap_offset'} & set(model.head.branches)
    assert len(heatmap_branches) == (2 if keypoints else 0)
    outputs = model.predict_outputs(torch.zeros(1, 3, 96, 128))
    assert list(outputs) == list(model.head.decoder.output_names)
    if keypoints:
        assert outputs['keypoint_heatmap'].shape == (1, keypoints, 24, 32)
        assert outputs['keypoint_heatmap_offset'].shape == (1, 2, 24, 32)
    for step in cfg.train_dataloader.dataset.pipeline:          # the targets match the head
        if step['type'] == 'GenerateCentreTarget':
            assert bool(step['encoder']['keypoint_heatmaps']) is bool(keypoints)
    assert [m['type'] for m in cfg.val_evaluator] == metrics
    for loader in ('train_dataloader', 'val_dataloader'):
        assert cfg[loader].dataset.type == 'CocoImageDataset'
        assert cfg[loader].dataset.category_ids == [1]
    for metric in cfg.val_evaluator:
        assert METRICS.get(metric['type']) is not None
    Compose(cfg.train_dataloader.dataset.pipeline)    # every step is registered
    Compose(cfg.val_dataloader.dataset.pipeline)


def test_keypoint_heatmaps_can_be_turned_off_for_older_checkpoints():
    cfg = load_config(str(ROOT / 'onestage_self5_cpu.py'), dict(keypoint_heatmaps=False))
    model = MODELS.build(cfg.model)
    assert not model.head.decoder.keypoint_heatmaps
    assert set(model.head.branches) == {'centre_heatmap', 'box_size', 'centre_offset',
                                        'keypoint_offsets', 'keypoint_scores'}


def test_stride_eight_uses_the_coarser_maps():
    cfg = load_config(str(ROOT / 'onestage_self5_cpu.py'), dict(stride=8))
    model = MODELS.build(cfg.model)
    assert model.head.decoder.heatmap_size == (16, 12) and model.neck.start_level == 1
    outputs = model.predict_outputs(torch.zeros(1, 3, 96, 128))
    assert outputs['centre_heatmap'].shape == (1, 1, 12, 16)
    assert np.isfinite(outputs['keypoint_offsets'].detach().numpy()).all()
