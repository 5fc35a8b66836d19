"""What keypoint names tell: left/right flip pairs, OKS sigmas and body halves
by part word, and a default colour palette."""
from __future__ import annotations

import colorsys
import re
from typing import Sequence

import numpy as np

from .errors import KeypointMetaError

__all__ = ['COCO_SIGMAS_BY_PART', 'PART_ALIASES', 'DEFAULT_SIGMA', 'UPPER_PARTS', 'LOWER_PARTS',
           'palette', 'derive_flip_pairs', 'side_partners', 'unpaired_sided_names',
           'default_sigmas', 'body_part_ids']

# COCO's per-keypoint OKS sigmas, by part name. Used as the default for
# definitions that give none: a point whose name contains one of these parts
# gets that sigma, any other point gets the COCO mean.
COCO_SIGMAS_BY_PART = {
    'nose': 0.026, 'eye': 0.025, 'ear': 0.035, 'shoulder': 0.079, 'elbow': 0.072,
    'wrist': 0.062, 'hip': 0.107, 'knee': 0.087, 'ankle': 0.089,
}
# Further part words mapped onto the COCO part whose size they resemble.
PART_ALIASES = {
    'head': 'nose', 'snout': 'nose', 'face': 'nose', 'mouth': 'nose', 'chin': 'nose',
    'neck': 'shoulder', 'hand': 'wrist', 'paw': 'wrist', 'foot': 'ankle', 'heel': 'ankle',
    'toe': 'ankle', 'tail': 'hip', 'pelvis': 'hip', 'thorax': 'shoulder',
}
DEFAULT_SIGMA = 0.067  # mean of COCO's 17 sigmas

#: Part words of the upper and of the lower half of a body.
UPPER_PARTS = ('nose', 'eye', 'ear', 'head', 'neck', 'shoulder', 'elbow', 'wrist', 'hand')
LOWER_PARTS = ('hip', 'knee', 'ankle', 'foot', 'heel', 'toe')


def palette(n: int, offset: float = 0.0) -> list[list[int]]:
    """``n`` well separated RGB colours."""
    colours = []
    for i in range(n):
        r, g, b = colorsys.hsv_to_rgb((offset + i * 0.618034) % 1.0, 0.8, 1.0)
        colours.append([int(r * 255), int(g * 255), int(b * 255)])
    return colours



# A side word is a token: at the start, after a separator or at a case change,
# and followed by a separator, a case change or the end. "left"/"right" are
# also accepted glued to a lower-case word at the very start or end of a name
# ("leftear", "earright"), as DeepLabCut projects often write them.
_SIDE_SWAP = {'left': 'right', 'right': 'left', 'l': 'r', 'r': 'l'}
_SEP = r'[_\-\s.]'
_SIDE_TOKEN = re.compile(
    rf'(?:(?<=^)|(?<={_SEP})|(?<=[a-z0-9])(?=[A-Z]))'
    rf'(left|right|Left|Right|LEFT|RIGHT|l|r|L|R)'
    rf'(?=$|{_SEP}|[A-Z0-9](?![A-Z]))')
_GLUED = re.compile(r'^(left|right)(?=[a-z])|(?<=[a-z])(left|right)$')


def _swap_case_like(word: str, template: str) -> str:
    if template.isupper():
        return word.upper()
    if template[0].isupper():
        return word.capitalize()
    return word


def side_partners(name: str) -> list[str]:
    """Every name obtained by swapping one left/right word of ``name``."""
    out = []
    for regex in (_SIDE_TOKEN, _GLUED):
        for m in regex.finditer(name):
            side = m.group(m.lastindex)
            start, end = m.span(m.lastindex)
            other = _swap_case_like(_SIDE_SWAP[side.lower()], side)
            out.append(name[:start] + other + name[end:])
    return out


def derive_flip_pairs(names: Sequence[str]) -> list[list[int]]:
    """Pair points whose names differ only by a left/right word.

    Recognised forms: ``left_hand``/``right_hand``, ``l_hand``/``r_hand``,
    ``LHand``/``RHand``, ``hand_L``/``hand_R``, ``leftear``/``rightear``,
    ``front_left_paw``/``front_right_paw``.

    Returns:
        0-based ``[[a, b], ...]`` pairs, ``a < b``, sorted.

    Raises:
        KeypointMetaError: if a point would pair with two others.
    """
    index = {n: i for i, n in enumerate(names)}
    partner: dict[int, int] = {}
    for i, name in enumerate(names):
        for candidate in side_partners(name):
            j = index.get(candidate)
            if j is None or j == i:
                continue
            if partner.get(i, j) != j:
                raise KeypointMetaError(
                    f'cannot derive flip pairs: {name!r} matches both '
                    f'{names[partner[i]]!r} and {names[j]!r}')
            partner[i] = j
    return sorted([i, j] for i, j in partner.items() if i < j and partner.get(j) == i)


def unpaired_sided_names(names: Sequence[str], flip_pairs: Sequence[Sequence[int]]) -> list[str]:
    """The names that carry a left/right word (as :func:`derive_flip_pairs`
    reads them) but are in no flip pair, e.g. ``paw1LH`` whose partner is
    spelt ``paw4RH``: a horizontal flip keeps their labels."""
    paired = {int(i) for pair in flip_pairs for i in pair}
    return [n for i, n in enumerate(names) if i not in paired and side_partners(n)]


def default_sigmas(names: Sequence[str]) -> np.ndarray:
    """OKS sigmas for a definition that gives none, from COCO by part name."""
    out = []
    for name in names:
        low = name.lower()
        sigma = DEFAULT_SIGMA
        for part, value in COCO_SIGMAS_BY_PART.items():
            if part in low:
                sigma = value
                break
        else:
            for alias, part in PART_ALIASES.items():
                if alias in low:
                    sigma = COCO_SIGMAS_BY_PART[part]
                    break
        out.append(sigma)
    return np.asarray(out, dtype=np.float32)


def body_part_ids(names: Sequence[str]) -> tuple[list[int], list[int]]:
    """Upper- and lower-body point indices from part words in the names
    (head, shoulder, ... / hip, knee, ...)."""
    upper = [i for i, n in enumerate(names) if any(p in n.lower() for p in UPPER_PARTS)]
    lower = [i for i, n in enumerate(names) if any(p in n.lower() for p in LOWER_PARTS)]
    return upper, lower
