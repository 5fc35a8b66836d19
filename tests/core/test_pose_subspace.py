"""customkpt.core.pose_subspace: box normalisation, PCA fit, distance with
missing points."""
from __future__ import annotations

import json

import numpy as np
import pytest

from customkpt.core.pose_subspace import PoseSubspace, fit, normalise_poses


def _poses_on_a_plane(n=200, k=6, seed=0):
    """Poses (n, k, 2) that are a mean pose plus 2 fixed directions, each
    placed at a random box position and size; the matching xyxy boxes."""
    rng = np.random.default_rng(seed)
    mean = rng.uniform(-0.4, 0.4, (k, 2))
    dirs = rng.normal(size=(2, k, 2)) * 0.05
    coef = rng.normal(size=(n, 2))
    unit = mean + np.einsum('nc,ckd->nkd', coef, dirs)
    side = rng.uniform(50, 300, n)
    centre = rng.uniform(100, 500, (n, 2))
    poses = unit * side[:, None, None] + centre[:, None]
    boxes = np.concatenate([centre - side[:, None] / 2, centre + side[:, None] / 2], axis=1)
    return poses.astype(np.float32), boxes.astype(np.float32)


def test_normalise_centres_on_the_box_and_divides_by_the_longer_side():
    poses = np.array([[[10.0, 20.0], [50.0, 40.0]]])
    boxes = np.array([[10.0, 20.0, 50.0, 40.0]])  # 40 wide, 20 high
    out = normalise_poses(poses, boxes)
    np.testing.assert_allclose(out, [[[-0.5, -0.25], [0.5, 0.25]]])


def test_normalise_names_a_box_without_size():
    boxes = np.array([[0, 0, 10, 10], [5, 5, 5, 5]], np.float32)
    with pytest.raises(ValueError, match='box 1 has no positive size'):
        normalise_poses(np.zeros((2, 3, 2)), boxes)


def test_fit_finds_the_dimension_and_in_plane_poses_lie_on_it():
    poses, boxes = _poses_on_a_plane()
    sub = fit(poses, boxes, np.ones(poses.shape[:2]))
    assert sub.components.shape == (2, 12) and sub.mean.shape == (12,)
    np.testing.assert_allclose(sub.components @ sub.components.T, np.eye(2), atol=1e-5)
    assert sub.num_samples == 200 and sub.num_keypoints == 6
    new, new_boxes = _poses_on_a_plane(n=20, seed=0)
    assert sub.distance(new, new_boxes).max() < 1e-4


def test_distance_of_an_off_plane_pose_is_the_residual_norm():
    poses, boxes = _poses_on_a_plane()
    sub = fit(poses, boxes, np.ones(poses.shape[:2]))
    # A step orthogonal to the subspace, in normalised units, of length 0.1.
    step = np.random.default_rng(3).normal(size=12)
    step -= sub.components.T @ (sub.components @ step)
    step *= 0.1 / np.linalg.norm(step)
    side = boxes[0, 2] - boxes[0, 0]
    moved = poses[:1] + step.reshape(1, 6, 2) * side
    np.testing.assert_allclose(sub.distance(moved, boxes[:1]), [0.1], rtol=1e-3)
    # Same pose, another place and size: same distance.
    shifted = (moved - boxes[0, :2]) * 2 + 7
    shifted_box = (boxes[:1] - np.tile(boxes[0, :2], 2)) * 2 + 7
    np.testing.assert_allclose(sub.distance(shifted, shifted_box), [0.1], rtol=1e-3)


def test_variance_share_picks_the_number_of_components():
    rng = np.random.default_rng(1)
    # Variances 100, 10, 1, 0.01 along 4 axes of a 3-point pose.
    coef = rng.normal(size=(5000, 4)) * np.sqrt([100, 10, 1, 0.01])
    axes = np.linalg.qr(rng.normal(size=(6, 4)))[0].T
    unit = (coef @ axes).reshape(-1, 3, 2) * 1e-3
    boxes = np.tile([[-1.0, -1.0, 1.0, 1.0]], (5000, 1))
    vis = np.ones((5000, 3))
    # Shares 0.901, 0.9909, 0.99991, 1 after 1, 2, 3, 4 components.
    shares = [(0.5, 1), (0.95, 2), (0.99, 2), (0.995, 3), (0.99995, 4)]
    for share, count in shares:
        assert len(fit(unit * 2, boxes, vis, variance=share).components) == count, share


def test_fit_uses_only_complete_poses():
    poses, boxes = _poses_on_a_plane()
    vis = np.ones(poses.shape[:2])
    wild = poses.copy()
    wild[:50] += np.random.default_rng(2).normal(size=(50, 6, 2)) * 40  # off the plane
    vis[:50, 0] = 0  # ... and each misses a point
    sub = fit(wild, boxes, vis)
    assert sub.num_samples == 150 and len(sub.components) == 2


def test_distance_over_visible_coordinates_only():
    poses, boxes = _poses_on_a_plane()
    sub = fit(poses, boxes, np.ones(poses.shape[:2]))
    broken = poses[:4].copy()
    broken[:, 2] += 500.0  # point 2 thrown far away
    vis = np.ones((4, 6))
    vis[:2, 2] = 0  # the first two ignore it
    d = sub.distance(broken, boxes[:4], vis)
    assert d[:2].max() < 1e-3 and d[2:].min() > 1.0
    assert np.isnan(sub.distance(poses[:1], boxes[:1], np.zeros((1, 6))))[0]


def test_partial_distance_is_scaled_to_the_whole_pose():
    rng = np.random.default_rng(5)
    poses = rng.normal(size=(300, 4, 2)).astype(np.float32)
    boxes = np.tile([[-2.0, -2.0, 2.0, 2.0]], (300, 1))
    sub = fit(poses, boxes, np.ones((300, 4)), variance=1e-9)  # one component
    assert len(sub.components) == 1
    target = poses[:1] + 0.0
    full = sub.distance(target, boxes[:1])[0]
    # Hiding points whose residual equals the average keeps the scaled norm.
    resid = (normalise_poses(target, boxes[:1]).ravel() - sub.mean)
    assert full > 0 and np.isfinite(full)
    vis = np.array([[1, 1, 1, 0]])
    part = sub.distance(target, boxes[:1], vis)[0]
    basis = sub.components[:, :6].T
    d = resid[:6]
    r = d - basis @ np.linalg.lstsq(basis, d, rcond=None)[0]
    np.testing.assert_allclose(part, np.sqrt((r ** 2).sum() * 8 / 6), rtol=1e-4)


def test_too_few_complete_poses_is_an_error():
    poses, boxes = _poses_on_a_plane(n=5)
    vis = np.ones((5, 6))
    vis[1:, 3] = 0
    with pytest.raises(ValueError, match='at least 2 complete poses.*found 1 of 5'):
        fit(poses, boxes, vis)
    with pytest.raises(ValueError, match='variance'):
        fit(poses, boxes, np.ones((5, 6)), variance=1.5)


def test_round_trip_through_json():
    poses, boxes = _poses_on_a_plane()
    sub = fit(poses, boxes, np.ones(poses.shape[:2]))
    back = PoseSubspace.from_dict(json.loads(json.dumps(sub.to_dict())))
    np.testing.assert_array_equal(back.components, sub.components)
    np.testing.assert_array_equal(back.mean, sub.mean)
    assert back.num_samples == sub.num_samples
    np.testing.assert_allclose(back.distance(poses[:5] * 1.1, boxes[:5]),
                               sub.distance(poses[:5] * 1.1, boxes[:5]), rtol=1e-5)
