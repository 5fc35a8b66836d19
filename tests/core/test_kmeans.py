"""customkpt.core.kmeans: seeded k-means."""
from __future__ import annotations

import numpy as np
import pytest

from customkpt.core.kmeans import kmeans


def _blobs(seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    truth = np.repeat(np.arange(4), [50, 20, 5, 1])
    return centres[truth] + rng.normal(size=(len(truth), 2)) * 0.3, truth


def test_separated_blobs_are_found_whatever_their_size():
    x, truth = _blobs()
    centres, labels = kmeans(x, 4, seed=3)
    # Each found cluster is exactly one true blob (even the single point).
    pairs = {(int(a), int(b)) for a, b in zip(labels, truth)}
    assert len(pairs) == 4 and len({a for a, _ in pairs}) == 4
    assert centres.shape == (4, 2)


def test_same_seed_same_clusters():
    x = np.random.default_rng(1).normal(size=(200, 3))
    a = kmeans(x, 5, seed=7)
    b = kmeans(x, 5, seed=7)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[0], b[0])


def test_every_cluster_keeps_a_point():
    x = np.concatenate([np.zeros((30, 2)), np.eye(2) * 5, [[5.0, 5.0]]])
    _, labels = kmeans(x, 4, seed=0)
    assert set(labels.tolist()) == {0, 1, 2, 3}


def test_bad_arguments():
    with pytest.raises(ValueError, match='k must be in'):
        kmeans(np.zeros((3, 2)), 4)
    with pytest.raises(ValueError, match='shape'):
        kmeans(np.zeros((0, 2)), 1)
