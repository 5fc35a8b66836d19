"""The main job on the embedded default: make the demo data, check it, draw it.

    python tools/main_job.py                 # what `bash tools/run_main_job.sh` runs
    python tools/main_job.py --quick         # small data, for a fast smoke run

The demo data goes to --data (default data/self5), everything else under
--work-dir (default work_dirs/main_job). Running it again reuses the data.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/ (browse_dataset)
try:
    import customkpt  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(ROOT))
    import customkpt  # noqa: F401

from browse_dataset import browse
from mmengine.config import Config

from customkpt.demo import make_self5_dataset
from customkpt.registry import DATASETS

CONFIG = ROOT / 'configs' / 'hrnet_self5_cpu.py'


def _say(msg: str) -> None:
    print(f'[main job] {msg}', flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='customkpt main job on the demo data')
    p.add_argument('--data', default=str(ROOT / 'data' / 'self5'))
    p.add_argument('--work-dir', default=str(ROOT / 'work_dirs' / 'main_job'))
    p.add_argument('--quick', action='store_true', help='a small dataset (smoke run)')
    return p.parse_args(argv)


def load_config(data: Path) -> Config:
    """The CPU-sized self5 config, pointed at ``data``."""
    cfg = Config.fromfile(str(CONFIG))
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
    stats = {}
    for split in ('train', 'val'):
        ds_cfg = cfg[f'{split}_dataloader'].dataset.copy()
        ds_cfg.pipeline = []
        dataset = DATASETS.build(ds_cfg)
        _say(f'{split}: {len(dataset)} instances; {dataset.report.summary()}')
        stats[split] = dict(instances=len(dataset), report=dataset.report.summary())
    return stats


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    t0 = time.time()
    work_dir = Path(args.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    sizes = dict(num_train=40, num_val=10, video_frames=20) if args.quick else {}
    data = make_self5_dataset(args.data, progress=sys.stderr.isatty(), **sizes)
    _say(f'demo dataset: {data}')

    cfg = load_config(data)
    stats = check_data(cfg)
    browse_dir = work_dir / 'browse'
    drawn = browse(cfg, split='train', out_dir=browse_dir, num=8, mode='both')
    _say(f'{len(drawn)} drawings of ground truth (with the flipped copy) and augmented '
         f'samples: {browse_dir}')

    summary = dict(data=str(data), check=stats, browse=str(browse_dir),
                   seconds=round(time.time() - t0, 1))
    (work_dir / 'summary.json').write_text(json.dumps(summary, indent=2))
    _say(f'done in {summary["seconds"]} s; summary: {work_dir / "summary.json"}')
    return summary


if __name__ == '__main__':
    main()
