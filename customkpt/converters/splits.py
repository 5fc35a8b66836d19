"""Dividing a converted dataset into train and val, writing it and reporting it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .builder import ConversionResult
from .common import ConversionError, natural_key, write_json

__all__ = ['DEFAULT_VAL_FRACTION', 'SPLIT_MODES', 'SplitSpec', 'SplitOutcome', 'split_image_ids',
           'subset', 'write_splits', 'format_summary']

#: Default fraction of the images that go to validation.
DEFAULT_VAL_FRACTION = 0.15

SPLIT_MODES = ('random', 'group', 'every', 'none')


# ----------------------------------------------------------------------- split
@dataclass(frozen=True)
class SplitSpec:
    """How images are divided into train and val.

    Modes:

    * ``random``: a seeded shuffle of the images; ``round(n * val_fraction)``
      of them go to val (at least 1 and at most n - 1 when 0 < fraction < 1
      and n >= 2).
    * ``group``: whole groups (the image field ``group_key``: ``folder`` or
      ``video``) go to one side. Groups are shuffled with the seed and moved
      to val one by one until val holds at least ``val_fraction`` of the
      images; train always keeps at least one group.
    * ``every``: in image-id order, positions 0, N, 2N, ... go to val
      (ids 1, N + 1, 2N + 1, ... with the converters' numbering).
    * ``none``: no split; one file ``all.json``.
    """

    mode: str = 'random'
    val_fraction: float = DEFAULT_VAL_FRACTION
    seed: int = 0
    group_key: str = 'folder'
    every: int = 0

    def __post_init__(self) -> None:
        if self.mode not in SPLIT_MODES:
            raise ConversionError(f'split mode must be one of {SPLIT_MODES}, got {self.mode!r}')
        if self.mode in ('random', 'group') and not 0.0 <= self.val_fraction <= 1.0:
            raise ConversionError(f'val fraction must be in [0, 1], got {self.val_fraction}')
        if self.mode == 'every' and int(self.every) < 2:
            raise ConversionError(f'--val-every needs N >= 2, got {self.every}')
        if self.mode == 'group' and self.group_key not in ('folder', 'video'):
            raise ConversionError(f'split-by must be folder or video, got {self.group_key!r}')

    def describe(self) -> str:
        """One line for the summary."""
        if self.mode == 'random':
            return f'random images, val fraction {self.val_fraction}, seed {self.seed}'
        if self.mode == 'group':
            return (f'by {self.group_key}, val fraction {self.val_fraction}, '
                    f'seed {self.seed}')
        if self.mode == 'every':
            return f'every {self.every}th image by id to val (ids 1, {self.every + 1}, ...)'
        return 'no split'


def split_image_ids(images: Sequence[Mapping[str, Any]], spec: SplitSpec
                    ) -> tuple[list[int], list[int]]:
    """``(train_ids, val_ids)``, each sorted by id.

    Raises:
        ConversionError: group split without the group field or with fewer
            than two groups.
    """
    ids = sorted(int(img['id']) for img in images)
    n = len(ids)
    if spec.mode == 'none':
        return ids, []
    if spec.mode == 'every':
        val = set(ids[::int(spec.every)])
    elif spec.mode == 'random':
        n_val = int(round(n * spec.val_fraction))
        if 0 < spec.val_fraction < 1 and n >= 2:
            n_val = min(max(n_val, 1), n - 1)
        order = np.random.default_rng(spec.seed).permutation(n)
        val = {ids[i] for i in order[:n_val]}
    else:
        groups: dict[str, list[int]] = {}
        for img in images:
            if img.get(spec.group_key) is None:
                raise ConversionError(
                    f'cannot split by {spec.group_key}: image {img["file_name"]!r} has no '
                    f'{spec.group_key!r} field (this format does not record it); use '
                    '--val-fraction or --val-every')
            groups.setdefault(str(img[spec.group_key]), []).append(int(img['id']))
        names = sorted(groups, key=natural_key)
        if len(names) < 2:
            raise ConversionError(
                f'cannot split by {spec.group_key}: all images are in one '
                f'{spec.group_key} ({names[0]!r} if any); use --val-fraction or --val-every')
        order = np.random.default_rng(spec.seed).permutation(len(names))
        target = n * spec.val_fraction
        val = set()
        for pos in order[:-1]:  # the last group always stays in train
            if len(val) >= target or spec.val_fraction == 0:
                break
            val.update(groups[names[pos]])
    return [i for i in ids if i not in val], [i for i in ids if i in val]


def subset(coco: Mapping[str, Any], image_ids: Iterable[int]) -> dict:
    """The images with these ids and their annotations (ids kept)."""
    keep = set(int(i) for i in image_ids)
    return {'images': [img for img in coco['images'] if img['id'] in keep],
            'annotations': [a for a in coco['annotations'] if a['image_id'] in keep],
            'categories': list(coco['categories'])}



@dataclass
class SplitOutcome:
    """Files written by :func:`write_splits`.

    Attributes:
        paths: split name (``train``, ``val`` or ``all``) -> json path.
        images: split name -> number of images.
        instances: split name -> number of annotations.
    """

    paths: dict[str, Path]
    images: dict[str, int]
    instances: dict[str, int]


def write_splits(result: ConversionResult, out_dir: str | Path,
                 spec: SplitSpec = SplitSpec()) -> SplitOutcome:
    """Write ``train.json`` and ``val.json`` (or ``all.json`` for mode
    ``none``) into ``out_dir``."""
    out_dir = Path(out_dir)
    train, val = split_image_ids(result.coco['images'], spec)
    parts = {'all': train} if spec.mode == 'none' else {'train': train, 'val': val}
    outcome = SplitOutcome({}, {}, {})
    for name, ids in parts.items():
        sub = subset(result.coco, ids)
        outcome.paths[name] = write_json(sub, out_dir / f'{name}.json')
        outcome.images[name] = len(sub['images'])
        outcome.instances[name] = len(sub['annotations'])
    return outcome


def format_summary(result: ConversionResult, outcome: SplitOutcome | None = None,
                   spec: SplitSpec | None = None) -> str:
    """A human-readable report of a conversion (and its split)."""
    st = result.stats
    lines = [f'format: {result.format}',
             f'images: {st.num_images}',
             f'instances: {st.num_instances}',
             f'skipped instances: {st.num_skipped}'
             + (' (' + ', '.join(f'{r}: {c}' for r, c in st.skipped.items()) + ')'
                if st.skipped else '')]
    width = max(len(n) for n in result.keypoint_names)
    lines.append('labelled points per keypoint:')
    for name, count in zip(result.keypoint_names, st.labelled_per_keypoint):
        lines.append(f'  {name:<{width}}  {count}')
    flip = result.coco['categories'][0].get('flip_pairs') or []
    if flip:
        names = result.keypoint_names
        lines.append('flip pairs: ' + ', '.join(f'{names[a]}<->{names[b]}' for a, b in flip))
    if st.points_outside:
        lines.append(f'labelled points outside their image (kept): {st.points_outside}')
    if outcome is not None:
        if spec is not None:
            lines.append(f'split: {spec.describe()}')
        for name, path in outcome.paths.items():
            lines.append(f'  {name}: {outcome.images[name]} images, '
                         f'{outcome.instances[name]} instances -> {path}')
    lines.append(f'image root (file_name is relative to it; set data_root or '
                 f'data_prefix.img to it): {result.image_root}')
    for note in st.summary_notes():
        lines.append(f'note: {note}')
    return '\n'.join(lines)
