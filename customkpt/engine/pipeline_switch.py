"""Switching the training pipeline for the last epochs of a run.

Some recipes (RTMPose's among them) train most epochs with strong
augmentation and the last few with a lighter pipeline. The switch has to
reach the data loader's worker processes: each worker holds its own copy of
the dataset, and with ``persistent_workers=True`` those workers live for the
whole run, so replacing the main process's pipeline alone would change
nothing. The hook therefore shuts the persistent workers down after the
switch; the next epoch starts new ones, which copy the switched dataset.
"""
from __future__ import annotations

import copy
from typing import Any, Iterator, Sequence

from mmengine.dataset import Compose
from mmengine.hooks import Hook

from customkpt.registry import HOOKS

__all__ = ['PipelineSwitchHook', 'pipeline_datasets', 'restart_workers']


def pipeline_datasets(dataset: Any) -> Iterator[Any]:
    """The datasets whose ``pipeline`` makes the samples of ``dataset``: the
    dataset itself when it has a pipeline, else those inside its wrappers
    (``.datasets`` of a concatenation, ``.dataset`` of a repeat or subset)."""
    if hasattr(dataset, 'pipeline'):
        yield dataset
        return
    inner = getattr(dataset, 'datasets', None)
    if inner is None and getattr(dataset, 'dataset', None) is not None:
        inner = [dataset.dataset]
    for child in inner or []:
        yield from pipeline_datasets(child)


def restart_workers(loader: Any) -> bool:
    """Shut down the persistent worker processes of a torch ``DataLoader``,
    so that its next iteration starts new ones from the current dataset.

    ``DataLoader`` keeps persistent workers in its ``_iterator`` and reuses
    them every epoch; there is no public call to drop them. Returns whether
    workers were running.
    """
    iterator = getattr(loader, '_iterator', None)
    if iterator is None:
        return False
    shutdown = getattr(iterator, '_shutdown_workers', None)
    if shutdown is not None:
        shutdown()
    loader._iterator = None
    return True


@HOOKS.register_module()
class PipelineSwitchHook(Hook):
    """From epoch ``switch_epoch`` (0-based) on, train with ``switch_pipeline``.

    At the start of the first training epoch whose index is at least
    ``switch_epoch`` (also right after resuming a run past it), every
    dataset that makes the training samples gets the new pipeline, and the
    loader's persistent workers are restarted (see
    :func:`restart_workers`); later epochs are left alone. Epoch-based
    training loops only.

    Args:
        switch_epoch: the first epoch (0-based, as ``runner.epoch``) of the
            new pipeline; ``max_epochs - n`` switches for the last ``n``.
        switch_pipeline: the transform configs of the new pipeline.

    Raises:
        TypeError: the training loop is not epoch-based, or its dataset has
            no pipeline to replace.
    """

    priority = 'NORMAL'

    def __init__(self, switch_epoch: int, switch_pipeline: Sequence[dict]) -> None:
        if int(switch_epoch) < 0:
            raise ValueError(f'PipelineSwitchHook: switch_epoch must be >= 0, got {switch_epoch}')
        if not switch_pipeline:
            raise ValueError('PipelineSwitchHook: switch_pipeline is empty')
        self.switch_epoch = int(switch_epoch)
        self.switch_pipeline = [copy.deepcopy(step) for step in switch_pipeline]
        self.switched = False

    def before_train(self, runner) -> None:
        loop = runner.train_loop
        if not hasattr(loop, 'max_epochs') or not hasattr(loop, 'dataloader'):
            raise TypeError('PipelineSwitchHook needs an epoch-based training loop, got '
                            f'{type(loop).__name__}')
        if self.switch_epoch >= loop.max_epochs:
            runner.logger.warning(f'PipelineSwitchHook: switch_epoch {self.switch_epoch} is '
                                  f'not below max_epochs {loop.max_epochs}: no switch')

    def before_train_epoch(self, runner) -> None:
        if self.switched or runner.epoch < self.switch_epoch:
            return
        loader = runner.train_loop.dataloader
        datasets = list(pipeline_datasets(loader.dataset))
        if not datasets:
            raise TypeError(f'PipelineSwitchHook: the training dataset '
                            f'{type(loader.dataset).__name__} has no pipeline to replace')
        for dataset in datasets:
            dataset.pipeline = Compose(copy.deepcopy(self.switch_pipeline))
        restarted = restart_workers(loader)
        self.switched = True
        runner.logger.info(f'PipelineSwitchHook: from epoch {runner.epoch + 1} on, training '
                           f'uses the switched pipeline ({len(self.switch_pipeline)} steps)'
                           + ('; data workers restarted' if restarted else ''))
