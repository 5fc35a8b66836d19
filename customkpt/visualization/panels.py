"""Which curve panels to draw, and on which sheet.

:func:`plan_panels` decides, without drawing anything, what the curve plot
shows: one :class:`Panel` per logged key with a value worth drawing, the
direction in which each metric improves (its best value is marked), and the
sheets (figures) the panels are grouped on. Keys whose values are all -1
(e.g. COCO ``AP (M)`` when no medium-sized instance exists) or all NaN are
left out and listed in :attr:`PanelPlan.skipped`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

#: Substrings (lower case) of metric names where lower is better.
LOWER_IS_BETTER = ('epe', 'loss', 'err', 'nme')
#: Up to this many panels go on a single sheet; more are grouped.
SINGLE_SHEET_MAX = 9
#: Most panels on one sheet; a larger group is split over several sheets.
SHEET_MAX = 12
#: Group name -> (file suffix, sheet title), in sheet order.
GROUPS = {
    'training': ('training', 'training: losses and learning rate'),
    'coco': ('coco', 'COCO AP / AR'),
    'metrics': ('metrics', 'PCK / AUC / EPE'),
    'per-keypoint': ('per_keypoint', 'per-keypoint metrics'),
}
#: Value that metrics report when they are undefined (COCO AP/AR of a size
#: range without instances).
UNDEFINED = -1.0


@dataclass(frozen=True)
class Panel:
    """One subplot.

    Attributes:
        key: the logged key (also the panel title).
        source: 'train' (over iterations) or 'val' (over validation steps).
        best: 'max' or 'min' to mark the best value of a validation metric,
            None for training curves.
        group: a key of :data:`GROUPS`.
    """

    key: str
    source: str
    best: str | None
    group: str


@dataclass
class Sheet:
    """The panels of one figure.

    Attributes:
        name: file suffix ('' for the only sheet, else from :data:`GROUPS`,
            with ``_2``, ``_3``, ... when a group takes several sheets).
        title: the figure title.
        panels: the panels, in drawing order.
    """

    name: str
    title: str
    panels: list[Panel] = field(default_factory=list)


@dataclass
class PanelPlan:
    """What to draw.

    Attributes:
        sheets: the figures, in order.
        skipped: keys left out because their values are all -1 or all NaN.
    """

    sheets: list[Sheet]
    skipped: list[str]

    @property
    def panels(self) -> list[Panel]:
        """Every panel, sheet after sheet."""
        return [p for sheet in self.sheets for p in sheet.panels]


def metric_name(key: str, keys: Sequence[str]) -> str:
    """The metric a key measures: ``PCK`` for the per-keypoint ``PCK/nose``
    (when ``PCK`` is logged too), else the key itself."""
    head, sep, _ = key.partition('/')
    return head if sep and head in keys else key


def is_per_keypoint(key: str, keys: Sequence[str]) -> bool:
    """Whether ``key`` is ``<metric>/<keypoint>`` of a logged ``<metric>``."""
    return metric_name(key, keys) != key


def best_direction(key: str, keys: Sequence[str] = ()) -> str:
    """'min' for metrics where lower is better (EPE, losses, errors), else 'max'."""
    name = metric_name(key, keys).lower()
    return 'min' if any(word in name for word in LOWER_IS_BETTER) else 'max'


def group_of(key: str, source: str, keys: Sequence[str]) -> str:
    """The group (a key of :data:`GROUPS`) a panel belongs to."""
    if source == 'train':
        return 'training'
    if is_per_keypoint(key, keys):
        return 'per-keypoint'
    tail = key.rpartition('/')[2]
    if '/' in key and tail[:2] in ('AP', 'AR'):
        return 'coco'
    return 'metrics'


def is_undefined(values: Sequence[float]) -> bool:
    """True when no value is finite, or every value is -1."""
    finite = [v for v in values if math.isfinite(v)]
    return not finite or all(v == UNDEFINED for v in finite)


def plan_panels(keys: Sequence[str], train_keys: Sequence[str],
                values: Mapping[str, Sequence[float]]) -> PanelPlan:
    """Decide the panels and sheets of a curve plot.

    Args:
        keys: the keys to plot, in order (training and validation keys).
        train_keys: the keys plotted from training lines (a key in both kinds
            of line counts as a training key).
        values: each key's logged values (any order; NaN allowed).

    Returns:
        The plan: one sheet when there are at most :data:`SINGLE_SHEET_MAX`
        panels, else one sheet per group (split after :data:`SHEET_MAX`).
    """
    every = list(keys)
    panels: list[Panel] = []
    skipped: list[str] = []
    for key in every:
        if is_undefined(values.get(key, ())):
            skipped.append(key)
            continue
        source = 'train' if key in train_keys else 'val'
        best = None if source == 'train' else best_direction(key, every)
        panels.append(Panel(key, source, best, group_of(key, source, every)))
    if len(panels) <= SINGLE_SHEET_MAX:
        sheets = [Sheet('', '', panels)] if panels else []
        return PanelPlan(sheets, skipped)
    return PanelPlan(_group_sheets(panels), skipped)


def _group_sheets(panels: Sequence[Panel]) -> list[Sheet]:
    """One sheet per group, in :data:`GROUPS` order, each at most
    :data:`SHEET_MAX` panels."""
    sheets = []
    for group, (suffix, title) in GROUPS.items():
        members = [p for p in panels if p.group == group]
        parts = math.ceil(len(members) / SHEET_MAX)
        for part in range(parts):
            chunk = members[part * SHEET_MAX:(part + 1) * SHEET_MAX]
            name = suffix if part == 0 else f'{suffix}_{part + 1}'
            label = title if parts == 1 else f'{title} ({part + 1}/{parts})'
            sheets.append(Sheet(name, label, chunk))
    return sheets
