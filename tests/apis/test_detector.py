"""OnnxDetectorBoxes (a YOLO-style ONNX detector as a box provider) and its
letterbox preprocessing."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from customkpt.apis.detector import OnnxDetectorBoxes, letterbox
from customkpt.registry import BOX_PROVIDERS

FRAME = np.zeros((100, 200, 3), np.uint8)  # h=100, w=200


def test_letterbox_geometry():
    img, scale, pad = letterbox(np.full((100, 200, 3), 7, np.uint8), (64, 64))
    assert img.shape == (64, 64, 3) and scale == pytest.approx(0.32)
    assert pad == (0.0, 16.0)
    assert (img[:16] == 114).all() and (img[16:48] == 7).all() and (img[48:] == 114).all()


# ------------------------------------------------------------ ONNX detector
def _constant_model(path: Path, output: np.ndarray, input_hw=(64, 64)) -> Path:
    """An ONNX graph with an image input that always returns ``output``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    const = helper.make_node('Constant', [], ['output0'],
                             value=numpy_helper.from_array(output.astype(np.float32)))
    graph = helper.make_graph(
        [const], 'constant_detector',
        [helper.make_tensor_value_info('images', TensorProto.FLOAT, [1, 3, *input_hw])],
        [helper.make_tensor_value_info('output0', TensorProto.FLOAT, list(output.shape))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return path


# Frame 200x100 letterboxed into 64x64: scale 0.32, 16 px of padding on top.
# Frame box (50, 25, 150, 75) -> input cx 32, cy 32, w 32, h 16.
# Each row: cx, cy, w, h, score class 0, score class 1.
_ROWS = np.array([
    [32, 32, 32, 16, 0.90, 0.00],   # kept: frame (50, 25, 150, 75)
    [33, 32, 32, 16, 0.80, 0.00],   # overlaps the first: removed by NMS
    [8, 18, 8, 8, 0.70, 0.00],      # kept: frame (12.5, -6.25, 37.5, 18.75), clipped at 0
    [48, 40, 8, 8, 0.10, 0.95],     # class 1: filtered out
    [48, 40, 8, 8, 0.20, 0.00],     # below score_thr
    [0, 0, 0, 0, 0.0, 0.0],
    [0, 0, 0, 0, 0.0, 0.0],
    [0, 0, 0, 0, 0.0, 0.0],
], np.float32)
_EXPECTED = np.array([[50, 25, 150, 75], [12.5, 0, 37.5, 18.75]], np.float32)


def test_onnx_detector_v8_output_from_config(tmp_path):
    path = _constant_model(tmp_path / 'det.onnx', _ROWS.T[None])   # (1, 4 + 2, 8)
    provider = BOX_PROVIDERS.build(dict(type='OnnxDetectorBoxes', onnx_path=str(path),
                                        input_size=(320, 320), score_thr=0.25, nms_thr=0.45,
                                        class_ids=(0,)))
    assert provider.input_size == (64, 64)  # the model's fixed input wins
    boxes, scores = provider(FRAME, 0, None)
    np.testing.assert_allclose(boxes, _EXPECTED, atol=1e-4)
    np.testing.assert_allclose(scores, [0.9, 0.7], rtol=1e-6)
    # All classes: the class-1 box comes back too (no NMS across classes).
    provider = OnnxDetectorBoxes(path, class_ids=None)
    boxes, scores = provider(FRAME, 0, None)
    np.testing.assert_allclose(scores, [0.95, 0.9, 0.7], rtol=1e-6)
    np.testing.assert_allclose(boxes[0], [137.5, 62.5, 162.5, 87.5], atol=1e-4)
    assert len(OnnxDetectorBoxes(path, max_det=1)(FRAME, 0, None)[0]) == 1


def test_onnx_detector_v5_output(tmp_path):
    # objectness 1 for real rows, class scores as above.
    rows = np.concatenate([_ROWS[:, :4], np.ones((8, 1), np.float32), _ROWS[:, 4:]], axis=1)
    rows[1, 4] = 0.5  # objectness x class score: 0.4, still above score_thr, then NMS'd
    path = _constant_model(tmp_path / 'det5.onnx', rows[None])   # (1, 8, 5 + 2)
    provider = OnnxDetectorBoxes(path, output_format='auto')
    boxes, scores = provider(FRAME, 0, None)
    np.testing.assert_allclose(boxes, _EXPECTED, atol=1e-4)
    np.testing.assert_allclose(scores, [0.9, 0.7], rtol=1e-6)


def test_onnx_detector_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.onnx'):
        OnnxDetectorBoxes(tmp_path / 'nope.onnx')
    path = _constant_model(tmp_path / 'flat.onnx', np.zeros((1, 5), np.float32))
    with pytest.raises(ValueError, match='flat.onnx'):
        OnnxDetectorBoxes(path)(FRAME, 0, None)
    with pytest.raises(ValueError, match='output_format'):
        OnnxDetectorBoxes(path, output_format='yolo')
