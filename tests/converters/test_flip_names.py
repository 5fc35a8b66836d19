"""Flip pairs from names, and the points named for a side that have none."""
from __future__ import annotations

from customkpt.converters.flip_names import (flip_pairs_from_names, unpaired_side_note,
                                             unpaired_side_points)

#: DeepLabCut-style paws: the number differs with the side, so no name pairs.
PAWS = ['paw1LH', 'paw2LF', 'paw3RF', 'paw4RH', 'nose', 'left_ear', 'right_ear']


def test_unpaired_side_points_are_the_sided_names_outside_every_pair():
    assert unpaired_side_points(PAWS, [[5, 6]]) == [0, 1, 2, 3]
    assert unpaired_side_points(PAWS, [[0, 3], [1, 2], [5, 6]]) == []
    assert unpaired_side_points(['nose', 'tail'], []) == []


def test_the_names_pair_the_ears_and_suggest_the_paws():
    pairs, notes = flip_pairs_from_names(PAWS)
    assert pairs == [[5, 6]]
    note, = notes
    assert note == unpaired_side_note(PAWS, pairs)
    assert "keeps their labels: ['paw1LH', 'paw2LF', 'paw3RF', 'paw4RH']" in note
    assert note.endswith('paw1LH<->paw4RH, paw2LF<->paw3RF = [[0, 3], [1, 2]]')
    assert unpaired_side_note(PAWS, [[0, 3], [1, 2], [5, 6]]) is None
