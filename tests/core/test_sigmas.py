"""The sigma estimator: recovery of known label noise, the OKS calibration it
implies, model errors and the bootstrap interval."""
import numpy as np
import pytest

from customkpt.core.boxes import oks
from customkpt.core.sigmas import (bootstrap_interval, error_deviations, estimate_sigmas,
                                   label_deviations, pooled_sigmas)

SIGMAS = np.array([0.025, 0.05, 0.08, 0.12])


def truth_and_areas(rng, n):
    truth = rng.uniform(0, 500, size=(n, len(SIGMAS), 2))
    areas = rng.uniform(30, 300, size=n) ** 2
    return truth, areas


def noisy(rng, truth, areas, sigmas, copies):
    """``copies`` labels of each point: per-coordinate std sigma * s / sqrt(2),
    i.e. an RMS 2-D error of sigma * s (COCO's sigma)."""
    std = sigmas[None, :] * np.sqrt(areas)[:, None] / np.sqrt(2)  # (N, K)
    noise = rng.normal(size=(truth.shape[0], copies) + truth.shape[1:])
    return truth[:, None] + noise * std[:, None, :, None]


@pytest.mark.parametrize('copies', [2, 3, 5])
def test_repeated_labels_recover_the_noise_sigma(copies):
    rng = np.random.default_rng(0)
    truth, areas = truth_and_areas(rng, 3000)
    points = noisy(rng, truth, areas, SIGMAS, copies)
    visible = np.ones(points.shape[:3], bool)
    ss, dof = label_deviations(points, visible, areas)
    assert (dof == copies - 1).all()
    est = pooled_sigmas(ss, dof)
    np.testing.assert_allclose(est, SIGMAS, rtol=0.03)


def test_two_labels_give_the_pairwise_difference_formula():
    rng = np.random.default_rng(1)
    truth, areas = truth_and_areas(rng, 50)
    points = noisy(rng, truth, areas, SIGMAS, 2)
    ss, dof = label_deviations(points, np.ones(points.shape[:3], bool), areas)
    diff2 = ((points[:, 0] - points[:, 1]) ** 2).sum(-1)
    np.testing.assert_allclose(ss, diff2 / (2 * areas[:, None]))
    np.testing.assert_allclose(pooled_sigmas(ss, dof) ** 2,
                               (diff2 / (2 * areas[:, None])).mean(0))


def test_estimated_sigmas_make_a_labeller_score_eight_ninths_on_every_point():
    """Per-coordinate noise c * s gives sigma = sqrt(2) c, and with it our OKS
    scores a label of that precision 1 / (1 + c^2 / (2 sigma)^2) = 8/9 on
    average, the same for every point whatever its c."""
    rng = np.random.default_rng(2)
    truth, areas = truth_and_areas(rng, 4000)
    points = noisy(rng, truth, areas, SIGMAS, 2)
    ss, dof = label_deviations(points, np.ones(points.shape[:3], bool), areas)
    sigmas = pooled_sigmas(ss, dof)
    for k in range(len(SIGMAS)):
        vis = np.zeros(len(SIGMAS))
        vis[k] = 1
        per_point = [oks(truth[i], vis, areas[i], points[i, 0], sigmas)[0]
                     for i in range(len(truth))]
        assert np.mean(per_point) == pytest.approx(8 / 9, abs=0.01)


def test_points_with_fewer_than_two_labels_count_nothing():
    rng = np.random.default_rng(3)
    truth, areas = truth_and_areas(rng, 20)
    points = noisy(rng, truth, areas, SIGMAS, 3)
    visible = np.ones(points.shape[:3], bool)
    visible[:, 1:, 0] = False      # point 0: one label only
    visible[:10, 2, 1] = False     # point 1: two labels in the first ten instances
    points[:, 1:, 0] = np.nan      # what a missing label holds does not matter
    ss, dof = label_deviations(points, visible, areas)
    assert (dof[:, 0] == 0).all() and (ss[:, 0] == 0).all()
    assert dof[:10, 1].tolist() == [1] * 10 and dof[10:, 1].tolist() == [2] * 10
    est = estimate_sigmas(ss, dof, num_resamples=50)
    assert np.isnan(est.sigmas[0]) and np.isnan(est.low[0]) and est.instances[0] == 0
    assert est.dof.tolist() == [0, 30, 40, 40] and est.instances.tolist() == [0, 20, 20, 20]


def test_model_errors_use_the_truth_as_the_true_position():
    rng = np.random.default_rng(4)
    truth, areas = truth_and_areas(rng, 3000)
    pred = noisy(rng, truth, areas, SIGMAS, 1)[:, 0]
    visible = np.ones(truth.shape[:2], bool)
    visible[::2, 3] = False
    pred[::2, 3] += 1e6            # unlabelled points are not scored
    ss, dof = error_deviations(pred, truth, visible, areas)
    assert dof[:, 3].sum() == 1500
    np.testing.assert_allclose(pooled_sigmas(ss, dof), SIGMAS, rtol=0.04)


def test_bootstrap_is_seeded_and_covers_the_true_sigma():
    rng = np.random.default_rng(5)
    covered = 0
    for trial in range(40):
        truth, areas = truth_and_areas(rng, 150)
        points = noisy(rng, truth, areas, SIGMAS, 2)
        ss, dof = label_deviations(points, np.ones(points.shape[:3], bool), areas)
        low, high = bootstrap_interval(ss, dof, num_resamples=300, seed=trial)
        assert (low < pooled_sigmas(ss, dof)).all() and (pooled_sigmas(ss, dof) < high).all()
        covered += int(((low <= SIGMAS) & (SIGMAS <= high)).sum())
    assert covered / (40 * len(SIGMAS)) >= 0.88
    again = bootstrap_interval(ss, dof, num_resamples=300, seed=39)
    np.testing.assert_array_equal(again, (low, high))
    other = bootstrap_interval(ss, dof, num_resamples=300, seed=7)
    assert not np.array_equal(other[0], low)
    narrow = bootstrap_interval(ss, dof, num_resamples=300, level=0.5, seed=39)
    assert ((narrow[1] - narrow[0]) < (high - low)).all()


def test_bad_input_is_refused():
    points = np.zeros((2, 2, 3, 2))
    visible = np.ones((2, 2, 3), bool)
    with pytest.raises(ValueError, match='areas must be positive.*instance 1'):
        label_deviations(points, visible, [4.0, 0.0])
    with pytest.raises(ValueError, match='3 areas for 2 instances'):
        label_deviations(points, visible, [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r'points must be \(N, L, K, 2\)'):
        label_deviations(points[0], visible[0], [1.0])
    with pytest.raises(ValueError, match='does not fit'):
        error_deviations(points[:, 0], points[:, 1], visible[:, 0, :2], [1.0, 1.0])
    with pytest.raises(ValueError, match='level'):
        bootstrap_interval(np.ones((3, 1)), np.ones((3, 1)), level=1.5)
