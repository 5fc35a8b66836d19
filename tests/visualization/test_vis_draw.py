"""Tests of the pure drawing functions."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from customkpt.meta import KeypointMeta
from customkpt.visualization.draw import draw_instances, heatmap_overlay, hstack_images


def make_meta(k: int) -> dict:
    """A K-point definition with a chain skeleton and distinct colours."""
    names = [f'p{i}' for i in range(k)]
    skeleton = [[i, i + 1] for i in range(k - 1)]
    return KeypointMeta(keypoint_names=names, skeleton=skeleton,
                        sigmas=[0.05] * k).to_dict()


def grid_points(k: int, width: int, height: int) -> np.ndarray:
    """(1, K, 2) points on a grid, far enough apart that circles don't touch."""
    cols = int(np.ceil(np.sqrt(k)))
    rows = int(np.ceil(k / cols))
    xs = (np.arange(k) % cols + 0.5) * width / cols
    ys = (np.arange(k) // cols + 0.5) * height / rows
    return np.stack([np.round(xs), np.round(ys)], axis=-1)[None].astype(np.float32)


@pytest.mark.parametrize('k', [1, 5, 32])
def test_points_have_meta_colours(k: int) -> None:
    meta = make_meta(k)
    img = np.full((240, 320, 3), 40, np.uint8)
    kpts = grid_points(k, 320, 240)
    out = draw_instances(img, kpts, np.ones((1, k)), meta)
    assert out is not img and out.shape == img.shape and out.dtype == np.uint8
    assert (img == 40).all(), 'input image must not be modified'
    for j, (x, y) in enumerate(kpts[0].astype(int)):
        r, g, b = meta['keypoint_colors'][j]
        assert tuple(out[y, x]) == (b, g, r), f'point {j}: BGR of RGB {meta["keypoint_colors"][j]}'


def test_skips_invisible_and_low_score_points() -> None:
    k = 5
    meta = make_meta(k)
    img = np.zeros((200, 300, 3), np.uint8)
    kpts = grid_points(k, 300, 200)
    scores = np.array([[0.9, 0.1, 0.0, 0.31, 0.3]])
    out = draw_instances(img, kpts, scores, meta, score_thr=0.3)
    for j, (x, y) in enumerate(kpts[0].astype(int)):
        drawn = out[y, x].any()
        assert drawn == (scores[0, j] > 0.3), f'point {j} score {scores[0, j]}'
    # Links only between drawn points: 0-1 has an undrawn end, so the midpoint stays black.
    mid = ((kpts[0, 0] + kpts[0, 1]) / 2).astype(int)
    if not np.allclose(kpts[0, 0, 1], kpts[0, 1, 1]):
        pytest.skip('grid layout changed')
    assert not out[mid[1], mid[0]].any()


def test_links_drawn_with_skeleton_colours() -> None:
    meta = make_meta(2)
    meta['skeleton_colors'] = [[10, 200, 30]]
    img = np.zeros((100, 200, 3), np.uint8)
    kpts = np.array([[[20, 50], [180, 50]]], np.float32)
    out = draw_instances(img, kpts, None, meta, thickness=3, radius=3)
    assert tuple(out[50, 100]) == (30, 200, 10)


def test_names_and_bboxes_change_pixels() -> None:
    meta = make_meta(3)
    img = np.zeros((200, 200, 3), np.uint8)
    kpts = np.array([[[50, 100], [100, 100], [150, 100]]], np.float32)
    plain = draw_instances(img, kpts, None, meta)
    named = draw_instances(img, kpts, None, meta, show_names=True)
    assert (named != plain).any()
    boxed = draw_instances(img, kpts, None, meta, bboxes=np.array([[10, 10, 190, 190]]))
    assert boxed[10, 100].any() and not plain[10, 100].any()


def test_multiple_instances_and_2d_input() -> None:
    meta = make_meta(2)
    img = np.zeros((100, 100, 3), np.uint8)
    kpts = np.array([[[10, 10], [30, 10]], [[60, 80], [90, 80]]], np.float32)
    out = draw_instances(img, kpts, np.array([[1, 1], [1, 0]]), meta)
    assert out[80, 60].any() and not out[80, 90].any()
    single = draw_instances(img, kpts[0], np.ones(2), meta)
    assert single[10, 10].any()


def test_wrong_k_is_an_error() -> None:
    with pytest.raises(ValueError, match='K=4'):
        draw_instances(np.zeros((50, 50, 3), np.uint8), np.zeros((1, 4, 2)), None, make_meta(5))
    with pytest.raises(ValueError, match='visible_or_scores'):
        draw_instances(np.zeros((50, 50, 3), np.uint8), np.zeros((1, 5, 2)), np.ones((1, 4)),
                       make_meta(5))


def test_default_sizes_scale_with_image() -> None:
    meta = make_meta(1)
    small = draw_instances(np.zeros((100, 100, 3), np.uint8), [[[50, 50]]], None, meta)
    big = draw_instances(np.zeros((1000, 1000, 3), np.uint8), [[[500, 500]]], None, meta)
    assert (big.any(-1)).sum() > 4 * (small.any(-1)).sum()


def test_heatmap_overlay_and_stack() -> None:
    img = np.zeros((64, 48, 3), np.uint8)
    maps = np.zeros((3, 16, 12), np.float32)
    maps[1, 8, 6] = 1.0
    out = heatmap_overlay(img, maps)
    assert out.shape == img.shape and out[32, 24].any() and not out[0, 0].any()
    stacked = hstack_images([img, np.zeros((30, 20, 3), np.uint8)], gap=4)
    assert stacked.shape == (64, 48 + 4 + 20, 3)


def test_name_at_right_border_is_drawn_inside() -> None:
    meta = make_meta(1)
    meta['keypoint_names'] = ['right_wrist']
    img = np.full((120, 200, 3), 128, np.uint8)
    kpts = np.array([[[199, 60]]], np.float32)
    plain = draw_instances(img, kpts, None, meta, radius=4)
    named = draw_instances(img, kpts, None, meta, radius=4, show_names=True)
    cols = np.flatnonzero((named != plain).any(axis=(0, 2)))
    # The whole name is drawn (shifted inward from the border), not cut off.
    (width, _), _ = cv2.getTextSize('right_wrist', cv2.FONT_HERSHEY_SIMPLEX, 4 / 7, 1)
    assert cols.size and cols.max() - cols.min() + 1 >= width


def test_names_of_close_points_do_not_overlap() -> None:
    meta = make_meta(2)
    img = np.full((200, 300, 3), 128, np.uint8)
    kpts = np.array([[[150, 100], [152, 100]]], np.float32)
    one = make_meta(1)
    first = draw_instances(img, kpts[:, :1], None, one, radius=3, show_names=True)
    plain = draw_instances(img, kpts, None, meta, radius=3)
    named = draw_instances(img, kpts, None, meta, radius=3, show_names=True)
    rows_first = np.flatnonzero((first != draw_instances(img, kpts[:, :1], None, one, radius=3))
                                .any(axis=(1, 2)))
    rows_both = np.flatnonzero((named != plain).any(axis=(1, 2)))
    # The second name is not written over the first: it occupies other rows.
    assert rows_both.max() - rows_both.min() > 1.6 * (rows_first.max() - rows_first.min())
