"""``customkpt train``: train a keypoint model from a config."""
from __future__ import annotations

import argparse

from customkpt.errors import UserError

from .common import make_parser, parse_run_args, run_loop

EXAMPLES = (
    'customkpt train configs/hrnet_self5.py',
    'customkpt train CONFIG --work-dir work_dirs/run1 --amp',
    'customkpt train CONFIG --resume                # newest checkpoint in the work dir',
    'customkpt train CONFIG --resume path/to/epoch_20.pth',
    'torchrun --nproc_per_node 2 tools/train.py CONFIG --launcher pytorch',
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments (``LOCAL_RANK`` is set from ``--local-rank``)."""
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
    return parse_run_args(p, argv)


def set_amp(cfg) -> None:
    """Turn on mixed precision for ``--amp``: float16 with loss scaling on a
    GPU, bfloat16 autocast on a CPU that computes bf16 natively; a CPU that
    emulates bf16 (far slower than float32) trains in float32, said in one line."""
    import torch
    from mmengine.logging import print_log

    from customkpt.engine.optim_wrapper import cpu_bf16_support
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper').split('.')[-1]
    if wrapper in ('AmpOptimWrapper', 'BF16OptimWrapper'):
        print_log(f'--amp: mixed precision is already on in this config ({wrapper})',
                  logger='current')
    elif torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        native, why = cpu_bf16_support()
        if native:
            cfg.optim_wrapper.type = 'BF16OptimWrapper'
        else:
            print_log(f'--amp: training in float32 because {why}; bfloat16 autocast '
                      'would make every step slower', logger='current')


def build_config(args: argparse.Namespace):
    """The run's :class:`mmengine.config.Config` with the options applied."""
    from customkpt.engine.config import load_run_config, set_skip_invalid
    cfg = load_run_config(args.config, args.cfg_options, args.launcher, args.work_dir)
    if args.amp:
        set_amp(cfg)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise UserError(f'{args.config}: --auto-scale-lr needs '
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
    run_loop(build_config(args), args.launcher, 'train')
