"""A tiny mmengine training set-up for hook tests: an in-memory dataset whose
pipeline tags each sample, and a one-parameter model that records what it
sees."""
from __future__ import annotations

import torch
import torch.nn as nn
from mmengine.dataset import BaseDataset
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner

from customkpt.registry import METRICS, TRANSFORMS


class StageTag:
    """Writes ``stage`` into the sample (and the pid of the process that ran it)."""

    def __init__(self, stage: int) -> None:
        self.stage = stage

    def __call__(self, results: dict) -> dict:
        import os
        results['stage'] = self.stage
        results['pid'] = os.getpid()
        return results


class TaggedDataset(BaseDataset):
    """``size`` samples ``dict(index=i)`` run through ``pipeline``."""

    def __init__(self, size: int = 8, pipeline=()) -> None:
        self.size = size
        super().__init__(ann_file='', pipeline=list(pipeline), serialize_data=False)

    def load_data_list(self) -> list:
        return [dict(index=i) for i in range(self.size)]


class Recorder(BaseModel):
    """Loss ``(w - 1)^2``; records the batches' stages and, in validation, ``w``."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.stages: list[list[int]] = []
        self.val_weights: list[float] = []

    def forward(self, mode: str = 'tensor', stage=None, **kwargs):
        if mode == 'loss':
            self.stages.append(sorted(set(stage)))
            return dict(loss=((self.weight - 1) ** 2).sum())
        self.val_weights.append(float(self.weight.detach()))
        return [dict(w=float(self.weight.detach()))] * len(stage or [0])


class NoMetric(BaseMetric):
    """Counts samples; the metric value does not matter here."""

    def process(self, data_batch, data_samples) -> None:
        self.results.extend(data_samples)

    def compute_metrics(self, results: list) -> dict:
        return dict(count=float(len(results)))


TRANSFORMS.register_module(name='TestStageTag', module=StageTag, force=True)
METRICS.register_module(name='TestNoMetric', module=NoMetric, force=True)


def loader(pipeline, num_workers: int = 0, persistent: bool = False, batch_size: int = 4):
    return dict(batch_size=batch_size, num_workers=num_workers,
                persistent_workers=persistent and num_workers > 0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='pseudo_collate'),
                dataset=TaggedDataset(pipeline=pipeline))


def build_runner(work_dir, model: Recorder, train_loader: dict, max_epochs: int,
                 custom_hooks: list, val: bool = False, lr: float = 0.1, **kwargs) -> Runner:
    """A Runner with SGD, no logging clutter, checkpoints every epoch."""
    extra = {}
    if val:
        extra = dict(val_dataloader=loader([dict(type='TestStageTag', stage=0)]),
                     val_evaluator=dict(type='TestNoMetric'), val_cfg=dict())
    return Runner(model=model, work_dir=str(work_dir), train_dataloader=train_loader,
                  train_cfg=dict(by_epoch=True, max_epochs=max_epochs, val_interval=1),
                  optim_wrapper=dict(optimizer=dict(type='SGD', lr=lr)),
                  default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                                     logger=dict(type='LoggerHook', interval=100)),
                  custom_hooks=custom_hooks, default_scope='customkpt',
                  env_cfg=dict(mp_cfg=dict(mp_start_method='fork')), **extra, **kwargs)
