"""Boxes, scores, a random image and the ONNX-against-torch check of the predictor tests."""
import numpy as np

BOXES = np.array([[20, 10, 120, 150], [50, 60, 90, 100], [-10, 30, 80, 170],
                  [100, 5, 195, 60]], np.float32)
SCORES = np.array([0.9, 0.8, 0.5, 0.3], np.float32)


def _image(seed=0, h=160, w=200):
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


def _assert_same(onnx_out, torch_out):
    np.testing.assert_allclose(onnx_out['keypoints'], torch_out['keypoints'], atol=1e-3, rtol=0)
    np.testing.assert_allclose(onnx_out['keypoint_scores'], torch_out['keypoint_scores'],
                               atol=1e-4, rtol=0)
    np.testing.assert_array_equal(onnx_out['bboxes'], torch_out['bboxes'])
    np.testing.assert_array_equal(onnx_out['bbox_scores'], torch_out['bbox_scores'])
