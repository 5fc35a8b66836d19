"""``customkpt train``: train a keypoint model from a config, or from a
dataset alone with ``--data`` (:mod:`customkpt.apis.quickstart` writes the
config, then the same training runs and the best checkpoint is evaluated)."""
from __future__ import annotations

import argparse
from pathlib import Path

from customkpt.errors import UserError

from .common import make_parser, parse_run_args, run_loop

EXAMPLES = (
    'customkpt train configs/hrnet_self5.py',
    'customkpt train CONFIG --work-dir work_dirs/run1 --amp',
    'customkpt train CONFIG --resume                # newest checkpoint in the work dir',
    'customkpt train CONFIG --resume path/to/epoch_20.pth',
    'torchrun --nproc_per_node 2 tools/train.py CONFIG --launcher pytorch',
    'customkpt train --data path/to/dlc-project     # convert, split, size, train, evaluate',
    'customkpt train --data annotations/train.json --images path/to/images --model rtmpose-s',
    'customkpt train --data data/mouse --epochs 50 --prepare-only   # write WORK_DIR/config.py',
)
NOTES = """\
With --data instead of a CONFIG, the data is recognised by what is on disk (a
COCO-keypoint json, or a folder with train.json [+ val.json]; a DeepLabCut
project, table or Lightning Pose folder; a Labelme folder), converted and
split into WORK_DIR/data/ when needed, the schedule is sized to it, and the
full config is written to WORK_DIR/config.py (train it again with
`customkpt train WORK_DIR/config.py`). After training the best checkpoint is
evaluated on val (WORK_DIR/metrics.json). See docs/training.md.
"""
#: Options that only mean something with --data: dest -> flag.
DATA_OPTIONS = {'images': '--images', 'model': '--model', 'epochs': '--epochs',
                'val_fraction': '--val-fraction', 'prepare_only': '--prepare-only'}


def _add_data_options(p: argparse.ArgumentParser) -> None:
    from customkpt.apis.quickstart import RECIPES
    g = p.add_argument_group('training on a dataset without a config (--data)')
    g.add_argument('--images', help='the folder a COCO-keypoint file\'s file_name entries are '
                   'relative to (default: found beside the file)')
    g.add_argument('--model', choices=sorted(RECIPES),
                   help='the model (default: hrnet-w32 with a GPU, else hrnet-cpu)')
    g.add_argument('--epochs', type=int, help='train this many epochs (default: sized to '
                   'the data, about 2000 iterations; 6000 for RTMPose from random weights)')
    g.add_argument('--val-fraction', type=float, help='share of the images held out for '
                   'validation when the data has no val split (default 0.15)')
    g.add_argument('--prepare-only', action='store_true', help='write the data and '
                   'WORK_DIR/config.py, then stop')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments (``LOCAL_RANK`` is set from ``--local-rank``)."""
    p = make_parser('train', 'Train a customkpt keypoint model', EXAMPLES, NOTES)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument('config', nargs='?', help='config file (or --data instead)')
    source.add_argument('--data', help='a dataset to train on without a config (see below)')
    p.add_argument('--work-dir', help='where logs and checkpoints go (default: '
                   'work_dirs/<config name>; with --data work_dirs/<data name>_<model>)')
    p.add_argument('--resume', nargs='?', const='auto', default=None,
                   help='resume from this checkpoint, or with no value from the newest '
                   'checkpoint in the work dir')
    p.add_argument('--amp', action='store_true',
                   help='mixed precision: float16 with loss scaling on a GPU, bfloat16 '
                   'autocast on the CPU')
    p.add_argument('--auto-scale-lr', action='store_true',
                   help='scale the learning rate by total batch / auto_scale_lr.base_batch_size')
    _add_data_options(p)
    args = parse_run_args(p, argv)
    _check_modes(p, args)
    return args


def _check_modes(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse --data options with a CONFIG, and --data with a launcher."""
    if args.data is None:
        given = [flag for dest, flag in DATA_OPTIONS.items() if getattr(args, dest)]
        if given:
            p.error(f'{", ".join(given)} only go with --data (a config sets these itself)')
        return
    if args.launcher != 'none':
        p.error('--data runs in one process: prepare with --prepare-only, then launch '
                'WORK_DIR/config.py')
    if args.epochs is not None and args.epochs < 1:
        p.error(f'--epochs must be at least 1, got {args.epochs}')


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


def _say(line: str) -> None:
    print(f'[train --data] {line}', flush=True)


def evaluate_best(config: Path, work_dir: Path, skip_invalid: bool) -> tuple[Path, dict]:
    """Evaluate the work dir's best checkpoint on the val split (the config's
    test loader), logging into ``work_dir/eval``; the checkpoint and metrics."""
    from customkpt.apis.quickstart import best_checkpoint

    from . import test
    ckpt = best_checkpoint(work_dir)
    if ckpt is None:
        raise UserError(f'{work_dir}: the run saved no checkpoint to evaluate')
    argv = [str(config), str(ckpt), '--work-dir', str(work_dir / 'eval')]
    cfg = test.build_config(test.parse_args(argv + (['--skip-invalid'] if skip_invalid else [])))
    cfg.visualizer.name = 'visualizer_eval'  # one Visualizer per name and process
    return ckpt, run_loop(cfg, 'none', 'test')


def train_on_data(args: argparse.Namespace) -> dict | None:
    """``--data``: prepare the run, train it, evaluate the best checkpoint and
    say where everything is. Returns the metrics (None with --prepare-only)."""
    from customkpt.apis.quickstart import prepare_run, training_logs, write_metrics
    plan = prepare_run(args.data, model=args.model, work_dir=args.work_dir, images=args.images,
                       epochs=args.epochs, val_fraction=args.val_fraction,
                       cfg_options=args.cfg_options)
    for line in plan.lines:
        _say(line)
    if args.prepare_only:
        _say(f'prepared; train with: customkpt train {plan.config}')
        return None
    args.config, args.cfg_options, args.work_dir = str(plan.config), None, str(plan.work_dir)
    run_loop(build_config(args), args.launcher, 'train')
    ckpt, metrics = evaluate_best(plan.config, plan.work_dir, args.skip_invalid)
    metrics_file = write_metrics(plan.work_dir, ckpt, metrics)
    log, scalars = training_logs(plan.work_dir)
    headline = ', '.join(f'{k} {metrics[k]:.3f}' for k in ('PCK', 'coco/AP', 'AUC', 'EPE')
                         if k in metrics)
    _say(f'config:      {plan.config}  (again: customkpt train {plan.config})')
    _say(f'checkpoints: {plan.work_dir} (best: {ckpt.name})')
    _say(f'metrics:     {metrics_file}  ({headline})')
    _say(f'logs:        {log}' + (f', {scalars}' if scalars else ''))
    _say(f'curves:      customkpt plot {plan.work_dir} --out {plan.work_dir / "curves.png"}')
    return metrics


def main(argv: list[str] | None = None) -> dict | None:
    """Train until the config's last epoch (with ``--data``: prepare, train, evaluate)."""
    args = parse_args(argv)
    if args.data is not None:
        return train_on_data(args)
    run_loop(build_config(args), args.launcher, 'train')
    return None
