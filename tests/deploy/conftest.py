"""A tiny random-init model (fixed seed) and its exports, shared by the deploy tests."""
import pytest
import torch

from customkpt.apis import init_model
from customkpt.deploy.export import export_onnx
from customkpt.engine.config import load_config

CONFIG = 'configs/hrnet_self5_cpu.py'


def tiny_model(codec: dict | None = None, crop_udp: bool = False):
    """The CPU config's tiny HRNet, seed 0; ``codec`` replaces the decoder
    and ``crop_udp`` switches the test crop to the UDP convention."""
    cfg = load_config(CONFIG)
    if codec is not None:
        cfg.model.head.decoder = dict(codec, input_size=(96, 128), heatmap_size=(24, 32))
    for loader in ('val_dataloader', 'test_dataloader'):
        for step in cfg[loader].dataset.pipeline:
            if step['type'] == 'TopdownAffine':
                step['use_udp'] = crop_udp
    torch.manual_seed(0)
    return init_model(cfg)


@pytest.fixture(scope='package')
def model():
    return tiny_model()


@pytest.fixture(scope='package')
def exports(model, tmp_path_factory):
    """Plain graph, flip-test graph and a static-batch graph of ``model``."""
    root = tmp_path_factory.mktemp('exports')
    return dict(plain=export_onnx(model, root / 'plain.onnx'),
                flip=export_onnx(model, root / 'flip.onnx', flip_test=True),
                static=export_onnx(model, root / 'static.onnx', dynamic_batch=False))
