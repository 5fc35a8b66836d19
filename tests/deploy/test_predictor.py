"""OnnxPredictor: same answers as the torch TopdownPredictor, errors, no torch."""
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from customkpt.apis import TopdownPredictor
from customkpt.deploy import OnnxPredictor
from customkpt.deploy.export import export_onnx

from .conftest import tiny_model
from .predictor_cases import BOXES, SCORES, _assert_same, _image

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize('graph', ['plain', 'flip'])
def test_parity_with_torch_flip_test(model, exports, graph):
    """Flip test done by the predictor (plain graph) or baked in (flip graph)."""
    predictor = OnnxPredictor(exports[graph]['onnx'])
    assert predictor.flip_test is (graph == 'plain')
    reference = TopdownPredictor(model)
    for seed in (0, 1):
        img = _image(seed)
        out = predictor(img, BOXES, SCORES)
        assert out['keypoints'].shape == (4, 5, 2) and out['keypoint_scores'].shape == (4, 5)
        assert out['keypoints'].dtype == np.float32
        _assert_same(out, reference(img, BOXES, SCORES))
    whole = predictor(_image(2))
    np.testing.assert_array_equal(whole['bboxes'], [[0, 0, 200, 160]])
    empty = predictor(_image(2), np.zeros((0, 4)), np.zeros(0))
    np.testing.assert_array_equal(empty['keypoints'], whole['keypoints'])
    np.testing.assert_array_equal(empty['bbox_scores'], [1.0])
    _assert_same(whole, reference(_image(2)))


def test_parity_without_flip_test(exports):
    unflipped = tiny_model()
    unflipped.test_cfg = dict(unflipped.test_cfg, flip_test=False)
    predictor = OnnxPredictor(exports['plain']['onnx'], flip_test=False)
    out = predictor(_image(3), BOXES)
    _assert_same(out, TopdownPredictor(unflipped)(_image(3), BOXES))
    # and flip test does change the answer, so the tests above compare something
    flipped = OnnxPredictor(exports['plain']['onnx'])(_image(3), BOXES)
    assert np.abs(flipped['keypoint_scores'] - out['keypoint_scores']).max() > 1e-4


@pytest.mark.parametrize('codec,crop_udp', [
    (dict(type='UDPHeatmap', sigma=2.0), True),
    (dict(type='MSRAHeatmap', sigma=2.0, unbiased=True), False)])
def test_parity_udp_and_dark(tmp_path, codec, crop_udp):
    model = tiny_model(codec, crop_udp)
    predictor = OnnxPredictor(export_onnx(model, tmp_path / 'm.onnx')['onnx'])
    img = _image(4)
    _assert_same(predictor(img, BOXES), TopdownPredictor(model)(img, BOXES))


def test_batches_and_static_graph(exports):
    img = _image(5)
    full = OnnxPredictor(exports['plain']['onnx'])(img, BOXES)
    for predictor in (OnnxPredictor(exports['plain']['onnx'], batch_size=3),
                      OnnxPredictor(exports['static']['onnx'])):
        out = predictor(img, BOXES)
        np.testing.assert_allclose(out['keypoints'], full['keypoints'], atol=1e-4)
        np.testing.assert_allclose(out['keypoint_scores'], full['keypoint_scores'], atol=1e-6)
    assert OnnxPredictor(exports['static']['onnx']).fixed_batch == 1


def test_meta_and_image_inputs(model, exports, tmp_path):
    predictor = OnnxPredictor(exports['plain']['onnx'])
    assert predictor.codec.to_dict() == model.head.decoder.to_dict()
    assert predictor.meta['keypoint_names'][1] == 'left_hand'
    assert predictor.meta['flip_indices'] == [0, 2, 1, 4, 3]
    assert predictor.meta['skeleton'] == [[0, 1], [0, 2], [0, 3], [0, 4]]
    img = _image(6)
    path = tmp_path / 'img.png'
    cv2.imwrite(str(path), img)
    from_path = predictor(path, BOXES[:2])
    np.testing.assert_array_equal(from_path['keypoints'], predictor(img, BOXES[:2])['keypoints'])
    gray = img[..., 0]
    np.testing.assert_array_equal(predictor(gray, BOXES[:1])['keypoints'],
                                  predictor(np.dstack([gray] * 3), BOXES[:1])['keypoints'])


def test_errors(exports, tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.onnx'):
        OnnxPredictor(tmp_path / 'nope.onnx')
    lonely = tmp_path / 'lonely.onnx'
    lonely.write_bytes(Path(exports['plain']['onnx']).read_bytes())
    with pytest.raises(FileNotFoundError, match='lonely.json'):
        OnnxPredictor(lonely)
    side = json.loads(Path(exports['plain']['sidecar']).read_text())
    del side['codec']['heatmap_size']
    (tmp_path / 'lonely.json').write_text(json.dumps(side))
    with pytest.raises(ValueError, match=r"lonely.json.*codec.heatmap_size"):
        OnnxPredictor(lonely)
    side = json.loads(Path(exports['plain']['sidecar']).read_text())
    side['codec']['type'] = 'NoSuchCodec'
    (tmp_path / 'lonely.json').write_text(json.dumps(side))
    with pytest.raises(ValueError, match=r"lonely.json.*'codec'.*unknown codec type 'NoSuchCodec'"):
        OnnxPredictor(lonely)
    (tmp_path / 'lonely.json').write_text('{not json')
    with pytest.raises(ValueError, match='lonely.json.*not valid JSON'):
        OnnxPredictor(lonely)
    predictor = OnnxPredictor(exports['plain']['onnx'])
    with pytest.raises(OSError, match='missing.png'):
        predictor(tmp_path / 'missing.png')
    with pytest.raises(ValueError, match='uint8'):
        predictor(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match='box 0 has no area'):
        predictor(_image(), [[10, 10, 10, 10]])
    with pytest.raises(ValueError, match='bbox_scores'):
        predictor(_image(), BOXES, [1.0])


STANDALONE = r'''
import sys
import numpy as np

for name in ('torch', 'mmengine', 'mmcv'):
    sys.modules[name] = None  # any import of them raises ImportError
onnx_path, out_path = sys.argv[1:]
from customkpt.deploy import OnnxPredictor
predictor = OnnxPredictor(onnx_path)
img = np.random.default_rng(0).integers(0, 255, (160, 200, 3), dtype=np.uint8)
out = predictor(img, [[20, 10, 120, 150], [50, 60, 90, 100]])
np.save(out_path, out['keypoints'])
loaded = [m for m in sys.modules if sys.modules[m] is not None
          and m.split('.')[0] in ('torch', 'mmengine', 'mmcv')]
assert not loaded, loaded
'''


def test_predictor_runs_without_torch(exports, tmp_path):
    """``customkpt.deploy`` (with customkpt.core and customkpt.codecs) runs
    with torch, mmengine and mmcv unavailable."""
    out = tmp_path / 'kpts.npy'
    subprocess.run([sys.executable, '-c', STANDALONE, exports['plain']['onnx'], str(out)],
                   check=True, timeout=120, cwd=ROOT)
    expected = OnnxPredictor(exports['plain']['onnx'])(_image(0), BOXES[:2])['keypoints']
    np.testing.assert_array_equal(np.load(out), expected)
