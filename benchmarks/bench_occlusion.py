"""Does occlusion augmentation make a model robust to occlusion?

Trains two configs with the same budget - a clean one and its occlusion-
augmented twin - through ``tools/train.py``, then evaluates each final
checkpoint through ``tools/test.py`` twice: on the clean validation set and on
the same set with seeded synthetic occluders (``FixedOcclusion`` inserted
after ``TopdownAffine``; every validation sample gets the same occluders for
both models). Prints a markdown table: model x {clean, occluded} x metrics.

    python benchmarks/bench_occlusion.py --epochs 20
    python benchmarks/bench_occlusion.py --clean configs/openfield_mouse.py \\
        --occluded configs/openfield_mouse_occlusion.py --epochs 30
    python benchmarks/bench_occlusion.py --epochs 1 --work-dir /tmp/bench_occ \\
        --cfg-options train_dataloader.dataset.data_root=/tmp/self5/ ...

Both runs get the same seed, epochs and schedule (epoch-based scheduler ends
and milestones are rescaled to ``--epochs``); validation during training runs
only after the last epoch (the evaluation here is the one that counts).
Generated configs, logs, checkpoints and metrics go under ``--work-dir``;
``--skip-train`` evaluates checkpoints already there.
"""
from __future__ import annotations

import argparse
import copy
import json
import os.path as osp
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from mmengine.config import Config, DictAction

from customkpt.engine.config import load_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Metrics shown in the table, in this order, when the evaluators report them.
SHOWN = ('coco/AP', 'PCK', 'PCKh', 'EPE')
CONDITIONS = ('clean', 'occluded')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Clean vs occlusion-augmented training, evaluated '
                                'on clean and synthetically occluded validation data')
    p.add_argument('--clean', default='configs/hrnet_self5_cpu.py', help='the baseline config')
    p.add_argument('--occluded', default='configs/hrnet_self5_cpu_occlusion.py',
                   help='the config with occlusion augmentation')
    p.add_argument('--epochs', type=int, required=True, help='training epochs of both runs')
    p.add_argument('--work-dir', default='work_dirs/bench_occlusion')
    p.add_argument('--seed', type=int, default=0, help='training seed of both runs')
    p.add_argument('--occlusion-seed', type=int, default=0, help='FixedOcclusion seed')
    p.add_argument('--keypoint-prob', type=float, default=None,
                   help='FixedOcclusion keypoint_prob (default: the transform\'s)')
    p.add_argument('--skip-train', action='store_true',
                   help='evaluate the checkpoints already in the work dir')
    p.add_argument('--out', help='also write the markdown table to this file')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='overrides applied to both configs (e.g. data paths)')
    return p.parse_args(argv)


# ------------------------------------------------------------------ configs
def set_budget(cfg: Config, epochs: int, seed: int) -> None:
    """Train for ``epochs`` with ``seed``, no validation during training, and
    epoch-based schedulers rescaled from the config's length to ``epochs``."""
    old = int(cfg.train_cfg.get('max_epochs', epochs))
    cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_interval = epochs + 1  # mmengine still validates after the last epoch
    cfg.randomness = dict(seed=seed)
    schedulers = cfg.get('param_scheduler') or []
    for sched in schedulers if isinstance(schedulers, list) else [schedulers]:
        if not sched.get('by_epoch', True) or old == epochs:
            continue
        for key in ('begin', 'end', 'T_max'):
            if key in sched:
                sched[key] = epochs if sched[key] >= old else int(round(sched[key] * epochs / old))
        if 'milestones' in sched:
            sched.milestones = sorted({max(1, int(round(m * epochs / old)))
                                       for m in sched.milestones})


def occluded_test_config(cfg: Config, seed: int, keypoint_prob: float | None) -> Config:
    """``cfg`` with FixedOcclusion right after TopdownAffine in the test pipeline."""
    cfg = copy.deepcopy(cfg)
    pipeline = cfg.test_dataloader.dataset.pipeline
    names = [str(t['type']).split('.')[-1] for t in pipeline]
    if 'TopdownAffine' not in names:
        raise SystemExit(f'the test pipeline has no TopdownAffine: {names}')
    occlusion = dict(type='FixedOcclusion', seed=seed)
    if keypoint_prob is not None:
        occlusion['keypoint_prob'] = keypoint_prob
    pipeline.insert(names.index('TopdownAffine') + 1, occlusion)
    return cfg


def occlusion_rate(cfg: Config) -> tuple[float, int]:
    """Fraction of labelled keypoints FixedOcclusion covers in the test set,
    and the number of instances."""
    from mmengine.registry import init_default_scope

    from customkpt.registry import DATASETS
    init_default_scope(cfg.get('default_scope', 'customkpt'))
    dataset_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    pipeline = dataset_cfg.pipeline
    names = [str(t['type']).split('.')[-1] for t in pipeline]
    dataset_cfg.pipeline = pipeline[:names.index('FixedOcclusion') + 1]
    dataset = DATASETS.build(dataset_cfg)
    occluded = labelled = 0
    for i in range(len(dataset)):
        sample = dataset[i]
        occluded += int(np.sum(sample['keypoints_occluded']))
        labelled += int(np.sum(np.asarray(sample['keypoints_visible']) >= 0.5))
    return occluded / max(labelled, 1), len(dataset)


# ------------------------------------------------------------------ runs
def run_tool(args: list[str], log: Path) -> None:
    """Run a tool as a subprocess, its output into ``log``; stop on failure."""
    start = time.time()
    with open(log, 'w') as out:
        code = subprocess.call([sys.executable, *args], cwd=ROOT, stdout=out,
                               stderr=subprocess.STDOUT)
    if code != 0:
        tail = log.read_text().splitlines()[-30:]
        raise SystemExit(f'{" ".join(args[:2])} failed (exit {code}); end of {log}:\n' +
                         '\n'.join(tail))
    print(f'  {args[0]} done in {time.time() - start:.0f} s (log: {log})', flush=True)


def final_checkpoint(work_dir: Path) -> Path:
    pointer = work_dir / 'last_checkpoint'
    if not pointer.is_file():
        raise SystemExit(f'no {pointer}: train first (without --skip-train)')
    ckpt = Path(pointer.read_text().strip())
    return ckpt if ckpt.is_absolute() else Path(ROOT) / ckpt


def read_test_metrics(work_dir: Path) -> dict:
    """The metrics mmengine's logger dumped as ``<timestamp>/<timestamp>.json``
    in a test work dir (the newest run)."""
    runs = sorted(p for p in work_dir.iterdir() if p.is_dir() and (p / f'{p.name}.json').is_file())
    if not runs:
        raise SystemExit(f'no test metrics json under {work_dir}')
    text = (runs[-1] / f'{runs[-1].name}.json').read_text().strip().splitlines()[-1]
    return json.loads(text)


def table(results: dict) -> str:
    """Markdown: one row per model, metric columns per condition."""
    keys = [k for k in SHOWN if any(k in m for per in results.values() for m in per.values())]
    head = ['model'] + [f'{cond} {k}' for cond in CONDITIONS for k in keys]
    lines = ['| ' + ' | '.join(head) + ' |', '| ' + ' | '.join(['---'] * len(head)) + ' |']
    for model, per in results.items():
        cells = [model]
        for cond in CONDITIONS:
            for k in keys:
                value = per.get(cond, {}).get(k)
                cells.append('-' if value is None else f'{value:.2f}' if k == 'EPE'
                             else f'{value:.3f}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.epochs < 1:
        raise SystemExit('--epochs must be >= 1')
    root = Path(args.work_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    rate = None
    for name, path in (('clean training', args.clean), ('occlusion training', args.occluded)):
        tag = 'clean' if name.startswith('clean') else 'occlusion'
        run_dir = root / tag
        run_dir.mkdir(exist_ok=True)
        cfg = load_config(osp.join(ROOT, path) if not osp.isabs(path) else path,
                          args.cfg_options)
        set_budget(cfg, args.epochs, args.seed)
        train_cfg = run_dir / 'train_config.py'
        cfg.dump(str(train_cfg))
        print(f'{name}: {path}, {args.epochs} epoch(s)', flush=True)
        if not args.skip_train:
            run_tool(['tools/train.py', str(train_cfg), '--work-dir', str(run_dir)],
                     run_dir / 'train.log')
        ckpt = final_checkpoint(run_dir)
        results[name] = {}
        for cond in CONDITIONS:
            test_cfg = cfg if cond == 'clean' else occluded_test_config(
                cfg, args.occlusion_seed, args.keypoint_prob)
            if cond == 'occluded' and rate is None:
                rate = occlusion_rate(test_cfg)
            cfg_file = run_dir / f'test_{cond}_config.py'
            test_cfg.dump(str(cfg_file))
            test_dir = run_dir / f'test_{cond}'
            run_tool(['tools/test.py', str(cfg_file), str(ckpt), '--work-dir', str(test_dir)],
                     run_dir / f'test_{cond}.log')
            results[name][cond] = read_test_metrics(test_dir)

    text = table(results)
    notes = (f'\n\nBudget: {args.epochs} epoch(s), seed {args.seed}. Occluded = FixedOcclusion '
             f'(seed {args.occlusion_seed}) after TopdownAffine')
    if rate is not None:
        notes += (f', covering {rate[0]:.1%} of the labelled keypoints of the '
                  f'{rate[1]} test instances')
    notes += '.'
    print()
    print(text + notes)
    if args.out:
        Path(args.out).write_text(text + notes + '\n')
    (root / 'results.json').write_text(json.dumps(results, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
