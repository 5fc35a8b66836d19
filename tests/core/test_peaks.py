"""customkpt.core.peaks: peak finding, blurring and sub-pixel refinement
shared by the codecs and the ONNX predictor; 1-D vector peaks."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from customkpt.core.peaks import (decode_peaks, gaussian_blur, get_heatmap_maximum,
                                  get_vector_maximum, refine_keypoints_dark,
                                  refine_keypoints_quarter)


def gaussian_map(cx: float, cy: float, sigma: float = 2.0, size: tuple = (48, 64)) -> np.ndarray:
    """(H, W) untruncated Gaussian centred at (cx, cy); size is (w, h)."""
    ys, xs = np.mgrid[:size[1], :size[0]]
    return np.exp(-((xs - cx)**2 + (ys - cy)**2) / (2 * sigma**2)).astype(np.float32)


def test_get_heatmap_maximum_single_and_batch() -> None:
    maps = np.zeros((2, 3, 8, 6), np.float32)
    maps[0, 0, 5, 2] = 0.9  # row 5, column 2 -> (x, y) = (2, 5)
    maps[0, 1, 0, 5] = 0.4
    maps[1, 2, 7, 0] = 2.0
    maps[1, 1] = -1.0
    locs, vals = get_heatmap_maximum(maps)
    assert locs.shape == (2, 3, 2) and vals.shape == (2, 3)
    assert locs.dtype == np.float32 and vals.dtype == np.float32
    np.testing.assert_array_equal(locs[0, 0], [2, 5])
    np.testing.assert_array_equal(locs[0, 1], [5, 0])
    np.testing.assert_array_equal(locs[1, 2], [0, 7])
    np.testing.assert_allclose(vals, [[0.9, 0.4, 0.0], [0.0, -1.0, 2.0]])
    locs1, vals1 = get_heatmap_maximum(maps[1])
    np.testing.assert_array_equal(locs1, locs[1])
    np.testing.assert_array_equal(vals1, vals[1])


def test_quarter_moves_toward_higher_neighbour() -> None:
    hm = np.zeros((4, 10, 12), np.float32)
    hm[0, 4, 5], hm[0, 4, 6], hm[0, 3, 5] = 1.0, 0.6, 0.3  # right and up
    hm[1, 4, 5], hm[1, 4, 4], hm[1, 5, 5] = 1.0, 0.6, 0.3  # left and down
    hm[2, 4, 5] = 1.0  # symmetric: no move
    hm[3, 1, 1], hm[3, 1, 2], hm[3, 2, 1] = 1.0, 0.5, 0.5  # x = y = 1: no move
    locs, _ = get_heatmap_maximum(hm)
    out = refine_keypoints_quarter(locs, hm)
    np.testing.assert_allclose(out, [[5.25, 3.75], [4.75, 4.25], [5, 4], [1, 1]])
    np.testing.assert_array_equal(locs, [[5, 4], [5, 4], [5, 4], [1, 1]])  # not in place


def test_quarter_broadcasts_instances_over_shared_maps() -> None:
    hm = np.zeros((2, 10, 12), np.float32)
    hm[0, 4, 5], hm[0, 4, 6] = 1.0, 0.5
    hm[1, 6, 3], hm[1, 7, 3] = 1.0, 0.5
    pts = np.array([[[5, 4], [3, 6]], [[5, 4], [3, 6]]], np.float32)  # (N=2, K=2, 2)
    out = refine_keypoints_quarter(pts, hm)
    assert out.shape == (2, 2, 2)
    np.testing.assert_allclose(out[0], [[5.25, 4], [3, 6.25]])
    np.testing.assert_allclose(out[1], out[0])


def test_gaussian_blur_matches_opencv_and_keeps_the_maximum() -> None:
    rng = np.random.default_rng(0)
    maps = rng.uniform(0, 1, (2, 3, 20, 16)).astype(np.float32)
    out = gaussian_blur(maps, 11)
    assert out.shape == maps.shape and out.dtype == np.float32
    for b in range(2):
        for k in range(3):
            ref = cv2.GaussianBlur(maps[b, k], (11, 11), 0, borderType=cv2.BORDER_CONSTANT)
            ref *= maps[b, k].max() / ref.max()
            np.testing.assert_allclose(out[b, k], ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.max(axis=(-2, -1)), maps.max(axis=(-2, -1)), rtol=1e-6)
    assert not gaussian_blur(np.zeros((1, 5, 5), np.float32), 3).any()
    with pytest.raises(ValueError):
        gaussian_blur(maps, 4)


@pytest.mark.parametrize('centre', [(20.3, 30.8), (11.5, 40.0), (30.0, 12.45)])
def test_dark_recovers_sub_pixel_centre(centre: tuple) -> None:
    hm = gaussian_map(*centre)[None]
    locs, _ = get_heatmap_maximum(hm)
    out = refine_keypoints_dark(locs, hm, blur_kernel_size=11)
    np.testing.assert_allclose(out[0], centre, atol=0.01)
    # Far better than the integer peak or the quarter step.
    quarter = refine_keypoints_quarter(locs, hm)
    assert np.abs(out[0] - centre).max() < np.abs(quarter[0] - centre).max()


def test_dark_batch_shapes_and_untouched_cases() -> None:
    hm = np.stack([
        np.stack([gaussian_map(20.3, 30.8), gaussian_map(0, 30)]),  # second peak on the border
        np.stack([np.zeros((64, 48), np.float32), gaussian_map(7.7, 9.2)]),
    ])  # (B=2, K=2, H, W)
    locs, _ = get_heatmap_maximum(hm)
    out = refine_keypoints_dark(locs, hm)
    assert out.shape == (2, 2, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0], [20.3, 30.8], atol=0.01)
    np.testing.assert_array_equal(out[0, 1], [0, 30])  # border: no neighbours, no step
    np.testing.assert_array_equal(out[1, 0], [0, 0])  # flat map: no step
    np.testing.assert_allclose(out[1, 1], [7.7, 9.2], atol=0.01)
    np.testing.assert_array_equal(locs[0, 0], [20, 31])  # input left untouched


def test_decode_peaks_scales_refined_argmax_and_zeroes_non_positive_scores() -> None:
    hm = np.zeros((1, 2, 8, 6), np.float32)
    hm[0, 0, 5, 2] = 0.7
    hm[0, 1] = -0.5
    hm[0, 1, 3, 4] = -0.1  # the peak, still negative

    def shift(locs: np.ndarray, maps: np.ndarray) -> np.ndarray:
        return locs + 0.5

    kpts, scores = decode_peaks(hm, np.array([4.0, 2.0]), shift)
    np.testing.assert_allclose(kpts, [[[10.0, 11.0], [18.0, 7.0]]])
    np.testing.assert_array_equal(scores, np.array([[0.7, 0.0]], np.float32))
    assert kpts.dtype == np.float32 and scores.dtype == np.float32
    with pytest.raises(ValueError, match=r'\(B, K, H, W\)'):
        decode_peaks(hm[0], np.ones(2), shift)


def test_vector_maximum_hand_made() -> None:
    x = np.zeros((2, 3, 10), np.float32)
    y = np.zeros((2, 3, 7), np.float32)
    x[0, 0, 4], y[0, 0, 2] = 0.9, 0.6      # score: the weaker axis
    x[0, 1, 9], y[0, 1, 0] = 0.3, 0.8      # last and first bins
    x[0, 2, [1, 6]], y[0, 2, 5] = 0.5, 0.5  # a tie: the first bin wins
    x[1] = -1.0
    x[1, :, 3] = -0.2                       # negative peaks stay negative
    y[1, :, 6] = 0.4
    locs, scores = get_vector_maximum(x, y)
    assert locs.shape == (2, 3, 2) and scores.shape == (2, 3)
    assert locs.dtype == np.float32 and scores.dtype == np.float32
    np.testing.assert_array_equal(locs[0], [[4, 2], [9, 0], [1, 5]])
    np.testing.assert_array_equal(locs[1], [[3, 6]] * 3)
    np.testing.assert_allclose(scores, [[0.6, 0.3, 0.5], [-0.2, -0.2, -0.2]])
    one_locs, one_scores = get_vector_maximum(x[0], y[0])  # (K, W) works too
    np.testing.assert_array_equal(one_locs, locs[0])
    np.testing.assert_array_equal(one_scores, scores[0])


def test_vector_maximum_rejects_mismatched_vectors() -> None:
    with pytest.raises(ValueError, match='leading dims'):
        get_vector_maximum(np.zeros((2, 3, 10)), np.zeros((2, 4, 7)))
    with pytest.raises(ValueError, match='empty'):
        get_vector_maximum(np.zeros((2, 3, 0)), np.zeros((2, 3, 7)))
