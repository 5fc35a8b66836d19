"""``customkpt test``: evaluate a trained checkpoint."""
from __future__ import annotations

import argparse

from .common import make_parser, parse_run_args, run_loop

EXAMPLES = (
    'customkpt test CONFIG CHECKPOINT',
    'customkpt test CONFIG CHECKPOINT --out work_dirs/preds.json   # COCO results json',
    'customkpt test CONFIG CHECKPOINT --show-dir work_dirs/overlays --show-num 20',
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments (``LOCAL_RANK`` is set from ``--local-rank``)."""
    p = make_parser('test', 'Evaluate a customkpt checkpoint', EXAMPLES)
    p.add_argument('config', help='the config file the checkpoint was trained with')
    p.add_argument('checkpoint', help='the checkpoint to evaluate (.pth or .safetensors)')
    p.add_argument('--work-dir', help='where the test log goes '
                   '(default: work_dirs/<config name>)')
    p.add_argument('--out', help='write predictions here as a COCO keypoint results json')
    p.add_argument('--show-dir', help='write prediction overlays (PNG) into this folder')
    p.add_argument('--show-num', type=int, default=50, help='at most this many overlays')
    return parse_run_args(p, argv)


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
    metrics = run_loop(build_config(args), args.launcher, 'test')
    if args.out:
        print(f'predictions written to {args.out}')
    return metrics
