"""export_onnx: valid graphs, dynamic batch, baked flip test, sidecar, TorchScript."""
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from customkpt.deploy.export import ExportGraph, deploy_settings, export_onnx

from .conftest import tiny_model


def _run(path, x):
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    return session.run(None, {'input': x})[0]


def test_graph_checks_and_names(exports):
    graph = onnx.load(exports['plain']['onnx'])
    onnx.checker.check_model(graph)
    assert [i.name for i in graph.graph.input] == ['input']
    assert [o.name for o in graph.graph.output] == ['heatmaps']
    dims = graph.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == 'batch' and [d.dim_value for d in dims[1:]] == [3, 128, 96]
    static = onnx.load(exports['static']['onnx']).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in static] == [1, 3, 128, 96]


@pytest.mark.parametrize('batch', [1, 3])
def test_dynamic_batch_matches_torch(model, exports, batch):
    x = np.random.default_rng(batch).standard_normal((batch, 3, 128, 96)).astype(np.float32)
    out = _run(exports['plain']['onnx'], x)
    with torch.no_grad():
        ref = model(torch.from_numpy(x), mode='tensor').numpy()
    assert out.shape == (batch, 5, 32, 24)
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_flip_test_graph_is_the_models_flip_test(model, exports):
    x = np.random.default_rng(7).standard_normal((3, 3, 128, 96)).astype(np.float32)
    out = _run(exports['flip']['onnx'], x)
    assert model.test_cfg['flip_test'] is True
    with torch.no_grad():
        flipped_avg = model.predict_outputs(torch.from_numpy(x)).numpy()
        plain = model(torch.from_numpy(x), mode='tensor').numpy()
    np.testing.assert_allclose(out, flipped_avg, atol=1e-5)
    assert np.abs(out - plain).max() > 1e-3  # the flip really is in the graph


def test_sidecar_fields(model, exports):
    result = exports['flip']
    assert result['sidecar'].endswith('flip.json')
    side = json.loads(open(result['sidecar']).read())
    assert side == json.loads(json.dumps(result['info'])) | dict(format='customkpt-onnx',
                                                               format_version=2)
    assert side['input_size'] == [96, 128] and side['heatmap_size'] == [24, 32]
    assert side['input_name'] == 'input' and side['output_names'] == ['heatmaps']
    np.testing.assert_allclose(side['mean'], [123.675, 116.28, 103.53], rtol=1e-6)
    np.testing.assert_allclose(side['std'], [58.395, 57.12, 57.375], rtol=1e-6)
    assert side['color_order'] == 'rgb' and side['bbox_padding'] == 1.25
    assert side['use_udp'] is False and side['crop_use_udp'] is False
    assert side['codec'] == dict(type='MSRAHeatmap', input_size=[96, 128],
                                 heatmap_size=[24, 32], sigma=2.0, unbiased=False,
                                 blur_kernel_size=11)
    assert side['flip_test_baked'] is True and side['flip_test'] is True
    assert side['shift_heatmap'] is True and side['dynamic_batch'] is True
    assert side['opset'] == 17 and side['onnx_file'] == 'flip.onnx'
    meta = side['meta']
    assert meta['keypoint_names'] == ['head', 'left_hand', 'right_hand', 'left_foot',
                                      'right_foot']
    assert meta['skeleton'] == [[0, 1], [0, 2], [0, 3], [0, 4]]
    assert meta['flip_pairs'] == [[1, 2], [3, 4]] and meta['flip_indices'] == [0, 2, 1, 4, 3]
    assert meta['sigmas'] == [0.026, 0.062, 0.062, 0.089, 0.089]
    assert json.load(open(exports['plain']['sidecar']))['flip_test_baked'] is False


def test_udp_and_dark_settings():
    udp = deploy_settings(tiny_model(dict(type='UDPHeatmap', sigma=2.0), crop_udp=True))
    assert udp['use_udp'] is True and udp['crop_use_udp'] is True
    assert udp['codec']['type'] == 'UDPHeatmap' and 'unbiased' not in udp['codec']
    dark = deploy_settings(tiny_model(dict(type='MSRAHeatmap', sigma=2.0, unbiased=True,
                                           blur_kernel_size=7)))
    assert dark['use_udp'] is False and dark['codec']['unbiased'] is True
    assert dark['codec']['blur_kernel_size'] == 7


def test_input_size_override(model, tmp_path):
    result = export_onnx(model, tmp_path / 'small.onnx', input_size=(64, 96))
    info = result['info']
    assert info['input_size'] == [64, 96] and info['heatmap_size'] == [16, 24]
    assert info['codec']['input_size'] == [64, 96] and info['codec']['heatmap_size'] == [16, 24]
    out = _run(result['onnx'], np.zeros((2, 3, 96, 64), np.float32))
    assert out.shape == (2, 5, 24, 16)


def test_torchscript_file(model, tmp_path):
    result = export_onnx(model, tmp_path / 'm.onnx', flip_test=True, torchscript=True)
    assert result['torchscript'].endswith('m.torchscript.pt')
    traced = torch.jit.load(result['torchscript'])
    x = torch.randn(2, 3, 128, 96)
    with torch.no_grad():
        np.testing.assert_allclose(traced(x).numpy(), ExportGraph(model, True)(x).numpy(),
                                   atol=1e-6)
    assert model.test_cfg['flip_test'] is True and not model.training


def test_errors(model, tmp_path):
    with pytest.raises(IsADirectoryError, match='is a directory'):
        export_onnx(model, tmp_path)
    bare = tiny_model()
    bare.dataset_meta = None
    with pytest.raises(ValueError, match='dataset_meta'):
        export_onnx(bare, tmp_path / 'x.onnx')
    no_decoder = tiny_model()
    no_decoder.head.decoder = None
    with pytest.raises(ValueError, match='decoder'):
        export_onnx(no_decoder, tmp_path / 'x.onnx')
    no_flip = tiny_model()
    no_flip.dataset_meta = dict(no_flip.dataset_meta, flip_indices=None)
    with pytest.raises(ValueError, match='flip_indices'):
        export_onnx(no_flip, tmp_path / 'x.onnx', flip_test=True)
    assert not (tmp_path / 'x.onnx').exists()
