"""The keypoint definition: :class:`KeypointMeta`."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .errors import KeypointMetaError, warn_meta
from .naming import DEFAULT_SIGMA, default_sigmas, palette
from .sources import (check_config_keys, coco_category_fields, config_fields, index_pairs,
                      mmpose_info_fields, read_metainfo_file)

__all__ = ['KeypointMeta']


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
        flip_pairs_derived: the flip pairs were derived from the names, the
            source stating none (not part of :meth:`to_dict`).
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
    flip_pairs_derived: bool = field(default=False, repr=False, compare=False)
    sigmas_defaulted: bool = field(default=False, init=False, repr=False, compare=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeypointMeta):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # mutable

    def __post_init__(self) -> None:
        self.keypoint_names = [str(n) for n in self.keypoint_names]
        k = self.num_keypoints
        self.skeleton = index_pairs(self.skeleton, 'skeleton', self.source)
        self.flip_pairs = index_pairs(self.flip_pairs, 'flip_pairs', self.source)
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
            self.keypoint_colors = palette(k)
        if self.skeleton_colors is None:
            self.skeleton_colors = palette(len(self.skeleton), offset=0.3)
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
            warn_meta(
                f'{self.source}: no OKS sigmas given for {self.keypoint_names}; using '
                'defaults by part name (COCO values for eyes, ears, wrists, ...; '
                f'{DEFAULT_SIGMA} otherwise). Set `sigmas` in the metainfo for COCO-style '
                'AP you can compare with others.')
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
        0-based like the config's; without the key, the pairs the names
        suggest.
        """
        return cls(**coco_category_fields(category, source))

    @classmethod
    def from_mmpose_info(cls, info: Mapping[str, Any],
                         source: str = 'dataset_info') -> 'KeypointMeta':
        """From an MMPose-style ``dataset_info`` dict.

        Reads ``keypoint_info`` ({i: dict(name, id, color, type, swap)}),
        ``skeleton_info`` ({i: dict(link=(name_a, name_b), color)}),
        ``joint_weights`` and ``sigmas``; flip pairs come from each point's
        ``swap`` name, body halves from ``type`` ('upper' / 'lower').
        """
        return cls(**mmpose_info_fields(info, source))

    @staticmethod
    def config_of(metainfo: Mapping[str, Any] | str | Path | None) -> Mapping[str, Any] | None:
        """A ``metainfo`` value as config keys: a preset name (``'coco'``)
        becomes ``{'preset': name}``, any other string or path
        ``{'from_file': path}``; dicts and None pass through."""
        if not isinstance(metainfo, (str, Path)):
            return metainfo
        from customkpt.core.presets import PRESETS
        key = 'preset' if str(metainfo).lower() in PRESETS else 'from_file'
        return {key: str(metainfo)}

    @classmethod
    def from_preset(cls, name: str) -> 'KeypointMeta':
        """A built-in definition by name (``'coco'``, ``'mpii'``, ``'aic'``;
        see :mod:`customkpt.core.presets`)."""
        from customkpt.core.presets import PRESETS, preset_metainfo
        if str(name).lower() not in PRESETS:
            raise KeypointMetaError(f'unknown keypoint preset {name!r}; known: {sorted(PRESETS)}')
        return cls.from_config(preset_metainfo(str(name).lower()), source=f'preset {name!r}')

    @classmethod
    def from_file(cls, path: str | Path) -> 'KeypointMeta':
        """From a metainfo file: a Python/JSON/YAML file defining
        ``dataset_info`` (MMPose style) or holding our own keys."""
        info = read_metainfo_file(path)
        if 'keypoint_info' in info:
            return cls.from_mmpose_info(info, source=str(path))
        return cls.from_config(info, source=str(path))

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None, base: 'KeypointMeta | None' = None,
                    source: str = 'config') -> 'KeypointMeta':
        """Combine a config dict with an optional base definition.

        ``from_file`` replaces the base; then each explicit key overrides.
        ``num_joints`` (or ``num_keypoints``) is checked against the names.
        Flip pairs that neither the config nor the base states are derived
        from left/right names; ``flip_from_names=True`` derives them even
        over the base's, ``False`` never. ``body_parts_from_names=True``
        fills upper/lower ids from part words (head, shoulder, ... / hip,
        knee, ...).
        """
        cfg = dict(cfg or {})
        check_config_keys(cfg, source)
        if cfg.get('preset') and cfg.get('from_file'):
            raise KeypointMetaError(f'{source}: give either preset or from_file, not both')
        if cfg.get('preset'):
            base = cls.from_preset(cfg['preset'])
        if cfg.get('from_file'):
            base = cls.from_file(cfg['from_file'])
        fields, source = config_fields(cfg, base, source)
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
        (if any) overridden by the config's ``metainfo`` (a dict, a preset
        name such as ``'coco'``, or a metainfo file path)."""
        metainfo = cls.config_of(metainfo)
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
