"""Several keypoint datasets merged onto one benchmark definition.

Each source dataset keeps its own keypoint definition; its samples are mapped
onto the benchmark's K points: points the benchmark lacks are dropped, points
the source lacks get coordinates 0 and ``keypoints_visible`` 0 (so they weigh
nothing in the loss), and the rest are reordered. The classic use is COCO +
AI Challenger trained on COCO's 17 points.

How a source's points find the benchmark's (``mappings``, one entry per
source):

* ``None``: by equal names;
* a dict ``{source_name: benchmark_name}``: these renamed, the rest by equal
  names;
* a list of ``[source_index, benchmark_index]`` pairs (0-based): exactly
  these.

``sample_ratio`` sets, per source, the fraction of its samples in the merged
dataset: 0.5 keeps a random half, 2.0 repeats every sample twice, 1.5 repeats
all once and a random half a second time. The random part is drawn once, when
the dataset loads, from ``seed`` (so it is the same subset every epoch and on
every worker).
"""
from __future__ import annotations

import copy
import logging
import math
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.registry import DefaultScope

from ..meta import KeypointMeta, KeypointMetaError
from ..registry import DATASETS, SCOPE

# One source's mapping: None, a rename dict or index pairs (typing.Union: the
# package supports Python 3.9).
PointMapping = Optional[Union[Mapping[str, str], Sequence[Sequence[int]]]]


def index_map_from_pairs(pairs: Sequence[Sequence[int]], source: KeypointMeta,
                         target: KeypointMeta) -> np.ndarray:
    """int64 (K_target,) source index of each target point (-1: none) from
    explicit ``[source_index, target_index]`` pairs."""
    out = np.full(target.num_keypoints, -1, dtype=np.int64)
    for pair in pairs:
        if len(pair) != 2:
            raise KeypointMetaError(f'mapping pairs must be [source_index, target_index], '
                                    f'got {list(pair)}')
        s, t = int(pair[0]), int(pair[1])
        if not 0 <= s < source.num_keypoints:
            raise KeypointMetaError(f'mapping pair {[s, t]}: source index outside '
                                    f'0..{source.num_keypoints - 1} ({source.dataset_name})')
        if not 0 <= t < target.num_keypoints:
            raise KeypointMetaError(f'mapping pair {[s, t]}: target index outside '
                                    f'0..{target.num_keypoints - 1} ({target.dataset_name})')
        if out[t] >= 0:
            raise KeypointMetaError(f'mapping: target point {t} ({target.keypoint_names[t]!r}) '
                                    f'is given twice')
        out[t] = s
    return out


def remap_sample(sample: dict, index_map: np.ndarray) -> dict:
    """Map one sample's ``keypoints`` / ``keypoints_visible`` through
    ``index_map`` (target -> source index, -1 for none), in place."""
    have = index_map >= 0
    kpts = np.asarray(sample['keypoints'], dtype=np.float32)
    vis = np.asarray(sample['keypoints_visible'], dtype=np.float32)
    n, k = kpts.shape[0], index_map.size
    new_kpts = np.zeros((n, k, 2), dtype=np.float32)
    new_vis = np.zeros((n, k), dtype=np.float32)
    new_kpts[:, have] = kpts[:, index_map[have]]
    new_vis[:, have] = vis[:, index_map[have]]
    sample['keypoints'] = new_kpts
    sample['keypoints_visible'] = new_vis
    if 'num_keypoints' in sample:
        sample['num_keypoints'] = int((new_vis > 0).sum())
    return sample


def ratio_indices(n: int, ratio: float, rng: np.random.Generator) -> np.ndarray:
    """Indices into ``n`` samples for a ``sample_ratio``: every index
    ``floor(ratio)`` times, plus a random ``round(frac * n)`` without
    replacement."""
    if ratio < 0 or not math.isfinite(ratio):
        raise ValueError(f'sample_ratio must be a finite number >= 0, got {ratio}')
    whole = int(math.floor(ratio))
    extra = int(round((ratio - whole) * n))
    parts = [np.tile(np.arange(n), whole)]
    if extra:
        parts.append(np.sort(rng.choice(n, size=extra, replace=False)))
    return np.concatenate(parts).astype(np.int64)


@DATASETS.register_module()
class MergedKeypointDataset(BaseDataset):
    """Samples of several keypoint datasets on one benchmark definition.

    Args:
        metainfo: the benchmark definition: a dict of
            :class:`~customkpt.meta.KeypointMeta` config keys or a metainfo
            file path.
        datasets: the sources: dataset configs (built with ``pipeline=[]``)
            or built datasets (read through ``get_data_info``; their own
            pipelines are not used).
        mappings: per source: ``None``, a rename dict, or index pairs (see the
            module docs); ``None`` for all sources matches every one by name.
        sample_ratio: per source, the fraction of its samples used (``None``:
            all of each).
        pipeline: transforms applied to each merged sample.
        seed: seed of the random part of ``sample_ratio``.
        test_mode: evaluation use; during training, samples with no labelled
            benchmark point after the mapping are left out. Source configs
            without their own ``test_mode`` take this one.
        lazy_init: defer building the sources until first use.
        max_refetch: retries when the pipeline returns ``None`` (training).
        serialize_data: keep merged samples as one pickled buffer.

    Attributes:
        meta: the benchmark :class:`KeypointMeta`.
        source_metas: the definition of each source (after loading).
        index_maps: per source, int64 (K,) source index of each benchmark
            point, -1 where the source lacks it (after loading).
    """

    def __init__(self,
                 metainfo: Mapping[str, Any] | str | Path,
                 datasets: Sequence[dict | BaseDataset],
                 mappings: Sequence[PointMapping] | None = None,
                 sample_ratio: Sequence[float] | None = None,
                 pipeline: Sequence[dict | Callable] = (),
                 seed: int = 0,
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 max_refetch: int = 1000,
                 serialize_data: bool = True) -> None:
        if not datasets:
            raise ValueError('MergedKeypointDataset needs at least one dataset')
        n = len(datasets)
        if mappings is not None and len(mappings) != n:
            raise ValueError(f'mappings has {len(mappings)} entries for {n} datasets')
        if sample_ratio is not None and len(sample_ratio) != n:
            raise ValueError(f'sample_ratio has {len(sample_ratio)} entries for {n} datasets')
        self.meta = KeypointMeta.from_config(KeypointMeta.config_of(metainfo),
                                             source='merged benchmark metainfo')
        self.dataset_cfgs = list(datasets)
        self.mappings = list(mappings) if mappings is not None else [None] * n
        self.sample_ratio = ([float(r) for r in sample_ratio] if sample_ratio is not None
                             else [1.0] * n)
        for r in self.sample_ratio:
            if r < 0 or not math.isfinite(r):
                raise ValueError(f'sample_ratio must be finite numbers >= 0, got {sample_ratio}')
        self.seed = int(seed)
        self.source_metas: list[KeypointMeta] = []
        self.index_maps: list[np.ndarray] = []
        with DefaultScope.overwrite_default_scope(SCOPE):  # bare names are customkpt's
            super().__init__(ann_file='', metainfo=None, pipeline=list(pipeline),
                             test_mode=test_mode, lazy_init=lazy_init,
                             max_refetch=max_refetch, serialize_data=serialize_data)
        self._metainfo = self.meta.to_dict()

    @property
    def metainfo(self) -> dict:
        """The benchmark definition, ``KeypointMeta.to_dict()`` (a copy)."""
        return self.meta.to_dict()

    def _build_source(self, cfg: dict | BaseDataset) -> BaseDataset:
        if isinstance(cfg, Mapping):
            cfg = copy.deepcopy(dict(cfg))
            cfg['pipeline'] = []
            cfg.setdefault('test_mode', self.test_mode)
            return DATASETS.build(cfg)
        return cfg

    @staticmethod
    def _meta_of(dataset: BaseDataset) -> KeypointMeta:
        meta = getattr(dataset, 'meta', None)
        if isinstance(meta, KeypointMeta):
            return meta
        return KeypointMeta.from_dict(dataset.metainfo, source=type(dataset).__name__)

    def _index_map(self, mapping: PointMapping, source: KeypointMeta) -> np.ndarray:
        if mapping is None or isinstance(mapping, Mapping):
            return self.meta.index_map_from(source, mapping)
        return index_map_from_pairs(mapping, source, self.meta)

    def load_data_list(self) -> list[dict]:
        """Build each source, map its samples, concatenate."""
        data_list: list[dict] = []
        self.source_metas, self.index_maps = [], []
        for i, cfg in enumerate(self.dataset_cfgs):
            dataset = self._build_source(cfg)
            source = self._meta_of(dataset)
            index_map = self._index_map(self.mappings[i], source)
            self.source_metas.append(source)
            self.index_maps.append(index_map)
            mapped = int((index_map >= 0).sum())
            if mapped == 0:
                raise KeypointMetaError(
                    f'source {i} ({source.dataset_name}, points {source.keypoint_names}) shares '
                    f'no point with the benchmark {self.meta.keypoint_names}; give a mapping')
            rng = np.random.default_rng([self.seed, i])
            picks = ratio_indices(len(dataset), self.sample_ratio[i], rng)
            unlabelled = 0
            for j in picks:
                sample = remap_sample(dataset.get_data_info(int(j)), index_map)
                sample.pop('sample_idx', None)
                if not self.test_mode and not sample['keypoints_visible'].any():
                    unlabelled += 1
                    continue
                sample.update(self.meta.sample_fields())
                data_list.append(sample)
            used = set(index_map[index_map >= 0].tolist())
            dropped = [n for s, n in enumerate(source.keypoint_names) if s not in used]
            missing = [self.meta.keypoint_names[t] for t in np.flatnonzero(index_map < 0)]
            print_log(
                f'{type(self).__name__}: source {i} {source.dataset_name!r} ({source.num_keypoints}'
                f' points) -> {self.meta.dataset_name!r} ({self.meta.num_keypoints}): '
                f'{mapped} mapped, dropped {len(dropped)} {dropped}, missing {len(missing)} '
                f'{missing}; {len(picks) - unlabelled} samples (ratio {self.sample_ratio[i]:g} of '
                f'{len(dataset)}'
                + (f', left out {unlabelled} with no labelled benchmark point)' if unlabelled
                   else ')'),
                logger='current', level=logging.INFO)
        return data_list
