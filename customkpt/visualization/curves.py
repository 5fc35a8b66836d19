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
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from customkpt.core.run_logs import RUN_MODES

from .panels import SINGLE_SHEET_MAX, PanelPlan, Sheet, plan_panels

#: Keys of training lines that are axes, not curves.
AXIS_KEYS = ('step', 'iter', 'epoch')
#: Keys of validation lines that are bookkeeping, not metrics.
VAL_NON_METRICS = ('step', 'iter', 'epoch', 'time', 'data_time')

logger = logging.getLogger(__name__)


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


def _key_series(data: Scalars, key: str, train_keys: Sequence[str]
                ) -> tuple[list[float], list[float]]:
    """A key's (xs, ys): over iterations for training keys, else over steps."""
    if key in train_keys:
        return _series(data.train, key, 'iter')
    return _series(data.val, key, 'step')


def plan_curves(data: Scalars, keys: Sequence[str] | None = None) -> PanelPlan:
    """The panels and sheets :func:`plot_curve_sheets` draws for ``data``.

    Raises:
        CurveKeyError: an asked-for key is in none of the logs, or nothing
            is left to plot once keys that are -1 or NaN throughout are skipped.
    """
    keys = _plot_keys(data, keys)
    train_keys = data.train_keys()
    values = {key: _key_series(data, key, train_keys)[1] for key in keys}
    plan = plan_panels(keys, train_keys, values)
    if not plan.sheets:
        raise CurveKeyError(f'nothing to plot: {plan.skipped} are -1 or NaN throughout')
    return plan


def sheet_paths(plan: PanelPlan, out_file: str | Path) -> list[Path]:
    """Where each sheet goes: the first to ``out_file``, the others beside
    it as ``<stem>_<sheet name><suffix>``."""
    out = Path(out_file)
    return [out] + [out.with_name(f'{out.stem}_{sheet.name}{out.suffix}')
                    for sheet in plan.sheets[1:]]


def plot_curve_sheets(work_dir: str | Path, out_file: str | Path | None = None,
                      keys: Sequence[str] | None = None, runs: str = 'auto'
                      ) -> tuple[list[Path], PanelPlan]:
    """Plot training and validation curves of an mmengine work dir to PNGs.

    One panel per key: training keys (``loss``, ``lr``, ...) over
    iterations, validation metrics (``coco/AP``, ``PCK``, ...) over epochs
    (or iterations when metrics were logged by iteration), their best value
    marked ('min' for EPE, losses and errors, else 'max'). Keys that are -1
    or NaN throughout are skipped (and logged). Up to
    :data:`~customkpt.visualization.panels.SINGLE_SHEET_MAX` panels share one
    figure; more are grouped into one figure per group (training, COCO AP/AR,
    PCK/AUC/EPE, per-keypoint), see :func:`sheet_paths` for the file names.

    Args:
        work_dir: the run's work dir (or a timestamp folder / scalars file).
        out_file: the first PNG to write; ``<work_dir>/curves.png`` by default.
        keys: what to plot; by default ``loss`` (when logged) and every
            validation metric. A key found in both kinds of line is plotted
            from the training lines.
        runs: which runs to read, see :func:`load_scalars`.

    Returns:
        The written PNGs and the plan they were drawn from.

    Raises:
        FileNotFoundError: no scalar logs in ``work_dir``.
        CurveKeyError: an asked-for key is in none of the logs, or there is
            nothing to plot.
    """
    data = load_scalars(work_dir, runs=runs)
    plan = plan_curves(data, keys)
    for key in plan.skipped:
        logger.info('curves: skipped %r (-1 or NaN throughout)', key)
    out = Path(out_file) if out_file is not None else (
        Path(work_dir) if Path(work_dir).is_dir() else Path(work_dir).parent) / 'curves.png'
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = sheet_paths(plan, out)
    train_keys = data.train_keys()
    for sheet, path in zip(plan.sheets, paths):
        title = str(Path(work_dir)) + (f' - {sheet.title}' if sheet.title else '')
        _draw_sheet(data, sheet, train_keys, title, path)
    return paths, plan


def plot_curves(work_dir: str | Path, out_file: str | Path | None = None,
                keys: Sequence[str] | None = None, runs: str = 'auto') -> Path:
    """:func:`plot_curve_sheets`, returning the first PNG only."""
    return plot_curve_sheets(work_dir, out_file, keys=keys, runs=runs)[0][0]


def _draw_sheet(data: Scalars, sheet: Sheet, train_keys: Sequence[str], title: str,
                path: Path) -> None:
    """One figure of ``sheet``'s panels, written to ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    count = len(sheet.panels)
    ncols = min(3 if count <= SINGLE_SHEET_MAX else 4, count)
    nrows = math.ceil(count / ncols)
    # Constrained layout keeps the title, labels and panels apart.
    fig = Figure(figsize=(4.6 * ncols, 3.2 * nrows + 0.4), dpi=100, layout='constrained')
    FigureCanvasAgg(fig)
    for i, panel in enumerate(sheet.panels):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        xs, ys = _key_series(data, panel.key, train_keys)
        if panel.source == 'train':
            ax.plot(xs, ys, linewidth=1.0, color='tab:blue')
            ax.set_xlabel('iteration')
        else:
            _plot_metric(ax, xs, ys, panel.best, data.val_by_epoch)
        ax.set_title(panel.key, fontsize=10)
        ax.grid(True, alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.savefig(str(path), format='png')


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


def _plot_metric(ax: Any, xs: list[float], ys: list[float], best: str | None,
                 by_epoch: bool) -> None:
    """A validation metric over epochs (or iterations), its best value
    (``best``: 'max' or 'min') annotated."""
    ax.plot(xs, ys, marker='o', markersize=3, linewidth=1.2, color='tab:orange')
    ax.set_xlabel('epoch' if by_epoch else 'iteration')
    ax.margins(y=0.15)
    if ys and best:
        pick = min if best == 'min' else max
        i = pick(range(len(ys)), key=ys.__getitem__)
        # Text at either end of the curve leans inward, to stay inside the axes.
        align = 'right' if i == len(ys) - 1 else 'left' if i == 0 else 'center'
        ax.annotate(f'{best} {ys[i]:.4g}', (xs[i], ys[i]), fontsize=7,
                    textcoords='offset points', xytext=(0, -11 if best == 'min' else 5),
                    ha='center' if len(ys) == 1 else align)
