"""Training curves from mmengine's scalar logs.

mmengine's ``LocalVisBackend`` writes ``<work_dir>/<timestamp>/vis_data/
scalars.json``: one JSON object per line. Training lines carry ``iter``
(the global iteration), ``epoch``, ``lr``, ``loss``, ... and ``step``;
validation lines carry the metric names (``coco/AP``, ``PCK``, ...), ``time``,
``data_time`` and ``step`` (the epoch, or the iteration when metrics are
logged by iteration).

A resumed run writes a new timestamp folder that starts where its checkpoint
left off; :func:`load_scalars` chains it onto the earlier runs it continues.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

#: Keys of training lines that are axes, not curves.
AXIS_KEYS = ('step', 'iter', 'epoch')
#: Keys of validation lines that are bookkeeping, not metrics.
VAL_NON_METRICS = ('step', 'iter', 'epoch', 'time', 'data_time')
RUN_MODES = ('auto', 'newest', 'all')


class CurveKeyError(ValueError):
    """An asked-for key is in none of the logs."""


@dataclass
class Scalars:
    """Scalar lines of one or more runs.

    Attributes:
        train: training lines (those with an ``iter`` key), by iteration.
        val: validation lines, by step.
        files: the ``scalars.json`` files read, oldest first.
        val_by_epoch: whether the validation ``step`` counts epochs.
    """

    train: list[dict] = field(default_factory=list)
    val: list[dict] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    val_by_epoch: bool = True

    def train_keys(self) -> list[str]:
        """Plottable keys of the training lines, in first-seen order."""
        return _keys(self.train, AXIS_KEYS)

    def val_keys(self) -> list[str]:
        """Metric keys of the validation lines, in first-seen order."""
        return _keys(self.val, VAL_NON_METRICS)


def _keys(lines: Iterable[dict], skip: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for line in lines:
        for key, value in line.items():
            if key not in skip and _is_number(value):
                seen.setdefault(key, None)
    return list(seen)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def find_scalar_files(work_dir: str | Path) -> list[Path]:
    """The ``scalars.json`` files of a work dir, oldest run first.

    ``work_dir`` may be a work dir (``<work_dir>/*/vis_data/scalars.json``),
    one run's timestamp folder, or a ``scalars.json`` file.

    Raises:
        FileNotFoundError: when there is none.
    """
    path = Path(work_dir)
    if path.is_file():
        return [path]
    if (path / 'vis_data' / 'scalars.json').is_file():
        return [path / 'vis_data' / 'scalars.json']
    files = sorted(path.glob('*/vis_data/scalars.json'), key=lambda p: p.parent.parent.name)
    if not files:
        raise FileNotFoundError(
            f'no mmengine scalar logs under {path} (looked for '
            f'{path}/<timestamp>/vis_data/scalars.json)')
    return files


def read_scalars_file(path: str | Path) -> Scalars:
    """Split one ``scalars.json`` into training and validation lines.

    Raises:
        ValueError: on a line that is not a JSON object (naming the line).
    """
    path = Path(path)
    out = Scalars(files=[path])
    with path.open() as f:
        for number, text in enumerate(f, 1):
            text = text.strip()
            if not text:
                continue
            try:
                line = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f'{path}:{number}: not JSON ({exc.msg})') from exc
            if not isinstance(line, dict):
                raise ValueError(f'{path}:{number}: expected a JSON object, got {text[:60]!r}')
            (out.train if 'iter' in line else out.val).append(line)
    max_epoch = max((line.get('epoch', 0) for line in out.train), default=None)
    if max_epoch is not None and out.val:
        # Metrics logged by epoch have steps no larger than the last epoch.
        out.val_by_epoch = all(line.get('step', 0) <= max_epoch + 1 for line in out.val)
    return out


def _start(run: Scalars) -> tuple[float, float]:
    """(first iteration, first epoch) of a run's training lines."""
    if not run.train:
        return math.inf, math.inf
    first = min(run.train, key=lambda line: line['iter'])
    return float(first['iter']), float(first.get('epoch', math.inf))


def _merge(runs: list[Scalars]) -> Scalars:
    """Concatenate runs (oldest first), keeping from each older run only what
    comes before the next run starts (a resumed run redoes the rest)."""
    out = Scalars(val_by_epoch=all(r.val_by_epoch for r in runs if r.val))
    for i, run in enumerate(runs):
        it_end, ep_end = (math.inf, math.inf) if i + 1 == len(runs) else _start(runs[i + 1])
        out.files.extend(run.files)
        out.train.extend(line for line in run.train if line['iter'] < it_end)
        val_end = ep_end if run.val_by_epoch else it_end
        out.val.extend(line for line in run.val if line.get('step', 0) < val_end)
    return out


def load_scalars(work_dir: str | Path, runs: str = 'auto') -> Scalars:
    """Read the scalar logs of a work dir.

    Args:
        work_dir: a work dir, a run's timestamp folder or a ``scalars.json``.
        runs: 'newest' reads the newest run only; 'all' chains every run,
            oldest first; 'auto' (default) reads the newest run that trained
            and, when it was resumed (its first logged iteration is later than
            an earlier run's), the earlier runs it continues.

    Returns:
        The merged :class:`Scalars`.
    """
    if runs not in RUN_MODES:
        raise ValueError(f'runs must be one of {RUN_MODES}, got {runs!r}')
    all_runs = [read_scalars_file(f) for f in find_scalar_files(work_dir)]
    if runs == 'all':
        return _merge(all_runs)
    if runs == 'newest':
        return _merge(all_runs[-1:])
    trained = [r for r in all_runs if r.train] or all_runs[-1:]
    chain = [trained[-1]]
    first_iter = _start(trained[-1])[0]
    for run in reversed(trained[:-1]):
        start = _start(run)[0]
        if start >= first_iter:
            break
        chain.insert(0, run)
        first_iter = start
    return _merge(chain)


def _series(lines: list[dict], key: str, x_key: str) -> tuple[list[float], list[float]]:
    points = {}
    for line in lines:
        value, x = line.get(key), line.get(x_key)
        if _is_number(value) and _is_number(x) and math.isfinite(value):
            points[x] = value  # a later line at the same x wins
    xs = sorted(points)
    return xs, [points[x] for x in xs]


def plot_curves(work_dir: str | Path, out_file: str | Path | None = None,
                keys: Sequence[str] | None = None, runs: str = 'auto') -> Path:
    """Plot training and validation curves of an mmengine work dir to a PNG.

    One subplot per key: training keys (``loss``, ``lr``, ...) over
    iterations, validation metrics (``coco/AP``, ``PCK``, ...) over epochs
    (or iterations when metrics were logged by iteration).

    Args:
        work_dir: the run's work dir (or a timestamp folder / scalars file).
        out_file: the PNG to write; ``<work_dir>/curves.png`` by default.
        keys: what to plot; by default ``loss`` (when logged) and every
            validation metric. A key found in both kinds of line is plotted
            from the training lines.
        runs: which runs to read, see :func:`load_scalars`.

    Returns:
        The path of the written PNG.

    Raises:
        FileNotFoundError: no scalar logs in ``work_dir``.
        CurveKeyError: an asked-for key is in none of the logs, or there is
            nothing to plot.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    data = load_scalars(work_dir, runs=runs)
    keys = _plot_keys(data, keys)
    ncols = min(3, len(keys))
    nrows = math.ceil(len(keys) / ncols)
    fig = Figure(figsize=(5.0 * ncols, 3.4 * nrows), dpi=100)
    FigureCanvasAgg(fig)
    train_keys = data.train_keys()
    for i, key in enumerate(keys):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        if key in train_keys:
            xs, ys = _series(data.train, key, 'iter')
            ax.plot(xs, ys, linewidth=1.0, color='tab:blue')
            ax.set_xlabel('iteration')
        else:
            _plot_metric(ax, data, key)
        ax.set_title(key, fontsize=10)
        ax.grid(True, alpha=0.3)
    fig.suptitle(str(Path(work_dir)), fontsize=9)
    fig.tight_layout()
    out = Path(out_file) if out_file is not None else (
        Path(work_dir) if Path(work_dir).is_dir() else Path(work_dir).parent) / 'curves.png'
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(str(out), format='png')
    return out


def _plot_keys(data: Scalars, keys: Sequence[str] | None) -> list[str]:
    """The keys to plot: ``keys`` (each checked to be logged), by default
    ``loss`` (when logged) and every validation metric."""
    train_keys, val_keys = data.train_keys(), data.val_keys()
    files = ', '.join(str(f) for f in data.files)
    if keys is None:
        keys = (['loss'] if 'loss' in train_keys else []) + val_keys
        if not keys:
            raise CurveKeyError(
                f'nothing to plot in {files}: no "loss" and no validation metric '
                f'(training keys: {train_keys})')
    keys = list(dict.fromkeys(keys))
    missing = [k for k in keys if k not in train_keys and k not in val_keys]
    if missing:
        raise CurveKeyError(
            f'key(s) {missing} not found in {files}; training keys: {train_keys}; '
            f'validation keys: {val_keys}')
    return keys


def _plot_metric(ax: Any, data: Scalars, key: str) -> None:
    """A validation metric over epochs (or iterations), its maximum annotated."""
    xs, ys = _series(data.val, key, 'step')
    ax.plot(xs, ys, marker='o', markersize=3, linewidth=1.2, color='tab:orange')
    ax.set_xlabel('epoch' if data.val_by_epoch else 'iteration')
    ax.margins(y=0.15)
    if ys:
        best = max(range(len(ys)), key=ys.__getitem__)
        ax.annotate(f'max {ys[best]:.4g}', (xs[best], ys[best]), fontsize=7,
                    textcoords='offset points', xytext=(0, 5), ha='center')
