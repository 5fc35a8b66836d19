"""Temporal keypoint filters, registered in ``KEYPOINT_FILTERS``.

Two kinds:

* **online** filters (:class:`OneEuroFilter`, :class:`EMAFilter`) see one
  frame at a time; one instance follows one track. Call
  ``filt(points (K, 2), valid (K,) | None, t | None) -> (K, 2)``.
* **offline** filters (:class:`SavitzkyGolayFilter`, :class:`GaussianFilter`)
  see a whole sequence at once, so they look ahead and have no lag.

Every filter has ``smooth(sequence (T, K, 2), valid (T, K) | None,
timestamps (T,) | None) -> (T, K, 2)``; online filters run frame by frame
from a reset state.

Invalid points (``valid`` False, e.g. a keypoint score under the
threshold) never feed a filter and come back unchanged: smoothing does not
invent positions. An online filter restarts a point's state when it
re-appears after being invalid; an offline filter leaves invalid points out
of every window (weighted fits), so they neither pull their neighbours nor
get moved.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from ..registry import KEYPOINT_FILTERS

__all__ = ['KeypointFilter', 'OnlineKeypointFilter', 'OfflineKeypointFilter', 'OneEuroFilter',
           'EMAFilter', 'SavitzkyGolayFilter', 'GaussianFilter']


def _check_points(points: np.ndarray, valid: Optional[np.ndarray], name: str,
                  ndim: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``points`` (..., K, 2) and ``valid`` (..., K); return float64 / bool copies."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != ndim or pts.shape[-1] != 2:
        shape = '(K, 2)' if ndim == 2 else '(T, K, 2)'
        raise ValueError(f'{name}: points must have shape {shape}, got {pts.shape}')
    if valid is None:
        mask = np.ones(pts.shape[:-1], dtype=bool)
    else:
        mask = np.asarray(valid).astype(bool)
        if mask.shape != pts.shape[:-1]:
            raise ValueError(f'{name}: valid must have shape {pts.shape[:-1]}, got {mask.shape}')
    mask = mask & np.isfinite(pts).all(axis=-1)
    return pts, mask


def _check_window(window: int, name: str) -> int:
    if int(window) != window or window < 1 or window % 2 == 0:
        raise ValueError(f'{name}: window must be a positive odd integer, got {window!r}')
    return int(window)


class KeypointFilter:
    """Base class: every filter can smooth a whole ``(T, K, 2)`` sequence."""

    #: True for filters that work frame by frame (``__call__``).
    online: bool = False

    def smooth(self, sequence: np.ndarray, valid: Optional[np.ndarray] = None,
               timestamps: Optional[np.ndarray] = None) -> np.ndarray:
        """Smooth a sequence.

        Args:
            sequence: (T, K, 2) positions, frame by frame.
            valid: (T, K) bool; False points are ignored and returned as given.
            timestamps: (T,) increasing times (seconds or frames); only
                filters that use time read them.

        Returns:
            float32 (T, K, 2).
        """
        raise NotImplementedError

    def reset(self) -> None:
        """Forget any state."""


class OnlineKeypointFilter(KeypointFilter):
    """Base class of the frame-by-frame filters.

    Subclasses implement :meth:`_step` on the valid points; this class keeps
    the per-point "has state" mask, restarts points that re-appear and
    passes invalid points through.
    """

    online = True

    def __init__(self) -> None:
        self._state: Optional[np.ndarray] = None   # (K, 2) last output
        self._active: Optional[np.ndarray] = None  # (K,) bool: point has a state
        self._t: Optional[float] = None            # time of the last call

    def reset(self) -> None:
        """Forget every point's state (start of a new track)."""
        self._state = None
        self._active = None
        self._t = None

    def _elapsed(self, t: Optional[float]) -> float:
        """Time since the previous call; advance the clock."""
        raise NotImplementedError

    def _step(self, x: np.ndarray, sel: np.ndarray, dt: float) -> np.ndarray:
        """Filter the points ``sel`` (bool (K,), all with a state) towards ``x`` (K, 2)."""
        raise NotImplementedError

    def _start(self, x: np.ndarray, sel: np.ndarray) -> None:
        """Start the state of the points ``sel`` at ``x``."""
        assert self._state is not None
        self._state[sel] = x[sel]

    def __call__(self, points: np.ndarray, valid: Optional[np.ndarray] = None,
                 t: Optional[float] = None) -> np.ndarray:
        """Filter one frame.

        Args:
            points: (K, 2) positions.
            valid: (K,) bool, or None for all valid.
            t: the frame's time; see the subclass for what it means.

        Returns:
            float32 (K, 2): filtered valid points, raw invalid points.
        """
        x, mask = _check_points(points, valid, type(self).__name__, ndim=2)
        k = x.shape[0]
        if self._state is None or self._state.shape[0] != k:
            if self._state is not None:
                raise ValueError(f'{type(self).__name__}: got {k} points, the state has '
                                 f'{self._state.shape[0]}; call reset() for a new track')
            self._state = np.zeros((k, 2), dtype=np.float64)
            self._active = np.zeros(k, dtype=bool)
            self._t = None
        dt = self._elapsed(t)
        assert self._active is not None
        cont = mask & self._active
        new = mask & ~self._active
        if cont.any():
            self._step(x, cont, dt)
        if new.any():
            self._start(x, new)
        self._active = mask.copy()
        out = np.where(mask[:, None], self._state, np.asarray(points, dtype=np.float64))
        return out.astype(np.float32)

    def smooth(self, sequence: np.ndarray, valid: Optional[np.ndarray] = None,
               timestamps: Optional[np.ndarray] = None) -> np.ndarray:
        """Run the filter frame by frame from a reset state (see
        :meth:`KeypointFilter.smooth`). The state is left at the last frame."""
        seq, mask = _check_points(sequence, valid, type(self).__name__, ndim=3)
        if timestamps is not None:
            timestamps = np.asarray(timestamps, dtype=np.float64).reshape(-1)
            if timestamps.shape[0] != seq.shape[0]:
                raise ValueError(f'{type(self).__name__}: {timestamps.shape[0]} timestamps for '
                                 f'{seq.shape[0]} frames')
        self.reset()
        out = np.empty(seq.shape, dtype=np.float32)
        for i in range(seq.shape[0]):
            t = None if timestamps is None else float(timestamps[i])
            out[i] = self(seq[i], mask[i], t)
        return out


@KEYPOINT_FILTERS.register_module()
class OneEuroFilter(OnlineKeypointFilter):
    """The One Euro filter: an exponential smoother whose cutoff frequency
    rises with the speed, so slow motion is smoothed hard (little jitter)
    and fast motion lightly (little lag).

    Per frame with elapsed time ``te``: ``alpha(fc) = 1 / (1 + tau / te)``,
    ``tau = 1 / (2 pi fc)``; the velocity ``dx = (x - x_hat_prev) / te`` is
    smoothed with cutoff ``d_cutoff`` into ``dx_hat``; then
    ``fc = min_cutoff + beta * |dx_hat|`` and
    ``x_hat = alpha(fc) x + (1 - alpha(fc)) x_hat_prev``. ``|dx_hat|`` is the
    2-D speed of each point, so x and y of a point share one cutoff.

    Time: the difference of the ``t`` passed to each call when given, else
    ``1 / fps`` when ``fps`` is set, else one unit per frame (then cutoffs
    are in cycles per frame and must be below ~0.5 to smooth at all; with
    ``fps`` they are in Hz and speeds in pixels per second).

    Args:
        min_cutoff: cutoff at rest (Hz, or cycles per frame without time);
            lower = smoother and laggier.
        beta: how fast the cutoff grows with speed; higher = less lag when
            moving.
        d_cutoff: cutoff of the velocity estimate.
        fps: frame rate used when calls carry no ``t``.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0,
                 fps: Optional[float] = None) -> None:
        super().__init__()
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError('OneEuroFilter: min_cutoff and d_cutoff must be > 0 and beta >= 0, '
                             f'got {min_cutoff}, {d_cutoff}, {beta}')
        if fps is not None and fps <= 0:
            raise ValueError(f'OneEuroFilter: fps must be > 0, got {fps}')
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.fps = None if fps is None else float(fps)
        self._dx: Optional[np.ndarray] = None  # (K, 2) smoothed velocity

    def reset(self) -> None:
        super().reset()
        self._dx = None

    @staticmethod
    def alpha(te: float, cutoff: np.ndarray | float) -> np.ndarray:
        """Smoothing factor for elapsed time ``te`` and cutoff frequency ``cutoff``."""
        tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff, dtype=np.float64))
        return 1.0 / (1.0 + tau / te)

    def _elapsed(self, t: Optional[float]) -> float:
        step = 1.0 / self.fps if self.fps else 1.0
        if t is None:
            now = (self._t + step) if self._t is not None else 0.0
        else:
            now = float(t)
        dt = step if self._t is None else now - self._t
        if dt <= 0:
            raise ValueError(f'OneEuroFilter: time must increase between calls, got t={now} '
                             f'after t={self._t}')
        self._t = now
        return dt

    def _start(self, x: np.ndarray, sel: np.ndarray) -> None:
        super()._start(x, sel)
        if self._dx is None or self._dx.shape[0] != x.shape[0]:
            self._dx = np.zeros_like(x)
        self._dx[sel] = 0.0

    def _step(self, x: np.ndarray, sel: np.ndarray, dt: float) -> np.ndarray:
        assert self._state is not None and self._dx is not None
        prev = self._state[sel]
        dx = (x[sel] - prev) / dt
        a_d = self.alpha(dt, self.d_cutoff)
        dx_hat = a_d * dx + (1.0 - a_d) * self._dx[sel]
        cutoff = self.min_cutoff + self.beta * np.linalg.norm(dx_hat, axis=-1)
        a = self.alpha(dt, cutoff)[:, None]
        self._state[sel] = a * x[sel] + (1.0 - a) * prev
        self._dx[sel] = dx_hat
        return self._state


@KEYPOINT_FILTERS.register_module()
class EMAFilter(OnlineKeypointFilter):
    """Exponential moving average ``y = alpha x + (1 - alpha) y_prev``.

    Args:
        alpha: weight of the new frame, in (0, 1]; 1 = no smoothing. The
            lag on a steady motion is ``(1 - alpha) / alpha`` frames.
    """

    def __init__(self, alpha: float = 0.5) -> None:
        super().__init__()
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f'EMAFilter: alpha must be in (0, 1], got {alpha}')
        self.alpha = float(alpha)

    def _elapsed(self, t: Optional[float]) -> float:
        return 1.0  # frame-based: timestamps are ignored

    def _step(self, x: np.ndarray, sel: np.ndarray, dt: float) -> np.ndarray:
        assert self._state is not None
        self._state[sel] = self.alpha * x[sel] + (1.0 - self.alpha) * self._state[sel]
        return self._state


class OfflineKeypointFilter(KeypointFilter):
    """Base class of the whole-sequence filters: a centred window of
    ``window`` frames (odd), cut at the sequence ends, in which invalid
    points carry no weight.

    Subclasses give :meth:`_weights`, the row of weights that turns the
    window's values into the output at the window's centre, for one set of
    frame offsets and valid flags; rows are cached per pattern.
    """

    def __init__(self, window: int) -> None:
        self.window = _check_window(window, type(self).__name__)
        self._cache: dict[tuple[int, int, bytes], np.ndarray] = {}

    def _weights(self, offsets: np.ndarray) -> np.ndarray:
        """Weights (n,) over the valid frame ``offsets`` (n,) from the centre."""
        raise NotImplementedError

    def smooth(self, sequence: np.ndarray, valid: Optional[np.ndarray] = None,
               timestamps: Optional[np.ndarray] = None) -> np.ndarray:
        """See :meth:`KeypointFilter.smooth`; frames are taken as equally
        spaced and ``timestamps`` is ignored."""
        seq, mask = _check_points(sequence, valid, type(self).__name__, ndim=3)
        num_frames, num_kpts = mask.shape
        half = self.window // 2
        out = seq.copy()
        for t in range(num_frames):
            lo, hi = max(0, t - half), min(num_frames, t + half + 1)
            for k in np.flatnonzero(mask[t]):
                m = mask[lo:hi, k]
                key = (lo - t, hi - t, np.packbits(m).tobytes())
                w = self._cache.get(key)
                if w is None:
                    offsets = np.arange(lo - t, hi - t)[m]
                    w = self._cache[key] = self._weights(offsets.astype(np.float64))
                out[t, k] = w @ seq[lo:hi, k][m]
        return out.astype(np.float32)


@KEYPOINT_FILTERS.register_module()
class SavitzkyGolayFilter(OfflineKeypointFilter):
    """Savitzky-Golay smoothing: a least-squares polynomial of degree
    ``order`` fitted to the valid points of the centred window, evaluated
    at the centre. Keeps peaks and steady accelerations better than a
    moving average of the same width.

    At the sequence ends, and where few points in the window are valid, the
    fit uses what is there (the degree drops to the number of valid points
    minus one), so short sequences work too.

    Args:
        window: odd window length in frames.
        order: polynomial degree, ``< window``.
    """

    def __init__(self, window: int = 11, order: int = 2) -> None:
        super().__init__(window)
        if int(order) != order or order < 0 or order >= self.window:
            raise ValueError(f'SavitzkyGolayFilter: order must be an integer in '
                             f'[0, window - 1] = [0, {self.window - 1}], got {order!r}')
        self.order = int(order)

    def _weights(self, offsets: np.ndarray) -> np.ndarray:
        degree = min(self.order, offsets.size - 1)
        scale = max(1.0, float(np.abs(offsets).max()))
        vander = np.vander(offsets / scale, degree + 1, increasing=True)  # (n, degree + 1)
        # The fitted value at offset 0 is the constant coefficient: row 0 of the pseudo-inverse.
        return np.linalg.pinv(vander)[0]


@KEYPOINT_FILTERS.register_module()
class GaussianFilter(OfflineKeypointFilter):
    """Gaussian-weighted average over the centred window (weights
    ``exp(-d^2 / (2 sigma^2))`` at frame offset ``d``), renormalised over the
    valid points present.

    Args:
        window: odd window length in frames.
        sigma: standard deviation in frames.
    """

    def __init__(self, window: int = 11, sigma: float = 4.0) -> None:
        super().__init__(window)
        if sigma <= 0:
            raise ValueError(f'GaussianFilter: sigma must be > 0, got {sigma}')
        self.sigma = float(sigma)

    def _weights(self, offsets: np.ndarray) -> np.ndarray:
        w = np.exp(-0.5 * (offsets / self.sigma) ** 2)
        return w / w.sum()
