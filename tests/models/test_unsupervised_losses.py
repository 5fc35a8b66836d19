"""The unsupervised losses on hand-made tensors: zero where the prediction is
plausible, positive otherwise, with gradients that point the right way."""
import numpy as np
import pytest
import torch

from customkpt.core.boxes import boxes_from_points
from customkpt.core.pose_subspace import fit
from customkpt.models.losses import (HeatmapShapeLoss, PoseSubspaceLoss, SimCCShapeLoss,
                                     TemporalDifferenceLoss, soft_argmax_heatmaps,
                                     soft_argmax_vectors)
from customkpt.models.losses.unsupervised_shape import gaussian_heatmaps, gaussian_vectors
from customkpt.registry import MODELS


# ------------------------------------------------------------- soft-argmax
def test_soft_argmax_finds_off_grid_peaks_and_passes_gradients():
    peaks = torch.tensor([[[10.3, 20.7], [30.0, 5.0]]])
    heatmaps = gaussian_heatmaps(peaks, (48, 64), 2.0).requires_grad_(True)
    found = soft_argmax_heatmaps(heatmaps, beta=10.0, window=6.0)
    torch.testing.assert_close(found, peaks, atol=0.01, rtol=0)
    found[0, 0, 0].backward()
    assert heatmaps.grad[0, 0].abs().sum() > 0 and heatmaps.grad[0, 1].abs().sum() == 0
    # Without the window the empty background drags the estimate to the middle.
    loose = soft_argmax_heatmaps(heatmaps.detach(), beta=10.0)
    assert (loose[0, 0] - peaks[0, 0]).norm() > 0.5

    centres = torch.tensor([[100.4], [50.0]]).T                  # (B=1, K=2)
    found = soft_argmax_vectors(gaussian_vectors(centres, 384, 4.9),
                                gaussian_vectors(centres + 7, 512, 5.7), beta=10.0, window=15)
    torch.testing.assert_close(found, torch.stack([centres, centres + 7], -1), atol=0.01,
                               rtol=0)


# ---------------------------------------------------------------- temporal
def _clip(moves):
    """One clip of 1 keypoint moving by ``moves`` (T-1 steps of (dx, dy))."""
    pts = np.cumsum([[0.0, 0.0]] + list(moves), axis=0)
    return torch.tensor(pts, dtype=torch.float32)[None, :, None, :].requires_grad_(True)


def test_temporal_loss_is_zero_inside_the_dead_zone():
    loss = TemporalDifferenceLoss(dead_zone=5.0)
    assert loss(_clip([(3, 4), (-3, -4)])).item() == 0.0          # moves of exactly 5
    assert loss(_clip([(0, 0), (0, 0)])).item() == 0.0
    assert TemporalDifferenceLoss()(_clip([])).item() == 0.0      # single frame


def test_temporal_loss_beyond_the_dead_zone_pulls_the_frames_together():
    kpts = _clip([(10, 0)])                    # 10 px to the right, 4 free
    value = TemporalDifferenceLoss(dead_zone=4.0, loss_weight=2.0)(kpts)
    assert value.item() == pytest.approx(2.0 * 6.0)
    value.backward()
    grad = kpts.grad[0, :, 0]
    assert grad[0, 0] < 0 < grad[1, 0]         # descent moves frame 0 right, frame 1 left
    assert grad[:, 1].abs().max() == 0


def test_temporal_loss_averages_over_clips_pairs_and_keypoints():
    kpts = torch.zeros(2, 3, 2, 2)
    kpts[0, 2, 1, 0] = 8.0                     # one jump of 8 in 2 clips x 2 pairs x 2 points
    assert TemporalDifferenceLoss(dead_zone=2.0)(kpts).item() == pytest.approx(6.0 / 8)


# ---------------------------------------------------------------- subspace
def _poses(n=40, seed=0):
    """Poses of 3 points on a line whose spread varies: a 1-D subspace after
    box normalisation, placed and sized at random in the image."""
    rng = np.random.default_rng(seed)
    shape = np.array([[0, 0], [1, 0], [2, 0]], np.float64)
    out = []
    for _ in range(n):
        pose = shape.copy()
        pose[1, 1] = rng.uniform(-0.8, 0.8)    # the middle point bends up or down
        out.append(pose * rng.uniform(20, 80) + rng.uniform(0, 300, 2))
    return np.array(out, np.float32)


def _fitted(**kwargs):
    poses = _poses()
    visible = np.ones(poses.shape[:2], np.float32)
    sub = fit(poses, boxes_from_points(poses, visible > 0, padding=0.0), visible)
    loss = PoseSubspaceLoss(**kwargs)
    loss.set_subspace(sub.mean, sub.components)
    return loss, sub


def test_subspace_loss_is_zero_for_a_pose_of_the_subspace():
    loss, _ = _fitted()
    inside = torch.tensor(_poses(3, seed=5))   # new poses of the same family
    assert loss(inside).item() < 1e-5


def test_subspace_distance_matches_the_numpy_subspace_and_pulls_back():
    loss, sub = _fitted(loss_weight=3.0)
    pose = _poses(1, seed=9)
    pose[0, 2, 1] += 15.0                      # the end point leaves the line
    boxes = boxes_from_points(pose, np.ones((1, 3), bool), padding=0.0)
    want = sub.distance(pose, boxes)[0]
    assert want > 0.05
    kpts = torch.tensor(pose, requires_grad=True)
    value = loss(kpts)
    assert value.item() == pytest.approx(3.0 * want, rel=1e-4)
    value.backward()
    assert kpts.grad[0, 2, 1] > 0              # descent moves the point back down
    with torch.no_grad():
        stepped = kpts - 20.0 * kpts.grad
    assert loss(stepped).item() < value.item()


def test_subspace_loss_needs_its_subspace_and_matching_keypoints():
    with pytest.raises(RuntimeError, match='SemiSupervisedHook'):
        PoseSubspaceLoss()(torch.zeros(1, 3, 2))
    loss, _ = _fitted()
    with pytest.raises(ValueError, match='3 keypoints'):
        loss(torch.zeros(1, 4, 2))
    with pytest.raises(ValueError, match='normalise'):
        PoseSubspaceLoss(normalise='frame')
    assert 'mean' not in loss.state_dict()     # refitted each run, not a checkpoint key


def test_subspace_loss_with_the_frame_boxes():
    loss, _ = _fitted(normalise='box')
    pose = torch.tensor(_poses(1, seed=3))
    own = torch.cat([pose.min(1).values, pose.max(1).values], -1)
    assert loss(pose, own).item() < 1e-5
    shifted = own + torch.tensor([40.0, 0, 40.0, 0])   # same box size, pose off its centre
    assert loss(pose, shifted).item() > 0.1


# ------------------------------------------------------------------- shape
def test_heatmap_shape_loss_is_zero_for_a_gaussian_of_any_height():
    peaks = torch.tensor([[[12.0, 20.0], [30.0, 40.0]]])
    heatmaps = gaussian_heatmaps(peaks, (48, 64), 2.0) * torch.tensor([1.0, 0.4])[:, None, None]
    found = soft_argmax_heatmaps(heatmaps, 10.0, 6.0)
    assert HeatmapShapeLoss(sigma=2.0)(heatmaps, found).item() < 1e-9


def test_heatmap_shape_loss_pushes_a_second_peak_down():
    peaks = torch.tensor([[[12.0, 20.0]]])
    heatmaps = gaussian_heatmaps(peaks, (48, 64), 2.0)
    heatmaps = heatmaps + 0.6 * gaussian_heatmaps(torch.tensor([[[36.0, 50.0]]]), (48, 64), 2.0)
    heatmaps.requires_grad_(True)
    value = HeatmapShapeLoss(sigma=2.0)(heatmaps, soft_argmax_heatmaps(heatmaps, 10.0, 6.0))
    assert value.item() > 1e-4
    value.backward()
    assert heatmaps.grad[0, 0, 50, 36] > 0     # descent lowers the second bump
    assert heatmaps.grad[0, 0, 20, 12].abs() < 1e-12   # the main peak is already right


def test_simcc_shape_loss_is_zero_for_the_head_label_and_sharpens_otherwise():
    centres = torch.full((1, 2), 100.0)
    label_x, label_y = gaussian_vectors(centres, 192, 4.9), gaussian_vectors(centres, 256, 5.7)
    loss = SimCCShapeLoss(sigma=(4.9, 5.7))
    # softmax(beta * v) == softmax(label_beta * label): the head's target for its peak.
    simcc = (label_x * 10.0 / 5.0, label_y * 10.0 / 5.0)
    found = soft_argmax_vectors(*simcc, beta=5.0, window=15)
    kwargs = dict(sigma=(4.9, 5.7), beta=5.0, label_beta=10.0, label_softmax=True)
    assert abs(loss(simcc, found, **kwargs).item()) < 1e-6
    bumpy_x = (simcc[0] + 1.5 * gaussian_vectors(torch.full((1, 2), 150.0), 192, 3.0))
    bumpy_x.requires_grad_(True)
    value = loss((bumpy_x, simcc[1]), soft_argmax_vectors(bumpy_x, simcc[1], 5.0, 15), **kwargs)
    assert value.item() > 1e-4
    value.backward()
    assert bumpy_x.grad[0, 0, 150] > 0         # descent lowers the second bump


@pytest.mark.parametrize('cfg', [
    dict(type='TemporalDifferenceLoss', dead_zone=2.0),
    dict(type='PoseSubspaceLoss', variance=0.95),
    dict(type='HeatmapShapeLoss'),
    dict(type='SimCCShapeLoss', sigma=5.0),
])
def test_the_losses_are_registered(cfg):
    assert type(MODELS.build(cfg)).__name__ == cfg['type']
