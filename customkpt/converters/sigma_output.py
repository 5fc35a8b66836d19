"""Writing estimated OKS sigmas where customkpt reads them.

Two targets:

* an annotation file: a copy of a COCO-keypoint json whose keypoint
  category gets a ``sigmas`` list (K floats, in the category's point
  order); :meth:`customkpt.meta.KeypointMeta.from_coco_category` reads it,
  so a dataset on the copy evaluates with these sigmas unless its config's
  ``metainfo`` sets others;
* a metainfo file (``.py``, ``.json`` or ``.yaml``): the whole keypoint
  definition (``KeypointMeta.to_dict()`` keys) with the new sigmas, for
  ``metainfo=PATH`` (``from_file``) in a config.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..meta import KeypointMeta, KeypointMetaError
from .common import ConversionError, read_json, write_json
from .label_sets import keypoint_category

__all__ = ['OUTPUT_FORMATS', 'METAINFO_SUFFIXES', 'output_format', 'final_sigmas',
           'annotations_with_sigmas', 'write_metainfo', 'write_sigmas']

#: ``auto`` picks by suffix: ``.json`` -> annotations, others -> metainfo.
OUTPUT_FORMATS = ('auto', 'annotations', 'metainfo')
#: The metainfo file types :func:`customkpt.meta.sources.read_metainfo_file` reads.
METAINFO_SUFFIXES = ('.py', '.json', '.yaml', '.yml')
#: Decimals written (as ``KeypointMeta.to_dict``).
DECIMALS = 6


def output_format(out: str | Path, fmt: str = 'auto') -> str:
    """``'annotations'`` or ``'metainfo'``: ``fmt``, or for ``'auto'`` the
    one ``out``'s suffix implies."""
    if fmt not in OUTPUT_FORMATS:
        raise ConversionError(f'output format must be one of {OUTPUT_FORMATS}, got {fmt!r}')
    suffix = Path(out).suffix.lower()
    if fmt == 'annotations' and suffix != '.json':
        raise ConversionError(f'{out}: an annotation file is written as .json')
    if fmt != 'annotations' and suffix not in METAINFO_SUFFIXES:
        raise ConversionError(f'{out}: a metainfo file is one of {METAINFO_SUFFIXES}')
    if fmt == 'auto':
        return 'annotations' if suffix == '.json' else 'metainfo'
    return fmt


def final_sigmas(estimated: np.ndarray, base: np.ndarray,
                 names: Sequence[str]) -> tuple[list[float], list[str]]:
    """The sigmas to write: the estimates, and ``base`` where a point has no
    estimate (NaN).

    Returns:
        (K rounded sigmas, names of the points that kept their ``base`` value).

    Raises:
        ConversionError: an estimate is 0 (to the written precision): every
            label of that point agrees exactly.
    """
    estimated = np.asarray(estimated, dtype=np.float64).reshape(-1)
    base = np.asarray(base, dtype=np.float64).reshape(-1)
    zero = [n for n, s in zip(names, estimated) if np.isfinite(s) and round(s, DECIMALS) <= 0]
    if zero:
        raise ConversionError(f'the estimated sigma of {zero} is 0: all their labels agree '
                              'exactly (are the label files copies of one another?)')
    kept = [n for n, s in zip(names, estimated) if not np.isfinite(s)]
    values = np.where(np.isfinite(estimated), estimated, base)
    return [round(float(s), DECIMALS) for s in values], kept


def annotations_with_sigmas(data: dict, path: Path, sigmas: Sequence[float],
                            names: Sequence[str], category_id: int | None = None) -> dict:
    """A copy of the COCO dict ``data`` (read from ``path``) whose keypoint
    category holds ``sigmas``; its point names must be ``names``."""
    out = dict(data)
    out['categories'] = [dict(c) if isinstance(c, dict) else c
                         for c in data.get('categories') or []]
    chosen = keypoint_category(out, path, category_id)
    if list(chosen['keypoints']) != list(names):
        raise ConversionError(f'{path}: its category lists the points {chosen["keypoints"]}, '
                              f'the sigmas are for {list(names)}')
    chosen['sigmas'] = [float(s) for s in sigmas]
    return out


def write_metainfo(path: str | Path, definition: dict[str, Any]) -> Path:
    """Write a definition (``KeypointMeta.to_dict()`` keys) as a metainfo file
    of ``path``'s type."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == '.json':
        text = json.dumps(definition, indent=2) + '\n'
    elif suffix in ('.yaml', '.yml'):
        import yaml
        text = yaml.safe_dump(definition, sort_keys=False, default_flow_style=None)
    else:
        text = '# keypoint metainfo (customkpt sigmas)\n' + ''.join(
            f'{key} = {value!r}\n' for key, value in definition.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding='utf-8')
    return path


def write_sigmas(out: str | Path, fmt: str, sigmas: Sequence[float], meta: KeypointMeta,
                 ann_file: str | Path | None = None,
                 category_id: int | None = None) -> Path:
    """Write ``sigmas`` (K) for the definition ``meta`` to ``out``.

    Args:
        out: the file to write.
        fmt: ``'annotations'`` (a copy of ``ann_file`` with the category's
            ``sigmas``) or ``'metainfo'`` (see :func:`output_format`).
        sigmas: K positive sigmas.
        meta: the keypoint definition the sigmas belong to.
        ann_file: the annotation file copied (``'annotations'`` only).
        category_id: its keypoint category when it has several.
    """
    try:
        updated = KeypointMeta.from_config(dict(meta.to_dict(), sigmas=list(sigmas)),
                                           source=str(out))
    except KeypointMetaError as exc:
        raise ConversionError(str(exc)) from None
    if fmt == 'metainfo':
        return write_metainfo(out, updated.to_dict())
    if ann_file is None:
        raise ConversionError(f'{out}: writing an annotation file needs the annotation file '
                              'to copy')
    ann_file = Path(ann_file)
    data = read_json(ann_file, 'annotation file')
    if not isinstance(data, dict):
        raise ConversionError(f'{ann_file}: not a COCO-keypoint file')
    return write_json(annotations_with_sigmas(data, ann_file, list(sigmas),
                                              meta.keypoint_names, category_id), out)
