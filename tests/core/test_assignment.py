"""Exact assignment (Hungarian) against brute force; thresholded and greedy pairing."""
import itertools

import numpy as np
import pytest

from customkpt.core.assignment import (greedy_assignment, hungarian_assignment,
                                       linear_assignment)


def _brute_min(cost: np.ndarray) -> float:
    """Smallest total cost of a matching of min(N, M) pairs, by enumeration."""
    n, m = cost.shape
    if n > m:
        return _brute_min(cost.T)
    return min(sum(cost[r, c] for r, c in enumerate(cols))
               for cols in itertools.permutations(range(m), n))


def _brute_thresholded(sim: np.ndarray, thr: float) -> float:
    """Largest total similarity over partial matchings of pairs >= thr."""
    n, m = sim.shape
    best = 0.0
    for k in range(min(n, m) + 1):
        for rows in itertools.combinations(range(n), k):
            for cols in itertools.permutations(range(m), k):
                if all(sim[r, c] >= thr for r, c in zip(rows, cols)):
                    best = max(best, sum(sim[r, c] for r, c in zip(rows, cols)))
    return best


@pytest.mark.parametrize('shape', [(1, 1), (1, 5), (5, 1), (3, 3), (4, 6), (6, 4), (6, 6),
                                   (7, 7)])
def test_linear_assignment_matches_brute_force(shape):
    rng = np.random.default_rng(sum(shape))
    for trial in range(25):
        cost = rng.normal(size=shape) * 10
        if trial % 3 == 0:                    # many ties
            cost = rng.integers(0, 3, size=shape).astype(float)
        rows, cols = linear_assignment(cost)
        assert len(rows) == len(cols) == min(shape)
        assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)
        assert rows.tolist() == sorted(rows.tolist())
        assert cost[rows, cols].sum() == pytest.approx(_brute_min(cost), abs=1e-9)


def test_linear_assignment_edge_cases():
    rows, cols = linear_assignment(np.zeros((0, 3)))
    assert rows.shape == cols.shape == (0,) and rows.dtype == np.int64
    rows, cols = linear_assignment(np.array([[5.0, 1.0, 3.0]]))
    assert (rows.tolist(), cols.tolist()) == ([0], [1])
    rows, cols = linear_assignment(np.array([[1.0], [0.5], [2.0]]))
    assert (rows.tolist(), cols.tolist()) == ([1], [0])
    with pytest.raises(ValueError, match='NaN or infinite'):
        linear_assignment(np.array([[np.inf, 1.0], [1.0, 2.0]]))
    with pytest.raises(ValueError, match='2-D'):
        linear_assignment(np.zeros(3))


def test_hungarian_with_threshold_matches_brute_force():
    rng = np.random.default_rng(5)
    for shape in [(2, 3), (3, 2), (4, 4), (5, 3), (3, 5)]:
        for thr in (0.0, 0.4, 0.7):
            for _ in range(10):
                sim = rng.random(shape)
                pairs = hungarian_assignment(sim, thr)
                assert all(sim[r, c] >= thr for r, c in pairs)
                assert len({r for r, _ in pairs}) == len(pairs) == len({c for _, c in pairs})
                total = sum(sim[r, c] for r, c in pairs)
                assert total == pytest.approx(_brute_thresholded(sim, thr), abs=1e-9)


def test_greedy_and_hungarian_differ_where_greedy_is_short_sighted():
    sim = np.array([[0.9, 0.8], [0.85, 0.1]])
    assert greedy_assignment(sim, 0.3) == [(0, 0)]          # 0.9 first, row 1 left with 0.1
    assert hungarian_assignment(sim, 0.3) == [(0, 1), (1, 0)]  # total 1.65 > 0.9
    # a pair under the threshold never displaces a valid one
    assert hungarian_assignment(np.array([[0.5, 0.0], [0.9, 0.2]]), 0.3) == [(1, 0)]
    assert hungarian_assignment(np.zeros((0, 2)), 0.3) == []
    assert greedy_assignment(np.array([[np.nan, 0.5]]), 0.3) == [(0, 1)]
    assert hungarian_assignment(np.array([[np.nan, 0.5]]), 0.3) == [(0, 1)]
