"""One-stage ONNX export: the graph's outputs equal the torch model's (plain
and with the flip test baked in, keypoint heatmaps included), the
onnxruntime predictor finds the same objects as the torch predictor (points
refined by the keypoint heatmaps), the sidecar is checked, and an older
sidecar without keypoint heatmaps still runs."""
import json

import numpy as np
import pytest
import torch

from customkpt.apis import init_model
from customkpt.apis.onestage import OneStagePredictor
from customkpt.codecs import build_codec
from customkpt.deploy import OnnxOneStagePredictor, OnnxPredictor, is_onestage_export
from customkpt.deploy.onestage import read_onestage_sidecar
from customkpt.deploy.onestage_export import export_onestage_onnx
from customkpt.engine.config import load_config

CONFIG = 'configs/onestage_self5_cpu.py'


def _model(**options):
    cfg = load_config(CONFIG, dict(input_size=(64, 64), max_detections=8, **options))
    torch.manual_seed(0)
    model = init_model(cfg)
    with torch.no_grad():  # distinct scores and boxes of some size from random weights
        torch.nn.init.normal_(model.head.branches['centre_heatmap'][-1].weight, std=1.0)
        model.head.branches['box_size'][-1].bias.fill_(3.0)
        if 'keypoint_heatmap' in model.head.branches:  # distinct peaks, some above peak_thr
            torch.nn.init.normal_(model.head.branches['keypoint_heatmap'][-1].weight, std=1.0)
            model.head.branches['keypoint_heatmap'][-1].bias.fill_(0.0)
    return model


@pytest.fixture(scope='module')
def model():
    return _model(snap_distance=None)


@pytest.fixture(scope='module')
def exports(model, tmp_path_factory):
    root = tmp_path_factory.mktemp('onestage')
    return dict(plain=export_onestage_onnx(model, root / 'plain.onnx'),
                flip=export_onestage_onnx(model, root / 'flip.onnx', flip_test=True))


def _run(path, x):
    import onnxruntime as ort
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, {'input': x})))


@pytest.mark.parametrize('flip', [False, True])
def test_onnx_outputs_equal_the_torch_outputs(model, exports, flip):
    x = torch.from_numpy(np.random.default_rng(0).normal(0, 1, (2, 3, 64, 64)).astype('f4'))
    model.test_cfg['flip_test'] = flip
    try:
        with torch.no_grad():
            expected = model.predict_outputs(x)
    finally:
        model.test_cfg['flip_test'] = False
    got = _run(exports['flip' if flip else 'plain']['onnx'], x.numpy())
    assert list(got) == list(model.head.decoder.output_names)
    assert got['keypoint_heatmap'].shape == (2, 5, 16, 16)
    assert got['keypoint_heatmap_offset'].shape == (2, 2, 16, 16)
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value.numpy(), atol=2e-4, rtol=1e-3)


def test_onnx_predictor_finds_the_torch_predictors_objects(model, exports):
    img = np.random.default_rng(1).integers(0, 255, (80, 100, 3)).astype(np.uint8)
    torch_out = OneStagePredictor(model)(img)
    plain = OnnxOneStagePredictor(exports['plain']['onnx'])
    onnx_out = plain(img)
    assert set(onnx_out) == set(torch_out) == {'bboxes', 'scores', 'labels', 'category_ids',
                                               'keypoints', 'keypoint_scores'}
    for name in ('bboxes', 'keypoints'):
        np.testing.assert_allclose(onnx_out[name], torch_out[name], atol=2e-2)
    np.testing.assert_allclose(onnx_out['scores'], torch_out['scores'], atol=1e-4)
    np.testing.assert_allclose(onnx_out['keypoint_scores'], torch_out['keypoint_scores'],
                               atol=1e-4)
    np.testing.assert_array_equal(onnx_out['category_ids'], [1] * len(torch_out['scores']))
    assert (onnx_out['bboxes'][:, 2] <= 100).all() and (onnx_out['bboxes'] >= 0).all()
    # the flip test in numpy (flip_back) equals the one baked into the graph
    numpy_flip = OnnxOneStagePredictor(exports['plain']['onnx'], flip_test=True)(img)
    baked = OnnxOneStagePredictor(exports['flip']['onnx'])(img)
    np.testing.assert_allclose(numpy_flip['keypoints'], baked['keypoints'], atol=2e-2)
    np.testing.assert_allclose(numpy_flip['scores'], baked['scores'], atol=1e-4)
    np.testing.assert_allclose(numpy_flip['keypoint_scores'], baked['keypoint_scores'],
                               atol=1e-4)
    # the keypoint heatmaps moved some of the points
    plain.codec = build_codec(dict(plain.codec.to_dict(), keypoint_heatmaps=False))
    alone = plain(img)
    np.testing.assert_allclose(alone['bboxes'], onnx_out['bboxes'])
    moved = np.abs(alone['keypoints'] - onnx_out['keypoints']).max(-1) > 1e-2
    assert 0 < moved.sum() < moved.size


def test_sidecar_is_recognised_and_checked(model, exports, tmp_path):
    onnx = exports['plain']['onnx']
    info = read_onestage_sidecar(exports['plain']['sidecar'])
    assert info['model_kind'] == 'onestage' and info['category_ids'] == [1]
    assert info['codec']['type'] == 'CentreLabel' and info['input_size'] == [64, 64]
    assert is_onestage_export(onnx) and not is_onestage_export(tmp_path / 'none.onnx')
    with pytest.raises(ValueError, match='lacks field'):
        OnnxPredictor(onnx)      # the top-down predictor refuses it
    bad = dict(info)
    del bad['category_ids']
    (tmp_path / 'bad.json').write_text(json.dumps(bad))
    with pytest.raises(ValueError, match='category_ids'):
        read_onestage_sidecar(tmp_path / 'bad.json')
    with pytest.raises(ValueError, match='decodes a \\[64, 64\\] input'):
        export_onestage_onnx(model, tmp_path / 'x.onnx', input_size=(32, 32))


def test_a_sidecar_without_keypoint_heatmaps_runs_as_before(tmp_path):
    """An export whose sidecar's codec has no keypoint-heatmap keys (as
    older exports wrote it) decodes the regression alone."""
    old = _model(keypoint_heatmaps=False)
    export = export_onestage_onnx(old, tmp_path / 'old.onnx')
    info = json.loads(open(export['sidecar']).read())
    for key in ('keypoint_heatmaps', 'peak_thr', 'snap_distance'):
        del info['codec'][key]
    open(export['sidecar'], 'w').write(json.dumps(info))
    assert info['output_names'] == ['centre_heatmap', 'box_size', 'centre_offset',
                                    'keypoint_offsets', 'keypoint_scores']
    predict = OnnxOneStagePredictor(export['onnx'])
    assert not predict.codec.keypoint_heatmaps
    img = np.random.default_rng(1).integers(0, 255, (80, 100, 3)).astype(np.uint8)
    got, expected = predict(img), OneStagePredictor(old)(img)
    for name in ('bboxes', 'keypoints', 'keypoint_scores'):
        np.testing.assert_allclose(got[name], expected[name], atol=2e-2)


def test_a_detectors_flip_test_is_the_same_in_torch_numpy_and_the_graph(tmp_path):
    cfg = load_config('configs/detector_self5_cpu.py', dict(input_size=(64, 64),
                                                             max_detections=8))
    torch.manual_seed(0)
    model = init_model(cfg)
    model.test_cfg['flip_test'] = True
    with torch.no_grad():
        # random features are tiny (about 1e-5): large weights make scores that differ
        torch.nn.init.normal_(model.head.branches['centre_heatmap'][-1].weight, std=3e3)
        model.head.branches['box_size'][-1].bias.fill_(3.0)
    plain = export_onestage_onnx(model, tmp_path / 'plain.onnx')
    baked = export_onestage_onnx(model, tmp_path / 'flip.onnx', flip_test=True)
    assert read_onestage_sidecar(plain['sidecar'])['flip_test'] is True
    img = np.random.default_rng(2).integers(0, 255, (70, 90, 3)).astype(np.uint8)
    torch_flip = OneStagePredictor(model)(img)
    model.test_cfg['flip_test'] = False
    torch_plain = OneStagePredictor(model)(img)
    numpy_flip = OnnxOneStagePredictor(plain['onnx'])(img)    # the sidecar's setting
    graph_flip = OnnxOneStagePredictor(baked['onnx'])(img)
    assert 'keypoints' not in numpy_flip
    for got in (numpy_flip, graph_flip):
        np.testing.assert_allclose(got['bboxes'], torch_flip['bboxes'], atol=2e-2)
        np.testing.assert_allclose(got['scores'], torch_flip['scores'], atol=1e-4)
    assert np.abs(torch_plain['scores'] - torch_flip['scores']).max() > 1e-2
