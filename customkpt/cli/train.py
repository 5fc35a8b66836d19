"""``customkpt train``: train a keypoint model from a config."""
from __future__ import annotations

import argparse
import os

from .common import make_parser

EXAMPLES = (
    'customkpt train configs/hrnet_self5.py',
    'customkpt train CONFIG --work-dir work_dirs/run1 --amp',
    'customkpt train CONFIG --resume                # newest checkpoint in the work dir',
    'customkpt train CONFIG --resume path/to/epoch_20.pth',
    'torchrun --nproc_per_node 2 tools/train.py CONFIG --launcher pytorch',
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments (``LOCAL_RANK`` is set from ``--local-rank``)."""
    from mmengine.config import DictAction
    p = make_parser('train', 'Train a customkpt keypoint model', EXAMPLES)
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


def _set_amp(cfg) -> None:
    import torch
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper').split('.')[-1]
    if wrapper in ('AmpOptimWrapper', 'BF16OptimWrapper'):
        print(f'mixed precision is already on in this config ({wrapper})')
    elif torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        cfg.optim_wrapper.type = 'BF16OptimWrapper'


def build_config(args: argparse.Namespace):
    """The run's :class:`mmengine.config.Config` with the options applied."""
    from customkpt.engine.config import load_run_config, set_skip_invalid
    cfg = load_run_config(args.config, args.cfg_options, args.launcher, args.work_dir)
    if args.amp:
        _set_amp(cfg)
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
    """Train until the config's last epoch."""
    args = parse_args(argv)
    cfg = build_config(args)
    import customkpt.registry  # noqa: F401  (registries and the safe checkpoint loader)
    from mmengine.runner import Runner

    from customkpt.engine.config import close_process_group, init_cpu_process_group
    init_cpu_process_group(args.launcher)
    runner = Runner.from_cfg(cfg)
    try:
        runner.train()
    finally:
        close_process_group()
