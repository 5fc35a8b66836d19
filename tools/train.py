"""Train a keypoint model from a config.

    python tools/train.py configs/hrnet_self5.py
    python tools/train.py CONFIG --work-dir work_dirs/run1 --amp
    python tools/train.py CONFIG --resume                # newest checkpoint in the work dir
    python tools/train.py CONFIG --resume path/to/epoch_20.pth
    torchrun --nproc_per_node 2 tools/train.py CONFIG --launcher pytorch
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys

try:
    import customkpt  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    import customkpt  # noqa: F401

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from customkpt.engine.config import (close_process_group, init_cpu_process_group,
                                     load_run_config, set_skip_invalid)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Train a customkpt keypoint model')
    p.add_argument('config', help='config file')
    p.add_argument('--work-dir', help='where logs and checkpoints go '
                   '(default: work_dirs/<config name>)')
    p.add_argument('--resume', nargs='?', const='auto', default=None,
                   help='resume from this checkpoint, or with no value from the newest '
                   'checkpoint in the work dir')
    p.add_argument('--amp', action='store_true',
                   help='mixed precision: float16 with loss scaling on a GPU, bfloat16 '
                   'autocast on the CPU')
    p.add_argument('--auto-scale-lr', action='store_true',
                   help='scale the learning rate by total batch / auto_scale_lr.base_batch_size')
    p.add_argument('--skip-invalid', action='store_true',
                   help='drop annotation records that fail validation instead of stopping')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config keys, e.g. train_cfg.max_epochs=5')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    p.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = p.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_config(args: argparse.Namespace) -> Config:
    cfg = load_run_config(args.config, args.cfg_options, args.launcher, args.work_dir)
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper').split('.')[-1]
        if wrapper in ('AmpOptimWrapper', 'BF16OptimWrapper'):
            print(f'mixed precision is already on in this config ({wrapper})')
        elif torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            cfg.optim_wrapper.type = 'BF16OptimWrapper'
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise SystemExit(f'{args.config}: --auto-scale-lr needs '
                             'auto_scale_lr = dict(base_batch_size=...) in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.skip_invalid:
        set_skip_invalid(cfg)
    return cfg


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cfg = build_config(args)
    init_cpu_process_group(args.launcher)
    runner = Runner.from_cfg(cfg)
    try:
        runner.train()
    finally:
        close_process_group()


if __name__ == '__main__':
    main()
