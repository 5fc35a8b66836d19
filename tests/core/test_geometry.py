"""customkpt.core.geometry: crop regions, crops and the way back, which
the training transforms, the estimator and the ONNX predictor share."""
import numpy as np
import pytest

from customkpt.core.geometry import (apply_affine, bbox_xyxy2cs, boxes_to_regions,
                                     crop_regions, crop_to_image, fix_aspect_ratio,
                                     get_warp_matrix)

BOXES = np.array([[20, 10, 120, 150], [50.5, 60.25, 90, 100], [-10, 30, 80, 170]], np.float32)


def test_regions():
    centers, sizes = boxes_to_regions(BOXES, 1.25, (96, 128))
    want_c, want_s = bbox_xyxy2cs(BOXES, 1.25)
    want_s = fix_aspect_ratio(want_s, 96 / 128)
    np.testing.assert_array_equal(centers, want_c)
    np.testing.assert_array_equal(sizes, want_s)
    np.testing.assert_allclose(sizes[:, 0] / sizes[:, 1], 0.75, rtol=1e-6)


@pytest.mark.parametrize('udp', [False, True])
def test_round_trip(udp):
    """A point cropped to crop pixels maps back to where it was."""
    centers, sizes = boxes_to_regions(BOXES, 1.0, (96, 128))
    points = np.array([[30.0, 40.0], [70.0, 80.0], [0.0, 100.0]], np.float32)
    crop_pts = np.stack([apply_affine(points[i], get_warp_matrix(c, s, 0.0, (96, 128),
                                                                 use_udp=udp))
                         for i, (c, s) in enumerate(zip(centers, sizes))])[:, None]
    back = crop_to_image(crop_pts, (96, 128), centers, sizes, udp)
    np.testing.assert_allclose(back[:, 0], points, atol=1e-3)
    assert back.shape == (3, 1, 2) and back.dtype == np.float32


def test_crop_to_image_formula():
    """``crop / input_size * size + center - size / 2``; UDP spans
    ``input_size - 1``; one region's (K, 2) points and (2,) centre broadcast."""
    centers = np.array([[100.0, 50.0], [10.0, 20.0]])
    sizes = np.array([[96.0, 128.0], [48.0, 64.0]])
    pts = np.array([[[0.0, 0.0], [48.0, 64.0]], [[24.0, 32.0], [12.0, 0.0]]])
    np.testing.assert_allclose(crop_to_image(pts, (48, 64), centers, sizes),
                               [[[52, -14], [148, 114]], [[10, 20], [-2, -12]]])
    np.testing.assert_allclose(crop_to_image(np.array([[47.0, 63.0]]), (48, 64), centers[0],
                                             sizes[0], use_udp=True), [[[148, 114]]])


def test_crop_pixels():
    img = np.zeros((50, 60, 3), np.uint8)
    img[20:30, 10:20] = 255  # a white square
    crops = crop_regions(img, np.array([[15.0, 25.0]]), np.array([[10.0, 10.0]]), (10, 10))
    assert crops.shape == (1, 10, 10, 3) and crops.dtype == np.uint8
    assert (crops == 255).all()
    with pytest.raises(ValueError, match='box 1 has no area'):
        crop_regions(img, np.zeros((2, 2)), np.array([[1.0, 1.0], [0.0, 3.0]]), (10, 10))
