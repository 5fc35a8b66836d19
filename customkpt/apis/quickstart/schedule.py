"""Sizing a training run to a dataset: batch, epochs, warm-up, validation
interval and input size, and the memory the batch has to fit in.

Plain arithmetic on a few numbers (no torch at import time), so each rule
can be read and tested on its own; :func:`size_schedule` combines them.
The rules, in the order they are applied:

* **batch**: the recipe's batch, but at most ``instances // 8`` (an epoch
  has at least 8 iterations) and at most what fits in half of the free
  memory at :data:`MEMORY_SHARE` (the model's measured bytes per sample,
  scaled by the input area), and at least 2 (1 for a single instance);
* **learning rate**: the recipe's, times ``sqrt(batch / recipe batch)`` (the
  square-root rule for Adam-type optimisers) when the batch is smaller,
  unless the recipe's ``lr_rule`` is ``'keep'``;
* **epochs**: enough for about :data:`TARGET_ITERATIONS` iterations (or the
  recipe's own target, e.g. RTMPose's from random weights), kept between
  :data:`MIN_EPOCHS` and :data:`MAX_EPOCHS`;
* **warm-up**: 1.5 epochs of iterations, but at least
  :data:`WARMUP_BOUNDS` [0] (50) and at most [1] (500) iterations, and at
  most a quarter of the run (at least one iteration). A fixed number of
  iterations as in MMPose's recipes (500 on COCO, 50 in its short runs):
  on small projects 1.5 epochs is only 12-20 iterations, and the longer
  warm-up trained better on both mouse projects (docs/benchmarks.md);
* **learning-rate steps** (recipes with ``lr_policy = 'step'``): one x0.1
  step at :data:`STEP_AT` (4/5) of the run instead of the recipe's two
  (MMPose's 170 and 200 of 210 epochs): at 20 and 30 epochs the second step
  left too little of the run to learn from (docs/benchmarks.md);
* **validation**: every ``max(1, epochs // 10)`` epochs (about ten
  validations; the last epoch is always validated);
* **input size** (w, h): the recipe's long and short side, portrait
  (short x long) for boxes taller than wide (median w / h below
  :data:`PORTRAIT_BELOW`), landscape above :data:`LANDSCAPE_ABOVE`, else
  the recipe's own size (a square long x long input costs 4/3 of the
  compute and trained worse on the about-square mirror-mouse boxes,
  docs/benchmarks.md).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

__all__ = ['TARGET_ITERATIONS', 'MIN_EPOCHS', 'MAX_EPOCHS', 'MEMORY_SHARE', 'DEFAULT_MEMORY',
           'PORTRAIT_BELOW', 'LANDSCAPE_ABOVE', 'MIN_ITERS_PER_EPOCH', 'WARMUP_BOUNDS',
           'STEP_AT', 'Schedule',
           'available_memory', 'host_memory', 'memory_batch_cap', 'pick_batch_size',
           'scale_lr', 'pick_epochs', 'pick_warmup', 'pick_val_interval', 'pick_input_size',
           'size_schedule']

#: Iterations a run aims for. The CPU-sized HRNet reaches COCO AP 0.85 on the
#: demo data in about 900 (docs/benchmarks.md); 2000 leaves room for harder data.
TARGET_ITERATIONS = 2000
#: Bounds on the number of epochs (the upper one only binds on tiny sets:
#: the batch rule keeps an epoch at :data:`MIN_ITERS_PER_EPOCH` or more
#: iterations from 16 instances on).
MIN_EPOCHS, MAX_EPOCHS = 10, 1000
#: Fewest iterations per epoch the batch size allows.
MIN_ITERS_PER_EPOCH = 8
#: Share of the free memory the training batch may use (the rest is for the
#: weights, the optimiser, data-loader workers and everything else).
MEMORY_SHARE = 0.5
#: Free memory assumed when it cannot be read.
DEFAULT_MEMORY = 8 * 1024 ** 3
#: Fewest and most warm-up iterations (before the quarter-of-the-run cap).
WARMUP_BOUNDS = (50, 500)
#: Where a step-decay recipe's one learning-rate step falls: after
#: ``epochs * STEP_AT[0] // STEP_AT[1]`` epochs.
STEP_AT = (4, 5)
#: Median box aspect (w / h) below which the input is portrait, above which landscape.
PORTRAIT_BELOW, LANDSCAPE_ABOVE = 0.866, 1.155
# No limit: cgroup v1 writes a number near 2**63.
_NO_LIMIT = 2 ** 60


@dataclass(frozen=True)
class Schedule:
    """The sized run.

    Attributes:
        input_size: network input (w, h).
        batch_size: training batch per process.
        lr: the learning rate for that batch.
        epochs: training epochs.
        iters_per_epoch: ``ceil(instances / batch_size)``.
        warmup_iters: iterations of the linear warm-up.
        val_interval: epochs between validations.
        why: one line per decision, for the report.
    """

    input_size: tuple[int, int]
    batch_size: int
    lr: float
    epochs: int
    iters_per_epoch: int
    warmup_iters: int
    val_interval: int
    why: tuple[str, ...]

    @property
    def iterations(self) -> int:
        """Training iterations of the whole run."""
        return self.epochs * self.iters_per_epoch


# ------------------------------------------------------------------- memory
def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_free(root: Path = Path('/sys/fs/cgroup')) -> int | None:
    """Memory left under this process's cgroup limit (v2 or v1), None without a limit."""
    for limit_file, usage_file in (('memory.max', 'memory.current'),
                                   ('memory/memory.limit_in_bytes',
                                    'memory/memory.usage_in_bytes')):
        limit = _read_int(root / limit_file)
        if limit is not None and limit < _NO_LIMIT:
            return max(0, limit - (_read_int(root / usage_file) or 0))
    return None


def _meminfo_available(path: Path = Path('/proc/meminfo')) -> int | None:
    """``MemAvailable`` of ``/proc/meminfo`` in bytes (None where there is none)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition(':')
        parts = value.split()
        if key.strip() == 'MemAvailable' and parts and parts[0].isdigit():
            return int(parts[0]) * 1024
    return None


def _sysconf_available() -> int | None:
    try:
        pages, size = os.sysconf('SC_AVPHYS_PAGES'), os.sysconf('SC_PAGE_SIZE')
    except (AttributeError, ValueError, OSError):
        return None
    return pages * size if pages > 0 and size > 0 else None


def host_memory(meminfo: Path = Path('/proc/meminfo'),
                cgroup: Path = Path('/sys/fs/cgroup')) -> tuple[int, str]:
    """Free host memory in bytes and where the number came from:
    ``MemAvailable`` of ``/proc/meminfo``, else ``os.sysconf``, else
    :data:`DEFAULT_MEMORY`; a smaller cgroup allowance wins."""
    found, where = _meminfo_available(meminfo), f'MemAvailable in {meminfo}'
    if found is None:
        found, where = _sysconf_available(), 'os.sysconf'
    if found is None:
        found, where = DEFAULT_MEMORY, 'assumed, free memory unreadable'
    limit = _cgroup_free(cgroup)
    if limit is not None and limit < found:
        found, where = limit, f'the cgroup limit in {cgroup}'
    return found, where


def available_memory() -> tuple[int, str]:
    """Free memory where training runs: the GPU's when torch sees one, else the host's."""
    import torch
    if torch.cuda.is_available():
        free, _ = torch.cuda.mem_get_info()
        return int(free), f'on {torch.cuda.get_device_name()}'
    return host_memory()


def memory_batch_cap(free_bytes: int, bytes_per_sample: int,
                     input_size: Sequence[int], reference_size: Sequence[int]) -> int:
    """The largest batch whose samples take at most :data:`MEMORY_SHARE` of
    ``free_bytes``; a sample's memory grows with the input area from
    ``bytes_per_sample`` at ``reference_size``."""
    area = (input_size[0] * input_size[1]) / (reference_size[0] * reference_size[1])
    return max(1, int(free_bytes * MEMORY_SHARE // (bytes_per_sample * area)))


# -------------------------------------------------------------------- rules
def pick_batch_size(num_instances: int, recipe_batch: int, memory_cap: int) -> int:
    """The recipe's batch within the data (>= :data:`MIN_ITERS_PER_EPOCH`
    iterations per epoch) and memory caps; at least 2 (1 for one instance)."""
    data_cap = max(2, num_instances // MIN_ITERS_PER_EPOCH)
    return max(1, min(recipe_batch, data_cap, memory_cap, num_instances))


def scale_lr(recipe_lr: float, batch: int, recipe_batch: int, rule: str = 'sqrt') -> float:
    """The recipe's learning rate scaled by ``sqrt(batch / recipe_batch)`` for
    a smaller batch (unchanged for the recipe's batch or more, or with
    ``rule='keep'``)."""
    if rule not in ('sqrt', 'keep'):
        raise ValueError(f"lr rule {rule!r}: expected 'sqrt' or 'keep'")
    if batch >= recipe_batch or rule == 'keep':
        return float(recipe_lr)
    return float(f'{recipe_lr * math.sqrt(batch / recipe_batch):.3g}')


def pick_epochs(iters_per_epoch: int, target: int = TARGET_ITERATIONS) -> int:
    """Epochs for about ``target`` iterations, within
    [:data:`MIN_EPOCHS`, :data:`MAX_EPOCHS`]."""
    return min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(target / iters_per_epoch)))


def pick_warmup(iters_per_epoch: int, epochs: int) -> int:
    """1.5 epochs of iterations within :data:`WARMUP_BOUNDS`, at most a
    quarter of the run, at least 1."""
    low, high = WARMUP_BOUNDS
    wanted = min(high, max(low, round(1.5 * iters_per_epoch)))
    return max(1, min(wanted, iters_per_epoch * epochs // 4))


def pick_val_interval(epochs: int) -> int:
    """Epochs between validations: about ten in the run."""
    return max(1, epochs // 10)


def pick_input_size(median_aspect: float, recipe_size: Sequence[int]) -> tuple[int, int]:
    """(w, h) from the recipe's sides, oriented like the boxes (median w / h);
    the recipe's own (w, h) for about-square boxes."""
    long, short = max(recipe_size), min(recipe_size)
    if median_aspect < PORTRAIT_BELOW:
        return short, long
    if median_aspect > LANDSCAPE_ABOVE:
        return long, short
    return int(recipe_size[0]), int(recipe_size[1])


def _aspect_words(aspect: float) -> str:
    if aspect < PORTRAIT_BELOW:
        return 'taller than wide'
    return 'wider than tall' if aspect > LANDSCAPE_ABOVE else 'about square'


def size_schedule(num_instances: int, median_aspect: float, recipe: dict,
                  bytes_per_sample: int, epochs: int | None = None,
                  memory: Callable[[], tuple[int, str]] = available_memory,
                  batch: int | None = None, epochs_from: str = '--epochs') -> Schedule:
    """Apply the module's rules.

    Args:
        num_instances: training instances (one sample each).
        median_aspect: median box width / height of the training instances.
        recipe: the recipe config's ``train_size``, ``batch_size`` and ``lr``
            (and optionally ``lr_rule``, see :func:`scale_lr`, and
            ``target_iterations``, the iterations to aim at instead of
            :data:`TARGET_ITERATIONS`).
        bytes_per_sample: training memory of one sample at ``recipe['train_size']``.
        epochs: a fixed number of epochs (``--epochs``) instead of the rule.
        memory: returns (free bytes, where that came from).
        batch: a fixed batch (``--cfg-options batch_size=N``) instead of the
            rule; the learning rate, epochs and warm-up follow it.
        epochs_from: where a fixed ``epochs`` came from, for the report.
    """
    size = pick_input_size(median_aspect, recipe['train_size'])
    free, where = memory()
    cap = memory_batch_cap(free, bytes_per_sample, size, recipe['train_size'])
    given = batch
    batch = int(given) if given else pick_batch_size(num_instances, int(recipe['batch_size']),
                                                     cap)
    lr = scale_lr(recipe['lr'], batch, int(recipe['batch_size']), recipe.get('lr_rule', 'sqrt'))
    ipe = math.ceil(num_instances / batch)
    target = int(recipe.get('target_iterations') or TARGET_ITERATIONS)
    n_epochs = int(epochs) if epochs else pick_epochs(ipe, target)
    warmup = pick_warmup(ipe, n_epochs)
    val = pick_val_interval(n_epochs)
    why = (
        f'input {size[0]}x{size[1]} (w x h): boxes are {_aspect_words(median_aspect)} '
        f'(median w/h {median_aspect:.2f}); the recipe trains at '
        f'{recipe["train_size"][0]}x{recipe["train_size"][1]}',
        f'batch {batch}: ' + ('given (--cfg-options batch_size), ' if given else '')
        + f'recipe {recipe["batch_size"]}, data cap '
        f'{max(2, num_instances // MIN_ITERS_PER_EPOCH)} ({num_instances} instances, >= '
        f'{MIN_ITERS_PER_EPOCH} iterations per epoch), memory cap {cap} '
        f'({free / 1024 ** 3:.1f} GiB free: {where})',
        f'lr {lr:g}' + (' (the recipe\'s)' if lr == recipe['lr'] else
                        f': the recipe\'s {recipe["lr"]:g} x sqrt({batch}/{recipe["batch_size"]})'),
        f'{n_epochs} epoch{"s" if n_epochs != 1 else ""} of {ipe} iterations = '
        f'{n_epochs * ipe} iterations'
        + (f' ({epochs_from})' if epochs else f' (aiming at {target}, '
           f'{MIN_EPOCHS}-{MAX_EPOCHS} epochs)'),
        f'warm-up {warmup} iterations, validation every {val} epochs',
    )
    return Schedule(size, batch, lr, n_epochs, ipe, warmup, val, why)
