"""Training-sample pipeline throughput, per core, with a per-transform breakdown.

Builds the train dataset of a config and pushes samples through its whole
train pipeline in this one process on one thread (OpenCV and torch limited to
one thread), so samples/s is per core: a DataLoader with ``num_workers=n``
gets about n times that on n free cores. Two variants run side by side: the
config's pipeline with images decoded on every read, and the same with
``LoadImage(cache='memory')`` after one warm pass (each image decoded once).

    python benchmarks/bench_pipeline.py configs/openfield_mouse.py      # 640x480 PNG frames
    python benchmarks/bench_pipeline.py configs/hrnet_self5.py --samples 300
"""
from __future__ import annotations

import argparse
import copy
import os
import platform
import time
from collections import defaultdict

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from customkpt.engine.config import load_config
from customkpt.registry import DATASETS, TRANSFORMS


def build_dataset(cfg: Config, cache: str | None):
    """The config's train dataset without a pipeline, and its transforms
    built separately (so each can be timed)."""
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    steps = copy.deepcopy(ds_cfg.pop('pipeline'))
    for step in steps:
        if step['type'].split('.')[-1] == 'LoadImage':
            step['cache'] = cache
            step.pop('cache_dir', None)
    ds_cfg['pipeline'] = []
    with DefaultScope.overwrite_default_scope('customkpt'):
        dataset = DATASETS.build(ds_cfg)
        transforms = [TRANSFORMS.build(s) for s in steps]
    return dataset, transforms


def run(dataset, transforms, n: int, seed: int = 0) -> tuple[float, dict[str, float]]:
    """Seconds per sample over ``n`` samples, and per-transform seconds."""
    np.random.seed(seed)
    per_step: dict[str, float] = defaultdict(float)
    start = time.perf_counter()
    for i in range(n):
        results = dataset.get_data_info(i % len(dataset))
        for t in transforms:
            t0 = time.perf_counter()
            results = t(results)
            per_step[type(t).__name__] += time.perf_counter() - t0
    total = time.perf_counter() - start
    return total / n, {k: v / n for k, v in per_step.items()}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--samples', type=int, default=None,
                   help='samples per variant (default: two passes over the dataset)')
    p.add_argument('--cfg-options', nargs='*', default=[],
                   help='key=value overrides, e.g. data_root=...')
    args = p.parse_args(argv)
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    cfg = load_config(args.config, dict(opt.split('=', 1) for opt in args.cfg_options))
    rows = {}
    for cache in (None, 'memory'):
        dataset, transforms = build_dataset(cfg, cache)
        n = args.samples or 2 * len(dataset)
        # A warm pass first: library start-up costs, and for the memory cache
        # the steady state of later epochs (every image decoded once).
        run(dataset, transforms, len(dataset) if cache == 'memory' else min(20, len(dataset)))
        rows[cache or 'none'] = run(dataset, transforms, n)
    size = next((t.input_size for t in transforms if hasattr(t, 'input_size')), None)
    print(f'# {args.config}: {len(dataset)} samples, crop {size}, '
          f'{platform.machine()} {os.cpu_count()} cores, 1 thread')
    base = rows['none'][0]
    print('| image cache | ms / sample | samples / s / core | speed-up |')
    print('| --- | --- | --- | --- |')
    for name, (sec, _) in rows.items():
        print(f'| {name} | {1000 * sec:.2f} | {1 / sec:.0f} | {base / sec:.2f}x |')
    print('\n| transform | ms / sample (no cache) | ms / sample (memory cache) |')
    print('| --- | --- | --- |')
    for step in rows['none'][1]:
        print(f"| {step} | {1000 * rows['none'][1][step]:.2f} | "
              f"{1000 * rows['memory'][1][step]:.2f} |")
    return rows


if __name__ == '__main__':
    main()
