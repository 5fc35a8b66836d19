"""configs/my_dataset_example.py, the template for a new dataset: at most 20
lines, and it trains as it stands once its paths point at data."""
import json
from pathlib import Path

import cv2
import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from customkpt.engine.config import load_run_config
from customkpt.registry import DATASETS, MODELS

CONFIG = Path(__file__).resolve().parents[2] / 'configs' / 'my_dataset_example.py'


def _write_data(root: Path) -> None:
    """Two 64 x 48 images with one 4-point instance each, in the template's layout."""
    (root / 'images').mkdir(parents=True)
    (root / 'annotations').mkdir()
    images, annotations = [], []
    for i in range(2):
        name = f'{i}.png'
        assert cv2.imwrite(str(root / 'images' / name), np.full((48, 64, 3), 60 * i, np.uint8))
        images.append(dict(id=i + 1, file_name=name, width=64, height=48))
        points = [20, 10, 2, 12, 20, 2, 28, 20, 2, 20, 36, 2]
        annotations.append(dict(id=i + 1, image_id=i + 1, category_id=1, iscrowd=0,
                                bbox=[10, 8, 20, 30], area=600.0, num_keypoints=4,
                                keypoints=points))
    category = dict(id=1, name='bird', keypoints=['beak', 'left_wing', 'right_wing', 'tail'])
    for split in ('train', 'val'):
        (root / 'annotations' / f'{split}.json').write_text(json.dumps(dict(
            images=images, annotations=annotations, categories=[category])))


def test_the_template_is_short():
    assert len(CONFIG.read_text().splitlines()) <= 20


def test_the_template_builds_its_model_and_datasets_and_trains_a_step(tmp_path):
    _write_data(tmp_path)
    cfg = load_run_config(str(CONFIG), {'data_root': f'{tmp_path}/', 'arch': 'tiny',
                                        'train_size': (48, 64)})
    assert cfg.model.head.out_channels == 4 and cfg.model.head.decoder.heatmap_size == (12, 16)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(train) == len(val) == 2
    assert train.metainfo['keypoint_names'][1] == 'left_wing'
    sample = train[0]
    assert tuple(sample['inputs'].shape) == (3, 64, 48)
    assert tuple(sample['data_samples'].gt_fields.heatmaps.shape) == (4, 16, 12)
    assert tuple(val[0]['inputs'].shape) == (3, 64, 48)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(pseudo_collate([train[0], train[1]]), training=True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss_kpt'])
