"""The COCO ``categories`` entry of a converted dataset."""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from ..meta import KeypointMeta, KeypointMetaError, derive_flip_pairs
from .common import ConversionError

__all__ = ['make_category', 'skeleton_from_names', 'keypoint_categories', 'single_keypoint_category']


def make_category(name: str, keypoint_names: Sequence[str],
                  skeleton: Sequence[Sequence[int]] = (),
                  supercategory: str | None = None,
                  flip_pairs: Sequence[Sequence[int]] | None = None,
                  source: str = 'converter') -> dict:
    """A COCO ``categories`` entry (id 1), validated.

    Args:
        name: category name (becomes the dataset name of the keypoint meta).
        keypoint_names: the K point names.
        skeleton: 0-based links (written 1-based, as COCO does).
        supercategory: defaults to ``name``.
        flip_pairs: 0-based pairs; ``None`` derives them from left/right
            words in the names (:func:`customkpt.meta.derive_flip_pairs`).
        source: what to name in error messages.

    Raises:
        ConversionError: duplicate names, bad links or ambiguous pairs.
    """
    names = [str(n) for n in keypoint_names]
    try:
        pairs = derive_flip_pairs(names) if flip_pairs is None else [
            [int(a), int(b)] for a, b in flip_pairs]
        KeypointMeta(keypoint_names=names, skeleton=[list(map(int, p)) for p in skeleton],
                     flip_pairs=pairs, dataset_name=name, source=source)
    except KeypointMetaError as exc:
        raise ConversionError(str(exc)) from exc
    return {
        'id': 1, 'name': name, 'supercategory': supercategory or name,
        'keypoints': names,
        'skeleton': [[int(a) + 1, int(b) + 1] for a, b in skeleton],
        'flip_pairs': pairs,
    }


def skeleton_from_names(links: Iterable[Sequence[str]], names: Sequence[str]
                        ) -> tuple[list[list[int]], list[list[str]]]:
    """0-based links from pairs of names; also the links naming unknown points."""
    index = {n: i for i, n in enumerate(names)}
    out, unknown = [], []
    for link in links or ():
        if len(link) != 2:
            unknown.append(list(link))
            continue
        a, b = (str(v) for v in link)
        if a in index and b in index and a != b:
            pair = [index[a], index[b]]
            if pair not in out and pair[::-1] not in out:
                out.append(pair)
        else:
            unknown.append([a, b])
    return out, unknown


def keypoint_categories(coco: Mapping[str, Any]) -> list[dict]:
    """The entries of a COCO dict's ``categories`` that list ``keypoints``."""
    return [c for c in coco.get('categories') or []
            if isinstance(c, Mapping) and c.get('keypoints')]


def single_keypoint_category(coco: Mapping[str, Any], source: str, why: str = '') -> dict:
    """The one category of ``coco`` that lists keypoints.

    Args:
        coco: a COCO-keypoint dict.
        source: what to name in the error (the file).
        why: appended to the error, e.g. what needs a single definition.

    Raises:
        ConversionError: none or several categories list keypoints.
    """
    cats = keypoint_categories(coco)
    if len(cats) != 1:
        raise ConversionError(f'{source}: field "categories": expected one keypoint category, '
                              f'found {len(cats)} keypoint categories '
                              f'{[c.get("name") for c in cats]}{why}')
    return cats[0]
