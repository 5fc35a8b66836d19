"""AugmentedPseudoLabelLoss: the transforms move pixels and points alike,
the targets are the codec's of the moved confident points, and the loss is
the head loss's value on them (0 for outputs that match, only the hard
view gets gradients)."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from customkpt.codecs import MSRAHeatmap, SimCCLabel
from customkpt.models.losses import (AugmentedPseudoLabelLoss, KLDiscretLoss, KeypointMSELoss,
                                     UnlabelledBatch)
from customkpt.models.losses.unsupervised_pseudo import move_points, view_affines, warp_crops
from customkpt.registry import MODELS

SIZE = (48, 64)                                   # crop (w, h)


def _blob(w, h, x, y, sigma=2.0):
    ys, xs = np.mgrid[0:h, 0:w]
    return np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma ** 2)).astype(np.float32)


def _centroid(img):
    ys, xs = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    return np.array([(xs * img).sum(), (ys * img).sum()]) / img.sum()


def test_the_identity_transform_keeps_the_crop():
    crops = torch.rand(2, 3, SIZE[1], SIZE[0])
    same = view_affines(np.zeros(2), np.ones(2), np.zeros((2, 2)), SIZE)
    torch.testing.assert_close(warp_crops(crops, same), crops, atol=1e-5, rtol=0)


@pytest.mark.parametrize('angle, scale, shift', [(30.0, 1.0, (0, 0)), (-20.0, 1.25, (4, -3)),
                                                 (0.0, 0.8, (-5, 2))])
def test_pixels_and_points_move_alike(angle, scale, shift):
    affine = view_affines(np.array([angle]), np.array([scale]), np.array([shift], float), SIZE)
    crop = torch.as_tensor(_blob(*SIZE, 20.0, 26.0))[None, None]
    view = warp_crops(crop, affine)[0, 0].numpy()
    moved = move_points(np.array([[[20.0, 26.0]]]), affine)[0, 0]
    np.testing.assert_allclose(_centroid(view), moved, atol=0.05)


def test_rotation_is_counter_clockwise_on_screen_about_the_centre():
    affine = view_affines(np.array([90.0]), np.ones(1), np.zeros((1, 2)), SIZE)
    centre = (np.array(SIZE) - 1) / 2
    right_of_centre = centre + [10, 0]
    np.testing.assert_allclose(move_points(right_of_centre[None, None], affine)[0, 0],
                               centre + [0, -10], atol=1e-9)   # y points down: up is -y


def _heatmap_batch(points, scores):
    codec = MSRAHeatmap(input_size=SIZE, heatmap_size=(12, 16), sigma=2.0)
    outputs = torch.stack([torch.as_tensor(codec.encode(p[None])['heatmaps']) for p in points])
    outputs = outputs * torch.as_tensor(scores, dtype=torch.float32)[..., None, None]
    head = SimpleNamespace(decoder=codec, loss_module=KeypointMSELoss())
    batch = UnlabelledBatch(outputs=outputs, peaks=torch.zeros(len(points), 2, 2),
                            keypoints=torch.zeros(len(points), 2, 2), boxes=torch.zeros(1, 4),
                            clip_length=1, head=head)
    return codec, batch


def test_view_outputs_at_the_moved_confident_points_cost_nothing():
    points = np.array([[[12.0, 20.0], [30.0, 40.0]], [[24.0, 32.0], [10.0, 50.0]]])
    codec, batch = _heatmap_batch(points, [[1.0, 1.0], [1.0, 0.2]])   # one unsure point
    loss = AugmentedPseudoLabelLoss()
    affines = view_affines(np.array([15.0, -10.0]), np.array([1.1, 0.9]),
                           np.array([[2.0, 1.0], [-3.0, 0.0]]), SIZE)
    target, weights = loss.targets(batch.head, batch.outputs, affines)
    np.testing.assert_array_equal(weights, [[1, 1], [1, 0]])
    moved = move_points(points, affines)
    for i in range(2):
        want = codec.encode(moved[i:i + 1])['heatmaps']
        np.testing.assert_allclose(target[i, weights[i] > 0], want[weights[i] > 0], atol=1e-6)
    matching = torch.as_tensor(target)
    assert loss.compute(batch, matching, affines).item() == pytest.approx(0.0, abs=1e-12)
    wrong = matching.clone()
    wrong[1, 1] = 1.0                                  # the unsure point: no target, no cost
    assert loss.compute(batch, wrong, affines).item() == pytest.approx(0.0, abs=1e-12)
    wrong[0, 0] = 0.0                                  # a confident point missed
    want = KeypointMSELoss()(wrong, matching, torch.as_tensor(weights)).item()
    assert loss.compute(batch, wrong, affines).item() == pytest.approx(want) and want > 0


def test_only_the_hard_view_gets_gradients():
    points = np.array([[[12.0, 20.0], [30.0, 40.0]]])
    _, batch = _heatmap_batch(points, [[1.0, 1.0]])
    batch.outputs.requires_grad_(True)
    view = torch.zeros(1, 2, 16, 12, requires_grad=True)
    affines = view_affines(np.array([5.0]), np.ones(1), np.zeros((1, 2)), SIZE)
    AugmentedPseudoLabelLoss(loss_weight=2.0).compute(batch, view, affines).backward()
    assert batch.outputs.grad is None and view.grad.abs().sum() > 0


def test_simcc_targets_are_the_codecs_labels_of_the_moved_points():
    codec = SimCCLabel(input_size=SIZE, sigma=(4.9, 5.66), simcc_split_ratio=2.0)
    points = np.array([[[12.0, 20.0], [30.0, 40.0]]])
    labels = codec.encode(points)
    outputs = (torch.as_tensor(labels['keypoint_x_labels']) * 10,
               torch.as_tensor(labels['keypoint_y_labels']) * 10)
    head = SimpleNamespace(decoder=codec, loss_module=KLDiscretLoss(beta=10.0))
    batch = UnlabelledBatch(outputs=outputs, peaks=torch.zeros(1, 2, 2),
                            keypoints=torch.zeros(1, 2, 2), boxes=torch.zeros(1, 4),
                            clip_length=1, head=head)
    affines = view_affines(np.array([20.0]), np.ones(1), np.array([[3.0, -2.0]]), SIZE)
    loss = AugmentedPseudoLabelLoss(score_thr=0.0)
    (tx, ty), weights = loss.targets(head, outputs, affines)
    want = codec.encode(move_points(points, affines))
    np.testing.assert_allclose(tx, want['keypoint_x_labels'])
    np.testing.assert_allclose(ty, want['keypoint_y_labels'])
    value = loss.compute(batch, (torch.as_tensor(tx), torch.as_tensor(ty)), affines)
    assert value.item() == pytest.approx(
        KLDiscretLoss(beta=10.0)((torch.as_tensor(tx), torch.as_tensor(ty)),
                                 (torch.as_tensor(tx), torch.as_tensor(ty)),
                                 torch.as_tensor(weights)).item())


def test_views_are_drawn_within_the_ranges_and_erased_when_asked():
    torch.manual_seed(0)
    loss = AugmentedPseudoLabelLoss(rotate=10.0, scale=(0.9, 1.1), shift=0.05, erase_prob=1.0)
    crops = torch.ones(64, 3, SIZE[1], SIZE[0])
    views, affines = loss.make_view(crops)
    lin = affines[:, :, :2]
    scales = np.sqrt(np.linalg.det(lin))
    angles = np.rad2deg(np.arctan2(lin[:, 0, 1], lin[:, 0, 0]))
    assert scales.min() >= 0.9 - 1e-9 and scales.max() <= 1.1 + 1e-9
    assert np.abs(angles).max() <= 10.0 + 1e-9 and np.abs(angles).max() > 5.0
    zeros = (views[:, 0] == 0).flatten(1).float().mean(1)
    assert (zeros >= 0.25 * 0.25 * 0.9).all()            # every view lost a rectangle


def test_bad_settings_and_unweighted_head_losses_are_refused():
    with pytest.raises(ValueError, match='scale'):
        AugmentedPseudoLabelLoss(scale=(1.2, 0.8))
    with pytest.raises(ValueError, match='erase_prob'):
        AugmentedPseudoLabelLoss(erase_prob=2.0)
    _, batch = _heatmap_batch(np.array([[[12.0, 20.0], [30.0, 40.0]]]), [[1.0, 1.0]])
    batch.head.loss_module = KeypointMSELoss(use_target_weight=False)
    with pytest.raises(ValueError, match='use_target_weight'):
        AugmentedPseudoLabelLoss().compute(batch, torch.zeros(1, 2, 16, 12),
                                           view_affines(np.zeros(1), np.ones(1),
                                                        np.zeros((1, 2)), SIZE))


def test_it_is_registered():
    loss = MODELS.build(dict(type='AugmentedPseudoLabelLoss', loss_weight=0.5))
    assert isinstance(loss, AugmentedPseudoLabelLoss) and loss.loss_weight == 0.5
