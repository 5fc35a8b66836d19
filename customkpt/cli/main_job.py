"""``customkpt main-job``: the main job on the embedded default.

Make the demo data, check it, draw it, evaluate the untrained model, train
the CPU-sized HRNet, evaluate it, and write metrics, a learning curve and
prediction overlays.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from mmengine.config import Config

from customkpt.demo import make_self5_dataset

from .browse import browse
from .common import REPO_ROOT, make_parser

CONFIG = REPO_ROOT / 'configs' / 'hrnet_self5_cpu.py'
EXAMPLES = (
    'customkpt main-job                 # what `bash tools/run_main_job.sh` runs',
    'customkpt main-job --epochs 5      # shorter training',
    'customkpt main-job --quick         # small data, 1 epoch: a smoke run',
)
NOTES = """\
The demo data goes to --data (default data/self5), everything else under
--work-dir (default work_dirs/main_job). Running it again reuses the data.
"""


def _say(msg: str) -> None:
    print(f'[main job] {msg}', flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = make_parser('main-job', 'customkpt main job on the demo data', EXAMPLES, NOTES)
    p.add_argument('--data', default=str(REPO_ROOT / 'data' / 'self5'))
    p.add_argument('--work-dir', default=str(REPO_ROOT / 'work_dirs' / 'main_job'))
    p.add_argument('--epochs', type=int, help='training epochs (default: the config\'s)')
    p.add_argument('--quick', action='store_true', help='a small dataset, 1 epoch (smoke run)')
    return p.parse_args(argv)


def demo_config(data: Path) -> Config:
    """The CPU-sized self5 config, pointed at ``data``."""
    from customkpt.engine.config import load_config
    cfg = load_config(str(CONFIG))
    root = str(data) + '/'
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = root
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        for metric in evaluator:
            if 'ann_file' in metric:
                metric.ann_file = root + cfg.val_ann_file
    return cfg


def check_data(cfg: Config) -> dict:
    """Build both splits without a pipeline: that validates every record."""
    from customkpt.registry import DATASETS
    stats = {}
    for split in ('train', 'val'):
        ds_cfg = cfg[f'{split}_dataloader'].dataset.copy()
        ds_cfg.pipeline = []
        dataset = DATASETS.build(ds_cfg)
        _say(f'{split}: {len(dataset)} instances; {dataset.report.summary()}')
        stats[split] = dict(instances=len(dataset), report=dataset.report.summary())
    return stats


def evaluate(cfg: Config, checkpoint: str | None, work_dir: Path,
             show_dir: Path | None = None) -> dict:
    """Run the test loop with ``checkpoint`` (None: the untrained model)."""
    from mmengine.runner import Runner
    cfg = cfg.copy()
    cfg.load_from, cfg.resume, cfg.work_dir = checkpoint, False, str(work_dir)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    # mmengine keeps one Visualizer per name; a fresh name keeps each run's
    # logs in its own work dir.
    cfg.visualizer.name = f'visualizer_{work_dir.name}'
    if show_dir is not None:
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
            dict(type='PredictionDrawingHook', out_dir=str(show_dir), max_images=24)]
    return Runner.from_cfg(cfg).test()


def main(argv: list[str] | None = None) -> dict:
    """Run every step; returns the summary written to summary.json."""
    args = parse_args(argv)
    from mmengine.runner import Runner

    from customkpt.visualization.curves import plot_curves
    t0 = time.time()
    work_dir = Path(args.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    sizes = dict(num_train=40, num_val=10, video_frames=20) if args.quick else {}
    data = make_self5_dataset(args.data, progress=sys.stderr.isatty(), **sizes)
    _say(f'demo dataset: {data}')

    cfg = demo_config(data)
    stats = check_data(cfg)
    browse_dir = work_dir / 'browse'
    drawn = browse(cfg, split='train', out_dir=browse_dir, num=8, mode='both')
    _say(f'{len(drawn)} drawings of ground truth (with the flipped copy) and augmented '
         f'samples: {browse_dir}')

    epochs = 1 if args.quick else args.epochs
    if epochs:
        cfg.train_cfg.max_epochs = epochs
        cfg.train_cfg.val_interval = max(1, min(cfg.train_cfg.val_interval, epochs))
        for sched in cfg.param_scheduler:
            if sched.get('by_epoch') and sched.get('end', 0) > epochs:
                sched.end = epochs
    cfg.work_dir = str(work_dir / 'train')
    untrained = evaluate(cfg, None, work_dir / 'eval_untrained')
    _say('untrained model: ' + _brief(untrained))

    cfg.visualizer.name = 'visualizer_train'
    runner = Runner.from_cfg(cfg)
    runner.train()
    best = sorted(Path(cfg.work_dir).glob('best_*.pth'))
    ckpt = str(best[-1]) if best else str(Path(cfg.work_dir) / f'epoch_{runner.epoch}.pth')
    overlays = work_dir / 'overlays'
    trained = evaluate(cfg, ckpt, work_dir / 'eval_trained', show_dir=overlays)
    _say('trained model:   ' + _brief(trained))
    curves = plot_curves(cfg.work_dir, work_dir / 'curves.png')

    summary = dict(data=str(data), check=stats, browse=str(browse_dir), checkpoint=ckpt,
                   untrained=untrained, trained=trained, curves=str(curves),
                   overlays=str(overlays), seconds=round(time.time() - t0, 1))
    (work_dir / 'summary.json').write_text(json.dumps(summary, indent=2))
    _say(f'done in {summary["seconds"] / 60:.1f} min. Results:')
    for key in ('checkpoint', 'curves', 'overlays', 'browse'):
        _say(f'  {key:10s} {summary[key]}')
    _say(f'  {"metrics":10s} {work_dir / "summary.json"}')
    return summary


def _brief(metrics: dict) -> str:
    """The headline metrics on one line."""
    keys = ('coco/AP', 'coco/AP .5', 'PCK', 'AUC', 'EPE')
    return ', '.join(f'{k} {metrics[k]:.3f}' for k in keys if k in metrics)
