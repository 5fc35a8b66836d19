"""Labelled samples with unlabelled video clips attached: one dataset and one
collate function, so that mmengine's stock Runner, samplers (distributed
ones included) and dataloader workers drive semi-supervised training
unchanged (docs/semi_supervised.md).

:class:`SemiSupervisedDataset` is as long as its labelled dataset; item ``i``
is labelled sample ``i`` and, for a share ``clips_per_sample`` of the items,
one clip drawn at random from the :class:`~customkpt.datasets.VideoClipDataset`
(after the labelled sample is made, so the draw follows the epoch-seeded
random stream). A distributed sampler that shards the labelled indices
therefore shards the clips with them. :func:`semi_supervised_collate` lays a
batch out as the model expects: the labelled crops first, then every clip's
frames in time order, as one flat ``inputs`` / ``data_samples`` batch, so the
data preprocessor stacks and normalises them together.
"""
from __future__ import annotations

import copy
from typing import Any, Sequence

import numpy as np
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from ..registry import DATASETS, FUNCTIONS, SCOPE

__all__ = ['SemiSupervisedDataset', 'semi_supervised_collate']


def _build(cfg: Any) -> Any:
    if isinstance(cfg, dict):
        with DefaultScope.overwrite_default_scope(SCOPE):
            return DATASETS.build(copy.deepcopy(cfg))
    return cfg


@DATASETS.register_module()
class SemiSupervisedDataset:
    """A labelled dataset whose items carry unlabelled clips.

    Item ``i`` is ``dict(inputs, data_samples)`` of labelled sample ``i``,
    plus ``clip_inputs`` and ``clip_samples`` (the T frames of a random
    clip) when ``i`` is one of the items with a clip. Those are spread
    evenly over the indices: with ``clips_per_sample=r``, item ``i`` has one
    when ``floor((i + 1) r) > floor(i r)``, so an epoch holds
    ``round(len x r)`` clips whatever the shuffle.

    ``metainfo`` is the labelled dataset's; ``dataset`` is the labelled
    dataset (hooks that reach the training pipeline through it, such as
    ``EpochSeedHook`` and ``PipelineSwitchHook``, see only the labelled one),
    ``clips`` the clip dataset.

    Args:
        dataset: the labelled dataset (config or object).
        clips: the clip dataset (config or object).
        clips_per_sample: clips per labelled sample, in (0, 1].
    """

    def __init__(self, dataset: Any, clips: Any, clips_per_sample: float = 1.0) -> None:
        if not 0 < float(clips_per_sample) <= 1:
            raise ValueError(f'SemiSupervisedDataset: clips_per_sample must be in (0, 1], got '
                             f'{clips_per_sample}')
        self.dataset = _build(dataset)
        self.clips = _build(clips)
        self.clips_per_sample = float(clips_per_sample)

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def full_init(self) -> None:
        for part in (self.dataset, self.clips):
            if hasattr(part, 'full_init'):
                part.full_init()

    def __len__(self) -> int:
        return len(self.dataset)

    def has_clip(self, idx: int) -> bool:
        """Whether item ``idx`` carries a clip."""
        r = self.clips_per_sample
        return int(np.floor((idx + 1) * r + 1e-9)) > int(np.floor(idx * r + 1e-9))

    def __getitem__(self, idx: int) -> dict:
        item = dict(self.dataset[idx])
        if self.has_clip(idx):
            clip = self.clips[int(np.random.randint(len(self.clips)))]
            item['clip_inputs'] = clip['inputs']
            item['clip_samples'] = clip['data_samples']
        return item

    def labelled_poses(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every labelled instance's ``keypoints`` (N, K, 2), ``visible``
        (N, K) and ``boxes`` (N, 4) xyxy, from the labelled dataset's records
        (no image is read)."""
        kpts, vis, boxes = [], [], []
        for i in range(len(self.dataset)):
            info = self.dataset.get_data_info(i)
            points = np.asarray(info['keypoints'], np.float32)
            kpts.append(points.reshape(-1, points.shape[-2], 2))
            vis.append(np.asarray(info['keypoints_visible'], np.float32).reshape(
                len(kpts[-1]), -1))
            boxes.append(np.asarray(info['bbox'], np.float32).reshape(-1, 4))
        return np.concatenate(kpts), np.concatenate(vis), np.concatenate(boxes)


@FUNCTIONS.register_module()
def semi_supervised_collate(data_batch: Sequence[dict]) -> dict:
    """Labelled samples first, then each clip's frames in order, as one flat
    ``dict(inputs=[tensors], data_samples=[samples])``."""
    inputs = [item['inputs'] for item in data_batch]
    samples = [item['data_samples'] for item in data_batch]
    for item in data_batch:
        if 'clip_inputs' in item:
            inputs += list(item['clip_inputs'])
            samples += list(item['clip_samples'])
    return pseudo_collate([dict(inputs=x, data_samples=s) for x, s in zip(inputs, samples)])
