"""One-to-one assignment on a cost or similarity matrix, in numpy.

:func:`linear_assignment` is the exact Hungarian method (shortest
augmenting paths with row and column potentials, ``O(n^2 m)`` for an
``n x m`` matrix with ``n <= m``): the matching of ``min(n, m)`` pairs with
the smallest total cost. :func:`hungarian_assignment` and
:func:`greedy_assignment` work on similarities (higher is better) with a
threshold, as trackers and per-frame metrics need them: a pair under the
threshold is never made.

Rows are usually detections (N) and columns tracks or ground-truth
instances (M); pairs are ``(row, col)`` tuples of ints.
"""
from __future__ import annotations

import numpy as np

__all__ = ['linear_assignment', 'hungarian_assignment', 'greedy_assignment']


def _augment(cost: np.ndarray, u: np.ndarray, v: np.ndarray, match_col: np.ndarray,
             row: int) -> None:
    """Add ``row`` (1-based) to the matching along a shortest augmenting path.

    ``cost`` is (n, m) with n <= m; ``u`` (n + 1,), ``v`` (m + 1,) are the
    potentials and ``match_col`` (m + 1,) the 1-based row held by each
    column (0: free); index 0 of ``v`` / ``match_col`` is the virtual start
    column. All three are updated in place.
    """
    m = cost.shape[1]
    match_col[0] = row
    minv = np.full(m + 1, np.inf)
    way = np.zeros(m + 1, dtype=np.int64)
    used = np.zeros(m + 1, dtype=bool)
    j0 = 0
    while True:
        used[j0] = True
        i0 = match_col[j0]
        free = ~used[1:]
        reduced = cost[i0 - 1] - u[i0] - v[1:]
        better = free & (reduced < minv[1:])
        minv[1:][better] = reduced[better]
        way[1:][better] = j0
        candidates = np.where(free, minv[1:], np.inf)
        j1 = int(np.argmin(candidates)) + 1
        delta = candidates[j1 - 1]
        u[match_col[used]] += delta
        v[used] -= delta
        minv[~used] -= delta
        j0 = j1
        if match_col[j0] == 0:
            break
    while j0:                                        # flip the path
        j1 = way[j0]
        match_col[j0] = match_col[j1]
        j0 = j1


def linear_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of smallest total cost, each row and column at most once.

    Args:
        cost: (N, M) finite costs.

    Returns:
        ``(rows, cols)``: int64 arrays of ``min(N, M)`` pairs, ``rows``
        ascending.

    Raises:
        ValueError: when ``cost`` is not 2-D or holds a NaN or infinity.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError(f'linear_assignment: cost must be 2-D, got shape {cost.shape}')
    if not np.isfinite(cost).all():
        raise ValueError('linear_assignment: cost holds NaN or infinite values')
    empty = np.zeros(0, dtype=np.int64)
    if cost.size == 0:
        return empty, empty.copy()
    transpose = cost.shape[0] > cost.shape[1]
    c = cost.T if transpose else cost
    n, m = c.shape
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    match_col = np.zeros(m + 1, dtype=np.int64)
    for row in range(1, n + 1):
        _augment(c, u, v, match_col, row)
    cols = np.nonzero(match_col[1:])[0]
    rows = match_col[1:][cols] - 1
    if transpose:
        rows, cols = cols, rows
    order = np.argsort(rows, kind='stable')
    return rows[order].astype(np.int64), cols[order].astype(np.int64)


def hungarian_assignment(sim: np.ndarray, thr: float) -> list[tuple[int, int]]:
    """Pairs (row, col) of largest total similarity among pairs with
    ``sim >= thr``.

    A pair under ``thr`` costs as much as leaving its row and column free,
    so it never displaces a valid pair; such pairs are dropped afterwards.

    Args:
        sim: (N, M) similarities (NaN counts as under ``thr``).
        thr: the smallest similarity a pair may have.

    Returns:
        The pairs, sorted by row.
    """
    sim = np.asarray(sim, dtype=np.float64)
    if sim.size == 0:
        return []
    ok = np.nan_to_num(sim, nan=-np.inf) >= thr
    rows, cols = linear_assignment(np.where(ok, -np.nan_to_num(sim), 0.0))
    return [(int(r), int(c)) for r, c in zip(rows, cols) if ok[r, c]]


def greedy_assignment(sim: np.ndarray, thr: float) -> list[tuple[int, int]]:
    """Pairs (row, col) taken highest similarity first, each row and column
    once, only pairs with ``sim >= thr`` (ties in row-major order)."""
    sim = np.asarray(sim, dtype=np.float64)
    pairs: list[tuple[int, int]] = []
    if sim.size == 0:
        return pairs
    order = np.argsort(-np.nan_to_num(sim, nan=-np.inf), axis=None, kind='stable')
    used_r, used_c = set(), set()
    for flat in order:
        r, c = divmod(int(flat), sim.shape[1])
        if not sim[r, c] >= thr:
            break
        if r in used_r or c in used_c:
            continue
        used_r.add(r)
        used_c.add(c)
        pairs.append((r, c))
    return pairs
