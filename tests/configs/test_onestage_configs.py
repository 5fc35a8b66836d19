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
    assert [m['type'] for m in cfg.val_evaluator] == metrics
    for loader in ('train_dataloader', 'val_dataloader'):
        assert cfg[loader].dataset.type == 'CocoImageDataset'
        assert cfg[loader].dataset.category_ids == [1]
    for metric in cfg.val_evaluator:
        assert METRICS.get(metric['type']) is not None
    Compose(cfg.train_dataloader.dataset.pipeline)    # every step is registered
    Compose(cfg.val_dataloader.dataset.pipeline)


def test_stride_eight_uses_the_coarser_maps():
    cfg = load_config(str(ROOT / 'onestage_self5_cpu.py'), dict(stride=8))
    model = MODELS.build(cfg.model)
    assert model.head.decoder.heatmap_size == (16, 12) and model.neck.start_level == 1
    outputs = model.predict_outputs(torch.zeros(1, 3, 96, 128))
    assert outputs['centre_heatmap'].shape == (1, 1, 12, 16)
    assert np.isfinite(outputs['keypoint_offsets'].detach().numpy()).all()
