"""Tests of placing point labels inside the image and apart from each other."""
from __future__ import annotations

import numpy as np
import pytest

from customkpt.visualization.labels import (candidate_boxes, overlap_areas, place_labels,
                                            shift_inside)


def inside(box: np.ndarray, width: int, height: int) -> bool:
    return bool(box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height)


def test_two_close_points_get_disjoint_boxes() -> None:
    boxes = place_labels([[100, 100], [102, 100]], [[40, 12], [40, 12]], (300, 200), gap=4)
    assert overlap_areas(boxes[0], boxes[1:])[0] == 0
    assert all(inside(b, 300, 200) for b in boxes)


def test_crowded_points_all_apart() -> None:
    points = np.array([[100 + i, 100] for i in range(6)], np.float64)
    boxes = place_labels(points, np.full((6, 2), (30, 10)), (400, 300), gap=3)
    for i in range(6):
        others = np.delete(boxes, i, axis=0)
        assert overlap_areas(boxes[i], others).sum() == 0, i


def test_right_border_point_gets_a_box_inside() -> None:
    width, height = 200, 100
    box = place_labels([[199, 50]], [[50, 12]], (width, height), gap=4)[0]
    assert inside(box, width, height)
    # Shifted inward and still off the point itself.
    assert overlap_areas(box, np.array([[197.0, 48.0, 201.0, 52.0]]))[0] == 0


@pytest.mark.parametrize('point', [[0, 0], [199, 0], [0, 99], [199, 99], [100, 0]])
def test_corner_points_stay_inside(point: list[int]) -> None:
    box = place_labels([point], [[60, 14]], (200, 100))[0]
    assert inside(box, 200, 100)
    np.testing.assert_allclose(box[2:] - box[:2], (60, 14))


def test_first_choice_is_right_above() -> None:
    box = place_labels([[50, 50]], [[20, 10]], (200, 200), gap=5)[0]
    np.testing.assert_allclose(box, (55, 35, 75, 45))


def test_label_larger_than_image_starts_at_top_left() -> None:
    box = shift_inside(np.array([[30, -5, 130, 5]]), 80, 60)[0]
    np.testing.assert_allclose(box, (0, 0, 100, 10))


def test_candidates_surround_the_point() -> None:
    boxes = candidate_boxes(np.array([50.0, 50.0]), np.array([10.0, 6.0]), gap=2, rings=1)
    assert boxes.shape == (8, 4)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    assert (centres[:, 0] > 50).any() and (centres[:, 0] < 50).any()
    assert (centres[:, 1] > 50).any() and (centres[:, 1] < 50).any()


def test_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match='2 points but 1'):
        place_labels([[0, 0], [1, 1]], [[5, 5]], (10, 10))
