"""A tiny random RTMPose through export and the onnxruntime predictor:
SimCC outputs, the codec in the sidecar, the same keypoints as torch."""
import json

import numpy as np
import onnx
import pytest
import torch

from customkpt.apis import TopdownPredictor, init_model
from customkpt.codecs import build_codec
from customkpt.deploy import OnnxPredictor, read_sidecar
from customkpt.deploy.export import export_onnx
from customkpt.engine.config import load_config

from .predictor_cases import BOXES, SCORES, _assert_same, _image

CONFIG = 'configs/rtmpose_t_self5_cpu.py'


def tiny_rtmpose(flip_test=True):
    """RTMPose-t at 64x64 with an eighth of the channels, seed 0."""
    cfg = load_config(CONFIG, dict(train_size=(64, 64)))
    cfg.model.backbone.widen_factor = 0.125
    cfg.model.head.in_channels = 128
    cfg.model.head.gau_cfg.update(hidden_dims=32, s=16)
    cfg.model.test_cfg = dict(flip_test=flip_test)
    torch.manual_seed(0)
    return init_model(cfg)


@pytest.fixture(scope='module')
def rtm_exports(tmp_path_factory):
    root = tmp_path_factory.mktemp('rtmpose')
    model = tiny_rtmpose()
    return dict(model=model, plain=export_onnx(model, root / 'plain.onnx'),
                flip=export_onnx(model, root / 'flip.onnx', flip_test=True))


def test_the_graph_returns_both_vectors_with_a_dynamic_batch(rtm_exports):
    graph = onnx.load(rtm_exports['plain']['onnx']).graph
    assert [o.name for o in graph.output] == ['simcc_x', 'simcc_y']
    for out in graph.output:
        assert out.type.tensor_type.shape.dim[0].dim_param == 'batch'
    predictor = OnnxPredictor(rtm_exports['plain']['onnx'], flip_test=False)
    x = np.random.default_rng(0).standard_normal((3, 3, 64, 64)).astype(np.float32)
    simcc_x, simcc_y = predictor.predict_outputs(x)
    with torch.no_grad():
        ref_x, ref_y = rtm_exports['model'](torch.from_numpy(x), mode='tensor')
    assert simcc_x.shape == (3, 5, 128) and simcc_y.shape == (3, 5, 128)
    np.testing.assert_allclose(simcc_x, ref_x.numpy(), atol=1e-5)
    np.testing.assert_allclose(simcc_y, ref_y.numpy(), atol=1e-5)


def test_the_sidecar_carries_the_simcc_codec(rtm_exports):
    model = rtm_exports['model']
    side = read_sidecar(rtm_exports['plain']['sidecar'])
    assert side['format_version'] == 2 and side['output_names'] == ['simcc_x', 'simcc_y']
    assert side['codec'] == json.loads(json.dumps(model.head.decoder.to_dict()))
    assert side['simcc_size'] == [128, 128] and 'heatmap_size' not in side
    codec = build_codec(side['codec'])
    assert type(codec).__name__ == 'SimCCLabel' and codec.to_dict() == side['codec']
    assert side['use_udp'] is False and side['crop_use_udp'] is False


@pytest.mark.parametrize('graph', ['plain', 'flip'])
def test_keypoints_match_torch_with_flip_test(rtm_exports, graph):
    """Flip test done by the predictor (plain graph) or baked in (flip graph)."""
    predictor = OnnxPredictor(rtm_exports[graph]['onnx'])
    assert predictor.flip_test is (graph == 'plain')
    reference = TopdownPredictor(rtm_exports['model'])
    for seed in (0, 1):
        img = _image(seed)
        _assert_same(predictor(img, BOXES, SCORES), reference(img, BOXES, SCORES))


def test_keypoints_match_torch_without_flip_test(rtm_exports):
    predictor = OnnxPredictor(rtm_exports['plain']['onnx'], flip_test=False)
    plain = TopdownPredictor(tiny_rtmpose(flip_test=False))
    out = predictor(_image(3), BOXES)
    _assert_same(out, plain(_image(3), BOXES))
    flipped = OnnxPredictor(rtm_exports['plain']['onnx'], flip_test=True)(_image(3), BOXES)
    assert np.abs(flipped['keypoint_scores'] - out['keypoint_scores']).max() > 1e-4


def test_a_new_input_size_is_refused_for_a_simcc_head(rtm_exports, tmp_path):
    with pytest.raises(ValueError, match='SimCCLabel heads are built for input_size'):
        export_onnx(rtm_exports['model'], tmp_path / 'x.onnx', input_size=(96, 128))
