"""What labelling tools say about their keypoints beyond the names: mirror
tables and which of several labels (categories, skeletons) to convert.

A :class:`~customkpt.converters.builder.CocoBuilder` holds one category, so a
file labelling two kinds of object (two CVAT skeletons, two Label Studio
rectangle labels, two SLEAP skeletons) is converted one label at a time:
:func:`pick_label` chooses it and names the alternatives when the choice is
not clear.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from .common import ConversionError

__all__ = ['pairs_from_swaps', 'pick_label']


def pairs_from_swaps(names: Sequence[str], swaps: Sequence[str | None], where: str
                     ) -> list[list[int]]:
    """0-based flip pairs from a per-point table of mirror names.

    Args:
        names: the K point names.
        swaps: for each point, the name of its mirror point, or ``''`` /
            ``None`` for a point on the midline.
        where: the table, for messages (file and column).

    Returns:
        ``[[a, b], ...]`` with ``a < b``, in order of ``a``.

    Raises:
        ConversionError: a mirror name that is no point, a point named as its
            own mirror, or a table that is not symmetric (``a`` names ``b``
            but ``b`` names another point or none), naming the points.
    """
    index = {str(n): i for i, n in enumerate(names)}
    partner: dict[int, int] = {}
    for i, swap in enumerate(swaps):
        swap = '' if swap is None else str(swap).strip()
        if not swap:
            continue
        if swap not in index:
            raise ConversionError(f'{where}: point {names[i]!r} swaps with {swap!r}, which is '
                                  f'not a point; points: {list(names)}')
        if index[swap] == i:
            raise ConversionError(f'{where}: point {names[i]!r} names itself as its mirror '
                                  '(leave the swap empty for a point on the midline)')
        partner[i] = index[swap]
    for i, j in partner.items():
        back = partner.get(j)
        if back != i:
            says = f'swaps with {names[back]!r}' if back is not None else 'has no swap'
            raise ConversionError(
                f'{where}: the swap table is not symmetric: {names[i]!r} swaps with '
                f'{names[j]!r}, but {names[j]!r} {says}')
    return [[i, j] for i, j in sorted(partner.items()) if i < j]


def pick_label(counts: Mapping[str, int], label: str | None, where: str,
               what: str = 'label') -> str:
    """The one label (category, skeleton) to convert.

    Args:
        counts: label -> number of instances, in the order to list them.
        label: the label asked for, or ``None`` to take the only one.
        where: the source file, for messages.
        what: what a label is called in this tool ('skeleton', 'category').

    Raises:
        ConversionError: no labels, an unknown ``label``, or several labels
            and none asked for; the message lists the labels and their
            instance counts.
    """
    listed = ', '.join(f'{name!r} ({n} instance{"s" if n != 1 else ""})'
                       for name, n in counts.items())
    if label is not None:
        if label not in counts:
            raise ConversionError(f'{where}: no {what} {label!r}; found: {listed or "none"}')
        return label
    if not counts:
        raise ConversionError(f'{where}: no annotated instances found')
    if len(counts) > 1:
        raise ConversionError(
            f'{where}: several {what}s with keypoints: {listed}; a converted dataset holds one '
            f'category, so convert them one at a time with --label NAME')
    return next(iter(counts))
