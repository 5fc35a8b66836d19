"""Readers of keypoint definitions: a COCO category, an MMPose ``dataset_info``,
a metainfo file and config keys.

Each reader returns the keyword arguments of :class:`~.keypoint_meta.KeypointMeta`
(the class builds and validates the definition from them).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .errors import KeypointMetaError, warn_meta
from .naming import body_part_ids, derive_flip_pairs

__all__ = ['CONFIG_KEYS', 'index_pairs', 'coco_category_fields', 'mmpose_info_fields',
           'pairs_from_names', 'read_metainfo_file', 'check_config_keys', 'config_fields']

CONFIG_KEYS = {
    'preset', 'from_file', 'dataset_name', 'num_joints', 'num_keypoints', 'keypoint_names',
    'flip_pairs', 'flip_indices', 'skeleton', 'sigmas', 'joint_weights',
    'upper_body_ids', 'lower_body_ids', 'keypoint_colors', 'skeleton_colors',
    'flip_from_names', 'body_parts_from_names', 'classes'
}

# The per-point and per-link fields a config may set.
_FIELD_KEYS = ('keypoint_names', 'skeleton', 'flip_pairs', 'upper_body_ids', 'lower_body_ids',
               'sigmas', 'joint_weights', 'keypoint_colors', 'skeleton_colors', 'dataset_name')
# The fields a new point list invalidates when inherited from a base definition.
_PER_POINT_KEYS = ('sigmas', 'joint_weights', 'keypoint_colors', 'upper_body_ids',
                   'lower_body_ids', 'skeleton', 'skeleton_colors', 'flip_pairs')


def index_pairs(value: Any, what: str, source: str) -> list[list[int]]:
    """``value`` as a list of ``[a, b]`` int pairs."""
    try:
        pairs = [[int(a), int(b)] for a, b in value]
    except (TypeError, ValueError) as exc:
        raise KeypointMetaError(
            f'{source}: {what} must be a list of [a, b] index pairs, got {value!r}') from exc
    return pairs


def coco_category_fields(category: Mapping[str, Any], source: str) -> dict[str, Any]:
    """From a COCO ``categories`` entry.

    ``skeleton`` is 1-based as in COCO; a skeleton that uses index 0 is
    read as 0-based (with a warning). ``flip_pairs``, when present, is
    0-based like the config's; ``sigmas`` (K OKS sigmas), when present, as
    the config's. A category without a ``flip_pairs`` key (COCO defines
    none) gets the pairs its left/right names suggest
    (:func:`~.naming.derive_flip_pairs`), so that a horizontal flip swaps
    them.
    """
    names = category.get('keypoints')
    if not names:
        raise KeypointMetaError(f'{source}: category has no "keypoints" list of names')
    skeleton = index_pairs(category.get('skeleton') or [], 'skeleton', source)
    if skeleton and min(min(p) for p in skeleton) == 0:
        warn_meta(f'{source}: skeleton uses index 0, reading it as 0-based '
                  '(COCO skeletons are 1-based)')
    else:
        skeleton = [[a - 1, b - 1] for a, b in skeleton]
    fields = dict(keypoint_names=list(names), skeleton=skeleton,
                  flip_pairs=category.get('flip_pairs') or [],
                  dataset_name=str(category.get('name', 'custom')), source=source)
    derived = pairs_from_names(names, source) if category.get('flip_pairs') is None else []
    if derived:
        fields.update(flip_pairs=derived, flip_pairs_derived=True)
    if category.get('sigmas'):
        fields['sigmas'] = category['sigmas']
    return fields


def _mmpose_points(info: Mapping[str, Any], source: str) -> list[Mapping[str, Any]]:
    """The ``keypoint_info`` entries in id order (ids must run 0..K-1)."""
    kinfo = info.get('keypoint_info')
    if not kinfo:
        raise KeypointMetaError(f'{source}: dataset_info has no keypoint_info')
    points = [kinfo[i] for i in sorted(kinfo, key=int)]
    for pos, p in enumerate(points):
        if int(p.get('id', pos)) != pos:
            raise KeypointMetaError(
                f'{source}: keypoint_info ids must run 0..K-1; entry {pos} has id {p.get("id")}')
    return points


def _mmpose_links(info: Mapping[str, Any], index: Mapping[str, int],
                  source: str) -> tuple[list[list[int]], list[list[int]]]:
    """Skeleton links and their colours from ``skeleton_info``."""
    skeleton, skeleton_colors = [], []
    sinfo = info.get('skeleton_info') or {}
    for key in sorted(sinfo, key=int):
        a, b = sinfo[key]['link']
        for n in (a, b):
            if n not in index:
                raise KeypointMetaError(f'{source}: skeleton link {key} names unknown {n!r}')
        skeleton.append([index[a], index[b]])
        skeleton_colors.append(list(sinfo[key].get('color', [0, 255, 0])))
    return skeleton, skeleton_colors


def mmpose_info_fields(info: Mapping[str, Any], source: str) -> dict[str, Any]:
    """From an MMPose-style ``dataset_info`` dict.

    Reads ``keypoint_info`` ({i: dict(name, id, color, type, swap)}),
    ``skeleton_info`` ({i: dict(link=(name_a, name_b), color)}),
    ``joint_weights`` and ``sigmas``; flip pairs come from each point's
    ``swap`` name, body halves from ``type`` ('upper' / 'lower').
    """
    points = _mmpose_points(info, source)
    names = [p['name'] for p in points]
    index = {n: i for i, n in enumerate(names)}
    flip: set[tuple[int, int]] = set()
    for i, p in enumerate(points):
        swap = p.get('swap') or ''
        if swap:
            if swap not in index:
                raise KeypointMetaError(
                    f'{source}: keypoint {p["name"]!r} swaps with unknown name {swap!r}')
            flip.add(tuple(sorted((i, index[swap]))))
    _warn_one_sided_swaps(points, index, source)
    skeleton, skeleton_colors = _mmpose_links(info, index, source)
    colours = [list(p['color']) if 'color' in p else None for p in points]
    return dict(
        keypoint_names=names, skeleton=skeleton, flip_pairs=sorted(map(list, flip)),
        upper_body_ids=[i for i, p in enumerate(points) if p.get('type') == 'upper'],
        lower_body_ids=[i for i, p in enumerate(points) if p.get('type') == 'lower'],
        sigmas=info.get('sigmas') or None, joint_weights=info.get('joint_weights') or None,
        keypoint_colors=colours if all(c is not None for c in colours) else None,
        skeleton_colors=skeleton_colors if skeleton else None,
        dataset_name=str(info.get('dataset_name', 'custom')), source=source)


def _warn_one_sided_swaps(points: list[Mapping[str, Any]], index: Mapping[str, int],
                          source: str) -> None:
    """Warn about each ``swap`` that its partner does not return (``a`` swaps
    with ``b`` but ``b`` names another point or none); the pair is used both
    ways all the same."""
    for p in points:
        swap = p.get('swap') or ''
        back = points[index[swap]].get('swap') or '' if swap in index else ''
        if swap and back != p['name']:
            said = f'swap={back!r}' if back else 'no swap'
            warn_meta(f'{source}: keypoint {p["name"]!r} swaps with {swap!r} but {swap!r} has '
                      f'{said}; flipping exchanges {p["name"]!r} and {swap!r}')


def read_metainfo_file(path: str | Path) -> dict[str, Any]:
    """The definition dict of a metainfo file: a Python/JSON/YAML file defining
    ``dataset_info`` (MMPose style) or holding our own keys.

    JSON and YAML are read as data (YAML with the safe loader, so tags such
    as ``!!python/object`` are refused); a ``.py`` file is a config and runs
    as one, so only name files you wrote or trust.
    """
    path = Path(path)
    if not path.is_file():
        raise KeypointMetaError(f'metainfo file not found: {path}')
    suffix = path.suffix.lower()
    if suffix in ('.json', '.yaml', '.yml'):
        cfg = _read_data_file(path, suffix)
    else:
        from mmengine.config import Config  # only here: keeps the package mmengine-free
        cfg = Config.fromfile(str(path)).to_dict()
    return cfg.get('dataset_info', cfg)


def _read_data_file(path: Path, suffix: str) -> dict[str, Any]:
    """A JSON or YAML metainfo file as a dict, never running code."""
    import json

    import yaml
    try:
        text = path.read_text(encoding='utf-8')
        data = json.loads(text) if suffix == '.json' else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise KeypointMetaError(f'metainfo file {path} cannot be read: {exc}') from None
    if not isinstance(data, dict):
        raise KeypointMetaError(f'metainfo file {path} must hold a mapping, '
                                f'got {type(data).__name__}')
    return data


def check_config_keys(cfg: Mapping[str, Any], source: str) -> None:
    """Raise on keys :class:`~.keypoint_meta.KeypointMeta` does not know."""
    unknown = set(cfg) - CONFIG_KEYS
    if unknown:
        raise KeypointMetaError(
            f'{source}: unknown metainfo keys {sorted(unknown)}; known: {sorted(CONFIG_KEYS)}')


def _inherited_fields(base: Any) -> dict[str, Any]:
    """The fields a config starts from when it extends ``base``."""
    return dict(keypoint_names=base.keypoint_names, skeleton=base.skeleton,
                flip_pairs=base.flip_pairs, upper_body_ids=base.upper_body_ids,
                lower_body_ids=base.lower_body_ids,
                sigmas=None if base.sigmas_defaulted else base.sigmas,
                joint_weights=base.joint_weights, keypoint_colors=base.keypoint_colors,
                skeleton_colors=base.skeleton_colors, dataset_name=base.dataset_name)


def _keypoint_names(cfg: Mapping[str, Any], fields: dict[str, Any], base: Any,
                    source: str) -> list[str]:
    """The names in use (``kpt_<i>`` from ``num_joints`` when none are given),
    checked against ``num_joints`` / ``num_keypoints``."""
    num = cfg.get('num_joints', cfg.get('num_keypoints'))
    if 'keypoint_names' not in fields:
        if num is None:
            raise KeypointMetaError(
                f'{source}: no keypoint definition: give keypoint_names, num_joints, '
                'from_file, or an annotation file whose category lists keypoints')
        fields['keypoint_names'] = [f'kpt_{i}' for i in range(int(num))]
    names = fields['keypoint_names']
    if num is not None and int(num) != len(names):
        where = base.source if base is not None and 'keypoint_names' not in cfg else source
        raise KeypointMetaError(
            f'{source}: num_joints={num} but {where} defines {len(names)} keypoints {names}')
    return names


def pairs_from_names(names: list[str], source: str) -> list[list[int]]:
    """The flip pairs ``names`` suggest, for a definition that states none;
    names too ambiguous to pair give none, with a warning."""
    try:
        return derive_flip_pairs(names)
    except KeypointMetaError as exc:
        warn_meta(f'{source}: no flip pairs given and {exc}; give flip_pairs')
        return []


def _set_flip_pairs(cfg: Mapping[str, Any], fields: dict[str, Any], base: Any,
                    names: list[str], source: str) -> None:
    """``fields['flip_pairs']`` by ``flip_from_names``: ``True`` derives them
    from the names unless the config gives some; ``None`` (the default)
    derives them when neither the config nor the base definition states any
    (a base's own derived pairs do not count); ``False`` never derives."""
    choice = cfg.get('flip_from_names')
    if cfg.get('flip_pairs'):
        return
    if choice:
        fields['flip_pairs'], fields['flip_pairs_derived'] = derive_flip_pairs(names), True
        return
    stated = (cfg.get('flip_pairs') is not None or cfg.get('flip_indices') is not None
              or ('flip_pairs' in fields and not getattr(base, 'flip_pairs_derived', False)))
    if stated:
        return
    fields['flip_pairs'] = [] if choice is False else pairs_from_names(names, source)
    fields['flip_pairs_derived'] = bool(fields['flip_pairs'])


def config_fields(cfg: Mapping[str, Any], base: Any,
                  source: str) -> tuple[dict[str, Any], str]:
    """The fields of a config on top of an optional ``base`` definition.

    Each explicit key overrides the base; a new point list of another length
    drops the base's per-point data. Flip pairs: see :func:`_set_flip_pairs`;
    ``body_parts_from_names`` derives the body halves.

    Returns:
        The keyword arguments (without ``source``) and the source text.
    """
    fields: dict[str, Any] = {}
    if base is not None:
        fields = _inherited_fields(base)
        source = f'{source} (on top of {base.source})'
    for key in _FIELD_KEYS:
        if cfg.get(key) is not None:
            fields[key] = cfg[key]
    if ('keypoint_names' in cfg and base is not None
            and len(cfg['keypoint_names']) != base.num_keypoints):
        for key in _PER_POINT_KEYS:
            if cfg.get(key) is None:
                fields.pop(key, None)
    if 'skeleton' in cfg and cfg.get('skeleton_colors') is None:
        fields.pop('skeleton_colors', None)
    names = _keypoint_names(cfg, fields, base, source)
    _set_flip_pairs(cfg, fields, base, names, source)
    if cfg.get('body_parts_from_names'):
        fields['upper_body_ids'], fields['lower_body_ids'] = body_part_ids(names)
    return fields, source
