"""Keypoint definitions: names, skeleton, flip pairs, sigmas and weights.

A :class:`KeypointMeta` describes one keypoint definition (5 points on a
person, 4 on a mouse, ...). It is built once, validated once, and then the
same information travels to transforms, model, metric and drawing as the
plain dict returned by :meth:`KeypointMeta.to_dict`.

Sources, applied in this order so that later ones win:

1. the COCO category of an annotation file (``keypoints``, 1-based
   ``skeleton`` as in COCO, optional 0-based ``flip_pairs``);
2. an MMPose-style metainfo file (``from_file``: a Python file defining
   ``dataset_info``), so MMPose users bring their definitions unchanged;
3. explicit config keys (``num_joints``, ``keypoint_names``, ``flip_pairs``,
   ``skeleton``, ``sigmas``, ``joint_weights``, ``upper_body_ids``,
   ``lower_body_ids``, ``dataset_name``, ``flip_from_names``).
"""
from __future__ import annotations

import colorsys
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

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

_UPPER_PARTS = ('nose', 'eye', 'ear', 'head', 'neck', 'shoulder', 'elbow', 'wrist', 'hand')
_LOWER_PARTS = ('hip', 'knee', 'ankle', 'foot', 'heel', 'toe')

CONFIG_KEYS = {
    'from_file', 'dataset_name', 'num_joints', 'num_keypoints', 'keypoint_names',
    'flip_pairs', 'flip_indices', 'skeleton', 'sigmas', 'joint_weights',
    'upper_body_ids', 'lower_body_ids', 'keypoint_colors', 'skeleton_colors',
    'flip_from_names', 'body_parts_from_names', 'classes'
}


class KeypointMetaError(ValueError):
    """A keypoint definition is inconsistent or malformed."""


def _palette(n: int, offset: float = 0.0) -> list[list[int]]:
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


def _side_partners(name: str) -> list[str]:
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
        for candidate in _side_partners(name):
            j = index.get(candidate)
            if j is None or j == i:
                continue
            if partner.get(i, j) != j:
                raise KeypointMetaError(
                    f'cannot derive flip pairs: {name!r} matches both '
                    f'{names[partner[i]]!r} and {names[j]!r}')
            partner[i] = j
    return sorted([i, j] for i, j in partner.items() if i < j and partner.get(j) == i)


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


def _pairs(value: Any, what: str, source: str) -> list[list[int]]:
    try:
        pairs = [[int(a), int(b)] for a, b in value]
    except (TypeError, ValueError) as exc:
        raise KeypointMetaError(
            f'{source}: {what} must be a list of [a, b] index pairs, got {value!r}') from exc
    return pairs


@dataclass
class KeypointMeta:
    """One keypoint definition.

    Attributes:
        keypoint_names: K unique names.
        skeleton: 0-based ``[a, b]`` links, for drawing.
        flip_pairs: 0-based ``[a, b]`` pairs swapped by a horizontal flip.
        upper_body_ids: points of the upper half, for half-body augmentation.
        lower_body_ids: points of the lower half.
        sigmas: (K,) float32 OKS sigmas.
        joint_weights: (K,) float32 loss weights.
        keypoint_colors: K RGB triples.
        skeleton_colors: one RGB triple per link.
        dataset_name: a label for logs and checkpoints.
    """

    keypoint_names: list[str]
    skeleton: list[list[int]] = field(default_factory=list)
    flip_pairs: list[list[int]] = field(default_factory=list)
    upper_body_ids: list[int] = field(default_factory=list)
    lower_body_ids: list[int] = field(default_factory=list)
    sigmas: np.ndarray | None = None
    joint_weights: np.ndarray | None = None
    keypoint_colors: list[list[int]] | None = None
    skeleton_colors: list[list[int]] | None = None
    dataset_name: str = 'custom'
    source: str = field(default='config', repr=False, compare=False)
    sigmas_defaulted: bool = field(default=False, init=False, repr=False, compare=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeypointMeta):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # mutable

    def __post_init__(self) -> None:
        self.keypoint_names = [str(n) for n in self.keypoint_names]
        k = self.num_keypoints
        self.skeleton = _pairs(self.skeleton, 'skeleton', self.source)
        self.flip_pairs = _pairs(self.flip_pairs, 'flip_pairs', self.source)
        self.upper_body_ids = [int(i) for i in self.upper_body_ids]
        self.lower_body_ids = [int(i) for i in self.lower_body_ids]
        if self.sigmas is None:
            self.sigmas = default_sigmas(self.keypoint_names)
            self.sigmas_defaulted = True
        self.sigmas = np.asarray(self.sigmas, dtype=np.float32).reshape(-1)
        if self.joint_weights is None:
            self.joint_weights = np.ones(k, dtype=np.float32)
        self.joint_weights = np.asarray(self.joint_weights, dtype=np.float32).reshape(-1)
        if self.keypoint_colors is None:
            self.keypoint_colors = _palette(k)
        if self.skeleton_colors is None:
            self.skeleton_colors = _palette(len(self.skeleton), offset=0.3)
        self.validate()

    # ------------------------------------------------------------------ checks
    @property
    def num_keypoints(self) -> int:
        return len(self.keypoint_names)

    @property
    def flip_indices(self) -> list[int]:
        """For each point, the index of its mirror partner (itself if none)."""
        idx = list(range(self.num_keypoints))
        for a, b in self.flip_pairs:
            idx[a], idx[b] = b, a
        return idx

    def validate(self) -> None:
        """Raise :class:`KeypointMetaError` naming the first problem found."""
        src, k, names = self.source, self.num_keypoints, self.keypoint_names
        if k == 0:
            raise KeypointMetaError(f'{src}: the definition has no keypoints')
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise KeypointMetaError(f'{src}: duplicate keypoint names {dupes}')

        def check_index(i: int, what: str) -> None:
            if not 0 <= i < k:
                raise KeypointMetaError(
                    f'{src}: {what} refers to keypoint {i}, outside 0..{k - 1} '
                    f'(K={k}; indices are 0-based)')

        seen: dict[int, int] = {}
        for a, b in self.flip_pairs:
            check_index(a, f'flip pair [{a}, {b}]')
            check_index(b, f'flip pair [{a}, {b}]')
            if a == b:
                raise KeypointMetaError(
                    f'{src}: flip pair [{a}, {b}] pairs {names[a]!r} with itself')
            for i, j in ((a, b), (b, a)):
                if seen.get(i, j) != j:
                    raise KeypointMetaError(
                        f'{src}: flip pairs are not symmetric: {names[i]!r} ({i}) is paired '
                        f'with both {names[seen[i]]!r} ({seen[i]}) and {names[j]!r} ({j})')
                seen[i] = j
        for a, b in self.skeleton:
            check_index(a, f'skeleton link [{a}, {b}]')
            check_index(b, f'skeleton link [{a}, {b}]')
        for i in self.upper_body_ids:
            check_index(i, 'upper_body_ids')
        for i in self.lower_body_ids:
            check_index(i, 'lower_body_ids')
        for what, arr in (('sigmas', self.sigmas), ('joint_weights', self.joint_weights)):
            if arr.shape != (k,):
                raise KeypointMetaError(
                    f'{src}: {what} has {arr.size} values but the definition has K={k} '
                    f'keypoints {names}')
            if not np.all(np.isfinite(arr)):
                raise KeypointMetaError(f'{src}: {what} contains NaN or inf: {arr.tolist()}')
        if np.any(self.sigmas <= 0):
            bad = [names[i] for i in np.flatnonzero(self.sigmas <= 0)]
            raise KeypointMetaError(f'{src}: sigmas must be positive; not for {bad}')
        if np.any(self.joint_weights < 0):
            raise KeypointMetaError(f'{src}: joint_weights must not be negative')
        if len(self.keypoint_colors) != k:
            raise KeypointMetaError(f'{src}: keypoint_colors needs {k} colours')
        if len(self.skeleton_colors) != len(self.skeleton):
            raise KeypointMetaError(
                f'{src}: skeleton_colors needs {len(self.skeleton)} colours (one per link)')

    def sample_fields(self) -> dict[str, Any]:
        """What every training sample carries from the definition, for the
        transforms: flip indices, body halves and joint weights."""
        return dict(flip_indices=self.flip_indices, dataset_name=self.dataset_name,
                    upper_body_ids=list(self.upper_body_ids),
                    lower_body_ids=list(self.lower_body_ids),
                    dataset_keypoint_weights=self.joint_weights.copy())

    def warn_if_sigmas_defaulted(self) -> 'KeypointMeta':
        """Warn once that OKS sigmas were not given (see :func:`default_sigmas`)."""
        if self.sigmas_defaulted:
            warnings.warn(
                f'{self.source}: no OKS sigmas given for {self.keypoint_names}; using '
                'defaults by part name (COCO values for eyes, ears, wrists, ...; '
                f'{DEFAULT_SIGMA} otherwise). Set `sigmas` in the metainfo for COCO-style '
                'AP you can compare with others.', stacklevel=3)
        return self

    # ------------------------------------------------------------- conversion
    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (lists, str, int, float): dataset ``metainfo``
        and checkpoint ``meta``."""
        return dict(
            dataset_name=self.dataset_name,
            num_keypoints=self.num_keypoints,
            keypoint_names=list(self.keypoint_names),
            skeleton=[list(p) for p in self.skeleton],
            flip_pairs=[list(p) for p in self.flip_pairs],
            flip_indices=self.flip_indices,
            upper_body_ids=list(self.upper_body_ids),
            lower_body_ids=list(self.lower_body_ids),
            sigmas=[round(float(s), 6) for s in self.sigmas],
            joint_weights=[round(float(w), 6) for w in self.joint_weights],
            keypoint_colors=[list(map(int, c)) for c in self.keypoint_colors],
            skeleton_colors=[list(map(int, c)) for c in self.skeleton_colors],
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = 'metainfo') -> 'KeypointMeta':
        """Rebuild from :meth:`to_dict` output (or any config dict)."""
        return cls.from_config(d, source=source)

    @classmethod
    def from_coco_category(cls, category: Mapping[str, Any],
                           source: str = 'COCO category') -> 'KeypointMeta':
        """From a COCO ``categories`` entry.

        ``skeleton`` is 1-based as in COCO; a skeleton that uses index 0 is
        read as 0-based (with a warning). ``flip_pairs``, when present, is
        0-based like the config's.
        """
        names = category.get('keypoints')
        if not names:
            raise KeypointMetaError(f'{source}: category has no "keypoints" list of names')
        skeleton = _pairs(category.get('skeleton') or [], 'skeleton', source)
        if skeleton and min(min(p) for p in skeleton) == 0:
            warnings.warn(f'{source}: skeleton uses index 0, reading it as 0-based '
                          '(COCO skeletons are 1-based)')
        else:
            skeleton = [[a - 1, b - 1] for a, b in skeleton]
        return cls(keypoint_names=list(names), skeleton=skeleton,
                   flip_pairs=category.get('flip_pairs') or [],
                   dataset_name=str(category.get('name', 'custom')), source=source)

    @classmethod
    def from_mmpose_info(cls, info: Mapping[str, Any],
                         source: str = 'dataset_info') -> 'KeypointMeta':
        """From an MMPose-style ``dataset_info`` dict.

        Reads ``keypoint_info`` ({i: dict(name, id, color, type, swap)}),
        ``skeleton_info`` ({i: dict(link=(name_a, name_b), color)}),
        ``joint_weights`` and ``sigmas``; flip pairs come from each point's
        ``swap`` name, body halves from ``type`` ('upper' / 'lower').
        """
        kinfo = info.get('keypoint_info')
        if not kinfo:
            raise KeypointMetaError(f'{source}: dataset_info has no keypoint_info')
        points = [kinfo[i] for i in sorted(kinfo, key=int)]
        for pos, p in enumerate(points):
            if int(p.get('id', pos)) != pos:
                raise KeypointMetaError(
                    f'{source}: keypoint_info ids must run 0..K-1; entry {pos} has id {p.get("id")}')
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
        skeleton, skeleton_colors = [], []
        sinfo = info.get('skeleton_info') or {}
        for key in sorted(sinfo, key=int):
            a, b = sinfo[key]['link']
            for n in (a, b):
                if n not in index:
                    raise KeypointMetaError(f'{source}: skeleton link {key} names unknown {n!r}')
            skeleton.append([index[a], index[b]])
            skeleton_colors.append(list(sinfo[key].get('color', [0, 255, 0])))
        colours = [list(p['color']) if 'color' in p else None for p in points]
        return cls(
            keypoint_names=names, skeleton=skeleton, flip_pairs=sorted(map(list, flip)),
            upper_body_ids=[i for i, p in enumerate(points) if p.get('type') == 'upper'],
            lower_body_ids=[i for i, p in enumerate(points) if p.get('type') == 'lower'],
            sigmas=info.get('sigmas') or None, joint_weights=info.get('joint_weights') or None,
            keypoint_colors=colours if all(c is not None for c in colours) else None,
            skeleton_colors=skeleton_colors if skeleton else None,
            dataset_name=str(info.get('dataset_name', 'custom')), source=source)

    @classmethod
    def from_file(cls, path: str | Path) -> 'KeypointMeta':
        """From a metainfo file: a Python/JSON/YAML file defining
        ``dataset_info`` (MMPose style) or holding our own keys."""
        from mmengine.config import Config
        path = Path(path)
        if not path.is_file():
            raise KeypointMetaError(f'metainfo file not found: {path}')
        cfg = Config.fromfile(str(path)).to_dict()
        info = cfg.get('dataset_info', cfg)
        if 'keypoint_info' in info:
            return cls.from_mmpose_info(info, source=str(path))
        return cls.from_config(info, source=str(path))

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None, base: 'KeypointMeta | None' = None,
                    source: str = 'config') -> 'KeypointMeta':
        """Combine a config dict with an optional base definition.

        ``from_file`` replaces the base; then each explicit key overrides.
        ``num_joints`` (or ``num_keypoints``) is checked against the names.
        ``flip_from_names=True`` derives flip pairs from left/right names when
        no pairs are given; ``body_parts_from_names=True`` fills upper/lower
        ids from part words (head, shoulder, ... / hip, knee, ...).
        """
        cfg = dict(cfg or {})
        unknown = set(cfg) - CONFIG_KEYS
        if unknown:
            raise KeypointMetaError(
                f'{source}: unknown metainfo keys {sorted(unknown)}; known: {sorted(CONFIG_KEYS)}')
        if cfg.get('from_file'):
            base = cls.from_file(cfg['from_file'])
        fields: dict[str, Any] = {}
        if base is not None:
            fields = dict(keypoint_names=base.keypoint_names, skeleton=base.skeleton,
                          flip_pairs=base.flip_pairs, upper_body_ids=base.upper_body_ids,
                          lower_body_ids=base.lower_body_ids,
                          sigmas=None if base.sigmas_defaulted else base.sigmas,
                          joint_weights=base.joint_weights, keypoint_colors=base.keypoint_colors,
                          skeleton_colors=base.skeleton_colors, dataset_name=base.dataset_name)
            source = f'{source} (on top of {base.source})'
        names_given = 'keypoint_names' in cfg
        for key in ('keypoint_names', 'skeleton', 'flip_pairs', 'upper_body_ids',
                    'lower_body_ids', 'sigmas', 'joint_weights', 'keypoint_colors',
                    'skeleton_colors', 'dataset_name'):
            if cfg.get(key) is not None:
                fields[key] = cfg[key]
        if names_given and base is not None and len(cfg['keypoint_names']) != base.num_keypoints:
            # A new point list invalidates per-point data inherited from the base.
            for key in ('sigmas', 'joint_weights', 'keypoint_colors', 'upper_body_ids',
                        'lower_body_ids', 'skeleton', 'skeleton_colors', 'flip_pairs'):
                if cfg.get(key) is None:
                    fields.pop(key, None)
        if 'skeleton' in cfg and cfg.get('skeleton_colors') is None:
            fields.pop('skeleton_colors', None)

        num = cfg.get('num_joints', cfg.get('num_keypoints'))
        if 'keypoint_names' not in fields:
            if num is None:
                raise KeypointMetaError(
                    f'{source}: no keypoint definition: give keypoint_names, num_joints, '
                    'from_file, or an annotation file whose category lists keypoints')
            fields['keypoint_names'] = [f'kpt_{i}' for i in range(int(num))]
        names = fields['keypoint_names']
        if num is not None and int(num) != len(names):
            where = base.source if base is not None and not names_given else source
            raise KeypointMetaError(
                f'{source}: num_joints={num} but {where} defines {len(names)} keypoints {names}')
        if cfg.get('flip_from_names') and not cfg.get('flip_pairs'):
            fields['flip_pairs'] = derive_flip_pairs(names)
        if cfg.get('body_parts_from_names'):
            fields['upper_body_ids'] = [
                i for i, n in enumerate(names) if any(p in n.lower() for p in _UPPER_PARTS)]
            fields['lower_body_ids'] = [
                i for i, n in enumerate(names) if any(p in n.lower() for p in _LOWER_PARTS)]
        if 'flip_indices' in cfg:
            meta = cls(**fields, source=source)
            if list(cfg['flip_indices']) != meta.flip_indices:
                raise KeypointMetaError(
                    f'{source}: flip_indices {list(cfg["flip_indices"])} disagree with '
                    f'flip_pairs {meta.flip_pairs}')
            return meta
        return cls(**fields, source=source).warn_if_sigmas_defaulted()

    @classmethod
    def resolve(cls, metainfo: Mapping[str, Any] | str | None,
                category: Mapping[str, Any] | None = None,
                source: str = 'metainfo') -> 'KeypointMeta':
        """The definition a dataset uses: the annotation file's category
        (if any) overridden by the config's ``metainfo`` (a dict or a path)."""
        if isinstance(metainfo, (str, Path)):
            metainfo = dict(from_file=str(metainfo))
        base = None
        if category is not None and category.get('keypoints'):
            base = cls.from_coco_category(category, source=source if metainfo is None
                                          else f'category {category.get("name", "")!r}')
        if not metainfo:
            if base is None:
                raise KeypointMetaError(
                    f'{source}: no keypoint definition in the annotation file or config')
            return base.warn_if_sigmas_defaulted()
        return cls.from_config(metainfo, base=base, source=source)

    # ---------------------------------------------------------------- mapping
    def index_map_from(self, source: 'KeypointMeta',
                       name_map: Mapping[str, str] | None = None) -> np.ndarray:
        """Where each of this definition's points comes from in ``source``.

        Args:
            source: the definition of the data being mapped.
            name_map: optional ``{source_name: this_name}`` renames; other
                names match when equal.

        Returns:
            int64 (K,) with the source index of each of our points, -1 where
            the source lacks it.
        """
        name_map = dict(name_map or {})
        unknown_src = set(name_map) - set(source.keypoint_names)
        unknown_dst = set(name_map.values()) - set(self.keypoint_names)
        if unknown_src or unknown_dst:
            raise KeypointMetaError(
                f'name map refers to unknown points: source {sorted(unknown_src)} '
                f'(source has {source.keypoint_names}), target {sorted(unknown_dst)} '
                f'(target has {self.keypoint_names})')
        renamed = [name_map.get(n, n) for n in source.keypoint_names]
        lookup = {n: i for i, n in enumerate(renamed)}
        return np.asarray([lookup.get(n, -1) for n in self.keypoint_names], dtype=np.int64)
