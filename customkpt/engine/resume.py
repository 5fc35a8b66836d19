"""Training randomness as a pure function of (seed, epoch): resumable runs.

mmengine seeds Python, NumPy and torch once, when the Runner is built, and
each dataloader worker once, when it starts (``seed + worker id``). The random
draws of epoch ``e`` (the augmentations of every sample, anything random in
the training step) then depend on everything drawn before it, and a run
resumed from the checkpoint of epoch ``e`` starts from other random states
than the run that went on: it trains on other augmentations and ends with
other weights.

:class:`EpochSeedHook` makes each epoch's randomness depend on the run's seed
and the epoch number alone:

* before each training epoch the main process reseeds Python's ``random``,
  NumPy's global generator and torch from ``(seed, epoch, rank)``;
* the training dataset's pipeline is wrapped so that each process that runs
  it (every dataloader worker, or the main process with ``num_workers=0``)
  reseeds the same three generators from ``(seed, epoch, rank, worker id)``
  before the first sample it prepares in an epoch, and restarts from a copy
  of the pipeline as it was before training (transforms that keep state
  from sample to sample start each epoch empty). Persistent workers learn
  the epoch through a shared integer.

The sampler's shuffle already depends on ``(seed, epoch)`` alone
(``DefaultSampler`` with ``DistSamplerSeedHook``), and torch hands the batches
of an epoch to the workers in a fixed order, so a run resumed from the
checkpoint of any epoch (also after being killed in the middle of the next
one) trains on exactly the samples and augmentations of the uninterrupted
run, as long as ``num_workers`` and the number of processes are the same.
"""
from __future__ import annotations

import copy
import multiprocessing
import random
from typing import Any, Callable

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from torch.utils.data import get_worker_info

from customkpt.registry import HOOKS

from .pipeline_switch import pipeline_datasets

# Seed-sequence tags of the two kinds of random streams of an epoch.
_MAIN, _LOADER = 0, 1


def epoch_seeds(seed: int, epoch: int, rank: int, stream: int) -> tuple[int, int, int]:
    """Seeds for Python, NumPy and torch of one random stream of an epoch.

    Args:
        seed: the run's seed (``randomness=dict(seed=...)``).
        epoch: the 0-based training epoch.
        rank: the process rank in distributed training (0 otherwise).
        stream: which stream: 0 the training loop of the main process,
            ``1 + w`` dataloader worker ``w`` (``1`` for data loaded in the
            main process).

    Returns:
        ``(python_seed, numpy_seed, torch_seed)``: a 63-bit, a 32-bit and a
        63-bit integer; distinct arguments give unrelated seeds.
    """
    sequence = np.random.SeedSequence([seed % 2**63, epoch, rank, stream])
    words = [int(w) for w in sequence.generate_state(3, dtype=np.uint64)]
    return words[0] % 2**63, words[1] % 2**32, words[2] % 2**63


def seed_generators(seed: int, epoch: int, rank: int, stream: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and
    CUDA) with :func:`epoch_seeds`."""
    py_seed, np_seed, torch_seed = epoch_seeds(seed, epoch, rank, stream)
    random.seed(py_seed)
    np.random.seed(np_seed)
    torch.manual_seed(torch_seed)


class EpochClock:
    """The current training epoch, shared with dataloader worker processes.

    The main process sets :attr:`epoch`; each process that prepares samples
    calls :meth:`enter_epoch` before each sample, which reseeds that process
    the first time it sees a new epoch.

    Args:
        seed: the run's seed.
        rank: this process's rank.
    """

    def __init__(self, seed: int, rank: int) -> None:
        self.seed = seed
        self.rank = rank
        # Written by the main process only, between epochs; inherited by
        # forked and spawned workers alike.
        self._shared = multiprocessing.RawValue('q', -1)
        self._seeded = -1           # per process: the epoch this process seeded for

    @property
    def epoch(self) -> int:
        return int(self._shared.value)

    @epoch.setter
    def epoch(self, value: int) -> None:
        self._shared.value = int(value)

    def enter_epoch(self) -> int:
        """Reseed this process's generators (by worker id) the first time it
        sees an epoch; the epoch (-1 before the first one)."""
        epoch = self.epoch
        if epoch >= 0 and epoch != self._seeded:
            info = get_worker_info()
            worker = 0 if info is None else info.id
            seed_generators(self.seed, epoch, self.rank, _LOADER + worker)
            self._seeded = epoch
        return epoch


class EpochSeededPipeline:
    """A dataset pipeline that starts every epoch afresh.

    Before the first sample of each epoch that a process prepares, the
    process is reseeded (:meth:`EpochClock.enter_epoch`) and the pipeline
    is replaced by a copy of the one given here, so that state a transform
    keeps from sample to sample (the patch pool of ``RandomOccluder``)
    starts empty in every epoch, resumed or not.

    Args:
        pipeline: the dataset's pipeline (called with the sample dict).
        clock: the run's :class:`EpochClock`, shared by every wrapped
            pipeline of the training set.
    """

    def __init__(self, pipeline: Callable[[dict], Any], clock: EpochClock) -> None:
        self.template = copy.deepcopy(pipeline)
        self.pipeline = pipeline
        self.clock = clock
        self._fresh_for = -1          # per process: the epoch self.pipeline was copied for

    def __call__(self, results: dict) -> Any:
        epoch = self.clock.enter_epoch()
        if epoch >= 0 and epoch != self._fresh_for:
            self.pipeline = copy.deepcopy(self.template)
            self._fresh_for = epoch
        return self.pipeline(results)

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.template!r})'


def _sampler_of(dataloader: Any) -> Any:
    sampler = getattr(dataloader, 'sampler', None)
    if not hasattr(sampler, 'seed'):
        sampler = getattr(getattr(dataloader, 'batch_sampler', None), 'sampler', None)
    return sampler


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Make every training epoch's randomness a function of (seed, epoch).

    See the module docstring. Put it in ``custom_hooks`` (the shared runtime
    config does). It runs after the other hooks of an epoch's start, so it
    also wraps a pipeline that another hook (``PipelineSwitchHook``) has just
    put in place, and nothing draws from the reseeded generators before the
    epoch's first batch.
    """

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.clock: EpochClock | None = None

    def before_train(self, runner) -> None:
        """Create the run's clock; align the sampler with the run's seed.

        A resumed run takes its seed from the checkpoint after the dataloader
        was built, so the sampler is given that seed here (unless each rank
        has its own seed: then the sampler keeps the one the ranks agreed on).
        """
        sampler = _sampler_of(runner.train_dataloader)
        per_rank = getattr(runner, '_randomness_cfg', {}).get('diff_rank_seed', False)
        if sampler is not None and hasattr(sampler, 'seed') and not per_rank:
            sampler.seed = runner.seed
        self.clock = EpochClock(runner.seed, get_rank())

    def before_train_epoch(self, runner) -> None:
        """Wrap the training pipeline(s), tell the workers the epoch and
        reseed the main process."""
        assert self.clock is not None, 'before_train did not run'
        for dataset in pipeline_datasets(runner.train_dataloader.dataset):
            if not isinstance(dataset.pipeline, EpochSeededPipeline):
                dataset.pipeline = EpochSeededPipeline(dataset.pipeline, self.clock)
        self.clock.epoch = runner.epoch
        seed_generators(self.clock.seed, runner.epoch, self.clock.rank, _MAIN)
