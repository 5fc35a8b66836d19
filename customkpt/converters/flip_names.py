"""Flip pairs of a converted definition from its names, never a wrong pair.

:func:`customkpt.meta.derive_flip_pairs` pairs names that differ only by a
left/right word. Converters whose sources name points freely use
:func:`flip_pairs_from_names`: names that make the derivation ambiguous give
no pairs at all, and names that mark a side but have no partner (DeepLabCut's
``paw1LH`` / ``paw4RH``: the number differs too) get none; both are said in
notes for the summary, with the pairs the names suggest when they do.
"""
from __future__ import annotations

import re
from typing import Sequence

from ..meta import KeypointMetaError, derive_flip_pairs, side_partners

__all__ = ['flip_pairs_from_names', 'unpaired_side_points', 'unpaired_side_note']

_DIGITS = re.compile(r'\d+')


def _suggested_pairs(names: Sequence[str], unpaired: Sequence[int]) -> list[tuple[int, int]]:
    """Pairs among ``unpaired`` whose names are equal once one side word is
    swapped and digits are ignored, where that match is unique both ways."""
    unpaired_set = set(unpaired)
    key = {i: _DIGITS.sub('', names[i]) for i in unpaired}
    match: dict[int, set[int]] = {}
    for i in unpaired:
        wanted = {_DIGITS.sub('', s) for s in side_partners(names[i])}
        match[i] = {j for j in unpaired_set - {i} if key[j] in wanted}
    return sorted((i, j) for i, js in match.items() for j in js
                  if i < j and len(js) == 1 and match.get(j) == {i})


def flip_pairs_from_names(names: Sequence[str]) -> tuple[list[list[int]], list[str]]:
    """The flip pairs the names give, and notes on those they cannot.

    Args:
        names: the K keypoint names.

    Returns:
        0-based ``[[a, b], ...]`` pairs (``[]`` when the names are
        ambiguous), and remarks for the conversion summary.
    """
    names = [str(n) for n in names]
    try:
        pairs = derive_flip_pairs(names)
    except KeypointMetaError as exc:
        return [], [f'no flip pairs derived: {exc}; set flip_pairs (0-based) in the '
                    "config's metainfo"]
    note = unpaired_side_note(names, pairs)
    return pairs, [note] if note else []


def unpaired_side_points(names: Sequence[str], pairs: Sequence[Sequence[int]]) -> list[int]:
    """Indices of the names that mark a left/right side but are in none of
    ``pairs``: the points a horizontal flip leaves on the wrong side."""
    paired = {int(i) for pair in pairs for i in pair}
    return [i for i, n in enumerate(names) if i not in paired and side_partners(str(n))]


def unpaired_side_note(names: Sequence[str], pairs: Sequence[Sequence[int]],
                       where: str = "the config's metainfo") -> str | None:
    """What a horizontal flip does to the names that mark a side but are in
    none of ``pairs`` (it keeps their labels), with the pairs their names
    suggest; ``None`` when every such name is paired.

    Args:
        names: the K keypoint names.
        pairs: the definition's 0-based flip pairs.
        where: where the note tells the user to set ``flip_pairs``.
    """
    names = [str(n) for n in names]
    unpaired = unpaired_side_points(names, pairs)
    if not unpaired:
        return None
    note = (f'{len(unpaired)} names mark a side but no other name differs from them only by '
            f'the side word, so they have no flip pair and a horizontal flip keeps their '
            f'labels: {[names[i] for i in unpaired]}')
    suggested = _suggested_pairs(names, unpaired)
    if suggested:
        note += (f'; if these mirror each other, set flip_pairs in {where}: '
                 + ', '.join(f'{names[a]}<->{names[b]}' for a, b in suggested)
                 + f' = {[list(p) for p in suggested]}')
    return note
