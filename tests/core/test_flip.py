"""customkpt.core.flip: keypoints, boxes, heatmaps and SimCC vectors, on
numpy arrays and torch tensors, with an asymmetric K=7 flip table."""
import inspect
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from customkpt.core.flip import (check_flip_indices, flip_boxes, flip_heatmaps, flip_keypoints,
                                 flip_vectors, mirror_points)

# 0 unpaired, 1<->2, 3<->5 (not neighbours), 4 unpaired, 6 unpaired: no
# symmetry in the slot order, so a mirrored or transposed table is caught.
FLIP7 = [0, 2, 1, 5, 4, 3, 6]
IMG_W = 100
KPTS = np.array([[[10, 11], [20, 21], [30, 31], [40, 41], [50, 51], [60, 61], [70, 71]]],
                np.float32)


def _heatmaps(b=2, k=7, h=3, w=5, seed=0):
    return np.random.default_rng(seed).random((b, k, h, w)).astype(np.float32)


def test_keypoints_mirror_and_swap_partners():
    vis = np.array([[1, 0, 2, 1, 0, 2, 1]], np.float32)
    kpts, out_vis = flip_keypoints(KPTS, vis, IMG_W, FLIP7)
    for k, partner in enumerate(FLIP7):
        np.testing.assert_array_equal(kpts[0, k], [IMG_W - 1 - KPTS[0, partner, 0],
                                                   KPTS[0, partner, 1]])
    np.testing.assert_array_equal(out_vis, [[1, 2, 0, 2, 0, 1, 1]])
    assert flip_keypoints(KPTS, None, IMG_W, FLIP7)[1] is None
    np.testing.assert_array_equal(KPTS[0, 1], [20, 21])  # input untouched


def test_keypoints_and_boxes_on_any_leading_shape():
    many = np.stack([KPTS[0], KPTS[0] + 1, KPTS[0] + 2])  # (3, K, 2)
    out, _ = flip_keypoints(many, None, IMG_W, FLIP7)
    assert out.shape == (3, 7, 2)
    np.testing.assert_array_equal(out[2, 3, 0], IMG_W - 1 - (KPTS[0, 5, 0] + 2))
    boxes = np.array([[30, 20, 95, 135], [0, 0, 99, 10]], np.float32)
    np.testing.assert_array_equal(flip_boxes(boxes, IMG_W), [[4, 20, 69, 135], [0, 0, 99, 10]])
    centre = np.array([[62.5, 77.5]], np.float32)
    np.testing.assert_array_equal(mirror_points(centre, IMG_W), [[36.5, 77.5]])
    assert mirror_points(centre, IMG_W).dtype == np.float32
    np.testing.assert_array_equal(centre, [[62.5, 77.5]])


def test_keypoints_flipped_twice_are_restored_exactly():
    vis = np.array([[1, 0, 2, 1, 0, 2, 1]], np.float32)
    once = flip_keypoints(KPTS + 0.25, vis, IMG_W, FLIP7)
    twice = flip_keypoints(*once, IMG_W, FLIP7)
    np.testing.assert_array_equal(twice[0], KPTS + 0.25)
    np.testing.assert_array_equal(twice[1], vis)


def test_bad_flip_tables_are_rejected():
    with pytest.raises(ValueError, match='flip_indices'):
        flip_keypoints(KPTS, None, IMG_W, [0, 1])
    with pytest.raises(ValueError, match='outside'):
        flip_keypoints(KPTS, None, IMG_W, [0, 2, 1, 5, 4, 3, 7])
    with pytest.raises(ValueError, match='flip_indices'):
        flip_heatmaps(_heatmaps(), [0, 1, 2])
    with pytest.raises(ValueError, match=r'\(2, 7\)'):
        flip_heatmaps(_heatmaps(), [FLIP7] * 3)
    with pytest.raises(ValueError, match='flip_indices'):   # per-sample needs a batch axis
        flip_heatmaps(_heatmaps()[0], [FLIP7, FLIP7])
    assert check_flip_indices(np.array(FLIP7), 7).dtype == np.int64
    assert check_flip_indices([FLIP7, FLIP7], 7, batch_size=2).shape == (2, 7)


def test_heatmaps_match_hand_made_arrays():
    """Channel swap, mirror and the one-pixel right shift (column 0 keeps
    its value) on arrays written out by hand."""
    hm = np.zeros((1, 7, 2, 6), np.float32)
    hm[0, 3, 1, 1] = 1.0   # a point in slot 3 at x = 1
    out = flip_heatmaps(hm, FLIP7, shift=False)
    want = np.zeros_like(hm)
    want[0, 5, 1, 4] = 1.0  # its partner's slot 5, x = 6 - 1 - 1
    np.testing.assert_array_equal(out, want)
    shifted = flip_heatmaps(hm, FLIP7, shift=True)
    want_shifted = np.zeros_like(hm)
    want_shifted[0, 5, 1, 5] = 1.0
    np.testing.assert_array_equal(shifted, want_shifted)
    ramp = np.broadcast_to(np.arange(6.0, dtype=np.float32), (1, 1, 2, 6))
    np.testing.assert_array_equal(flip_heatmaps(ramp, [0])[0, 0], [[5, 5, 4, 3, 2, 1]] * 2)
    np.testing.assert_array_equal(flip_heatmaps(ramp, [0], shift=False)[0, 0],
                                  [[5, 4, 3, 2, 1, 0]] * 2)
    one_column = np.arange(3.0).reshape(1, 3, 1, 1)
    np.testing.assert_array_equal(flip_heatmaps(one_column, [2, 1, 0]).reshape(-1), [2, 1, 0])


def test_heatmaps_per_sample_tables():
    hm = np.zeros((2, 7, 2, 6), np.float32)
    hm[:, 1, 0, 1] = 1.0
    per_sample = flip_heatmaps(hm, [FLIP7, list(range(7))], shift=False)
    assert per_sample[0, 2, 0, 4] == 1.0 and per_sample[0].sum() == 1.0
    assert per_sample[1, 1, 0, 4] == 1.0 and per_sample[1].sum() == 1.0
    hms = _heatmaps()
    np.testing.assert_array_equal(flip_heatmaps(hms, np.array([FLIP7, FLIP7])),
                                  flip_heatmaps(hms, FLIP7))
    single = flip_heatmaps(hms[1], FLIP7)                # (K, H, W)
    np.testing.assert_array_equal(single, flip_heatmaps(hms, FLIP7)[1])


@pytest.mark.parametrize('table', [FLIP7, [FLIP7, [0, 1, 2, 3, 4, 5, 6]]])
@pytest.mark.parametrize('shift', [False, True])
def test_numpy_and_torch_agree(table, shift):
    hms = _heatmaps(w=7)
    got = flip_heatmaps(torch.from_numpy(hms), table, shift)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_array_equal(got.numpy(), flip_heatmaps(hms, table, shift))
    tensor_table = flip_heatmaps(torch.from_numpy(hms), torch.tensor(table), shift)
    np.testing.assert_array_equal(tensor_table.numpy(), got.numpy())
    x, y = _heatmaps(k=7, h=1, w=9)[:, :, 0], _heatmaps(k=7, h=1, w=4, seed=1)[:, :, 0]
    tx, ty = flip_vectors(torch.from_numpy(x), torch.from_numpy(y), table)
    nx, ny = flip_vectors(x, y, table)
    np.testing.assert_array_equal(tx.numpy(), nx)
    np.testing.assert_array_equal(ty.numpy(), ny)


def test_flip_twice_is_the_identity_without_shift():
    hms = _heatmaps()
    for table in (FLIP7, [FLIP7, [0, 1, 2, 3, 4, 5, 6]]):
        np.testing.assert_array_equal(
            flip_heatmaps(flip_heatmaps(hms, table, shift=False), table, shift=False), hms)
        t = torch.from_numpy(hms)
        torch.testing.assert_close(
            flip_heatmaps(flip_heatmaps(t, table, shift=False), table, shift=False), t,
            rtol=0, atol=0)
    x, y = hms[:, :, 0], hms[:, :, 1, :3]
    xx, yy = flip_vectors(*flip_vectors(x, y, FLIP7), FLIP7)
    np.testing.assert_array_equal(xx, x)
    np.testing.assert_array_equal(yy, y)
    # The shift is not undone by a second flip: column 0 was duplicated.
    assert not np.array_equal(flip_heatmaps(flip_heatmaps(hms, FLIP7), FLIP7), hms)


def test_vectors_mirror_x_bins_and_swap_both_channels():
    x = np.zeros((1, 7, 8), np.float32)
    y = np.zeros((1, 7, 5), np.float32)
    x[0, 3, 2] = 1.0    # slot 3, x bin 2
    y[0, 3, 4] = 1.0    # slot 3, y bin 4
    fx, fy = flip_vectors(x, y, FLIP7)
    assert fx[0, 5, 8 - 1 - 2] == 1.0 and fx.sum() == 1.0
    assert fy[0, 5, 4] == 1.0 and fy.sum() == 1.0     # y bins stay
    fx1, fy1 = flip_vectors(x[0], y[0], FLIP7)        # (K, W) without a batch
    np.testing.assert_array_equal(fx1, fx[0])
    np.testing.assert_array_equal(fy1, fy[0])
    with pytest.raises(ValueError, match='simcc_x'):
        flip_vectors(x, y[:, :6], FLIP7)


def test_the_module_does_not_import_torch():
    code = ('import sys, customkpt.core.flip as f, numpy as np; '
            'f.flip_heatmaps(np.zeros((1, 2, 2, 3)), [1, 0]); '
            'assert "torch" not in sys.modules, "torch imported"')
    subprocess.run([sys.executable, '-c', code], check=True)


class _FlipModule(torch.nn.Module):
    def __init__(self, table):
        super().__init__()
        self.table = table

    def forward(self, x):
        return flip_heatmaps(x, self.table, shift=True)


def test_exports_to_onnx_as_gathers_with_a_dynamic_batch(tmp_path):
    ort = pytest.importorskip('onnxruntime')
    onnx = pytest.importorskip('onnx')
    kwargs = {}
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        kwargs['dynamo'] = False
    path = tmp_path / 'flip.onnx'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)  # the table is a constant
        torch.onnx.export(_FlipModule(FLIP7), (torch.from_numpy(_heatmaps(b=1, w=6)),),
                          str(path), input_names=['x'], output_names=['y'], opset_version=17,
                          dynamic_axes={'x': {0: 'batch'}, 'y': {0: 'batch'}}, **kwargs)
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert 'Gather' in ops
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    hms = _heatmaps(b=3, w=6, seed=4)
    np.testing.assert_array_equal(session.run(None, {'x': hms})[0], flip_heatmaps(hms, FLIP7))
