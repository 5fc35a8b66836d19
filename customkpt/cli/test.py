"""``customkpt test``: evaluate a trained checkpoint."""
from __future__ import annotations

import argparse
import os

from .common import make_parser

EXAMPLES = (
    'customkpt test CONFIG CHECKPOINT',
    'customkpt test CONFIG CHECKPOINT --out work_dirs/preds.json   # COCO results json',
    'customkpt test CONFIG CHECKPOINT --show-dir work_dirs/overlays --show-num 20',
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments (``LOCAL_RANK`` is set from ``--local-rank``)."""
    from mmengine.config import DictAction
    p = make_parser('test', 'Evaluate a customkpt checkpoint', EXAMPLES)
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--work-dir', help='where the test log goes '
                   '(default: work_dirs/<config name>)')
    p.add_argument('--out', help='write predictions here as a COCO keypoint results json')
    p.add_argument('--show-dir', help='write prediction overlays (PNG) into this folder')
    p.add_argument('--show-num', type=int, default=50, help='at most this many overlays')
    p.add_argument('--skip-invalid', action='store_true',
                   help='drop annotation records that fail validation instead of stopping')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    p.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = p.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def _as_list(evaluator) -> list:
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    return list(evaluator) if isinstance(evaluator, (list, tuple)) else [evaluator]


def build_config(args: argparse.Namespace):
    """The run's :class:`mmengine.config.Config` with the options applied."""
    from mmengine.config import ConfigDict

    from customkpt.engine.config import load_run_config, set_skip_invalid
    cfg = load_run_config(args.config, args.cfg_options, args.launcher, args.work_dir)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.skip_invalid:
        set_skip_invalid(cfg)
    if args.out:
        metrics = [ConfigDict(m) for m in _as_list(cfg.test_evaluator)]
        coco = [m for m in metrics if m.type.split('.')[-1] == 'CocoKeypointMetric']
        if not coco:
            coco = [ConfigDict(type='CocoKeypointMetric', format_only=True)]
            metrics += coco
        coco[0].outfile = args.out
        cfg.test_evaluator = metrics
    if args.show_dir:
        cfg.setdefault('custom_hooks', [])
        cfg.custom_hooks.append(dict(type='PredictionDrawingHook', out_dir=args.show_dir,
                                     max_images=args.show_num))
    return cfg


def main(argv: list[str] | None = None) -> dict:
    """Run the test loop; returns the metrics."""
    args = parse_args(argv)
    import customkpt.registry  # noqa: F401  (registries and the safe checkpoint loader)
    from mmengine.runner import Runner

    from customkpt.engine.config import close_process_group, init_cpu_process_group
    init_cpu_process_group(args.launcher)
    runner = Runner.from_cfg(build_config(args))
    try:
        metrics = runner.test()
    finally:
        close_process_group()
    if args.out:
        print(f'predictions written to {args.out}')
    return metrics
