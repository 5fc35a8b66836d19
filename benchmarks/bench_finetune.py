"""Fine-tuning vs training from scratch on the open-field mouse, same budget.

Both runs train ``configs/openfield_mouse.py`` (4 points: snout, leftear,
rightear, tailbase) for the same number of epochs with the same batch size,
each in its own ``tools/train.py`` subprocess, one after the other:

* ``scratch``: the backbone's and head's own initialisation, lr ``--lr``;
* ``finetune``: weights from ``--pretrained`` (a checkpoint trained on
  another keypoint definition: the backbone is copied, head channels of
  points named in both definitions, or paired by ``--keypoint-map``, too),
  lr ``--lr x --finetune-lr-ratio``, backbone lr x ``--backbone-lr-mult``,
  ``--frozen-stages`` frozen.

Each run validates once at the end; the table lists PCK@0.05 (bbox), AUC,
EPE (pixels), COCO AP and the training wall time. Results also go to
``<work-dir>/results.json``. The data come from::

    python tools/convert_dataset.py dlc ../shared/data/openfield-mouse \\
        data/openfield_mouse --val-every 7

Run::

    python benchmarks/bench_finetune.py --pretrained coco_w32.pth --epochs 30 --arch w32 \\
        --keypoint-map snout=nose leftear=left_ear rightear=right_ear
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE_CONFIG = ROOT / 'configs' / 'openfield_mouse.py'
WIDTHS = dict(tiny=16, w18=18, w32=32, w48=48)
METRICS = ('PCK', 'AUC', 'EPE', 'coco/AP')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--pretrained', required=True, help='checkpoint (path or URL) to start from')
    p.add_argument('--epochs', type=int, required=True, help='epochs for each run')
    p.add_argument('--arch', default='w32', choices=sorted(WIDTHS))
    p.add_argument('--keypoint-map', nargs='*', default=[], metavar='MOUSE=CKPT',
                   help='pair mouse points with checkpoint points, e.g. snout=nose')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--lr', type=float, default=1e-3, help='from-scratch learning rate')
    p.add_argument('--finetune-lr-ratio', type=float, default=0.4,
                   help='fine-tuning lr = lr x this')
    p.add_argument('--backbone-lr-mult', type=float, default=0.1)
    p.add_argument('--frozen-stages', type=int, default=-1)
    p.add_argument('--work-dir', default='work_dirs/bench_finetune')
    p.add_argument('--ann-dir', default='data/openfield_mouse',
                   help='folder with the converted train.json / val.json')
    p.add_argument('--only', choices=['scratch', 'finetune'],
                   help='run one of the two (default both)')
    return p.parse_args(argv)


def keypoint_names(ann_file: Path) -> list[str]:
    """The point names in a converted COCO json's (single) category."""
    if not ann_file.is_file():
        raise SystemExit(f'{ann_file} not found; convert the data first: python '
                         'tools/convert_dataset.py dlc ../shared/data/openfield-mouse '
                         'data/openfield_mouse --val-every 7')
    categories = json.loads(ann_file.read_text()).get('categories') or [{}]
    names = categories[0].get('keypoints')
    if not names:
        raise SystemExit(f'{ann_file}: its category lists no keypoints')
    return list(names)


def parse_map(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if '=' not in pair:
            raise SystemExit(f'--keypoint-map entries look like snout=nose, got {pair!r}')
        new, old = pair.split('=', 1)
        out[new.strip()] = old.strip()
    return out


def write_config(path: Path, args: argparse.Namespace, names: list[str],
                 finetune: bool) -> None:
    """A config on top of openfield_mouse.py for one of the two runs."""
    epochs = args.epochs
    lr = args.lr * (args.finetune_lr_ratio if finetune else 1.0)
    model = dict(backbone=dict(arch=args.arch), head=dict(in_channels=WIDTHS[args.arch]),
                 metainfo=dict(keypoint_names=names))
    optim = dict(optimizer=dict(type='Adam', lr=lr))
    if finetune:
        model['backbone']['frozen_stages'] = args.frozen_stages
        model['pretrained'] = dict(checkpoint=args.pretrained,
                                   keypoint_map=parse_map(args.keypoint_map) or None)
        optim['paramwise_cfg'] = dict(custom_keys={'backbone': dict(
            lr_mult=args.backbone_lr_mult)})
    ann = Path(args.ann_dir)
    text = f"""_base_ = [{str(BASE_CONFIG)!r}]
train_ann_file = {str(ann / 'train.json')!r}
val_ann_file = {str(ann / 'val.json')!r}
model = {model!r}
train_dataloader = dict(batch_size={args.batch_size}, dataset=dict(ann_file=train_ann_file))
val_dataloader = dict(dataset=dict(ann_file=val_ann_file))
test_dataloader = val_dataloader
val_evaluator = [dict(type='PCKAccuracy', thr=0.05, norm_item='bbox'),
                 dict(type='CocoKeypointMetric', ann_file=val_ann_file)]
test_evaluator = val_evaluator
train_cfg = dict(by_epoch=True, max_epochs={epochs}, val_interval={epochs})
optim_wrapper = {optim!r}
param_scheduler = [
    dict(type='LinearLR', begin=0, end=30, start_factor=0.01, by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end={epochs}, eta_min={lr * 0.01}, by_epoch=True),
]
default_hooks = dict(checkpoint=dict(interval={epochs}, save_best=None, max_keep_ckpts=1))
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def last_metrics(work_dir: Path) -> dict[str, float]:
    """The last validation's metrics from the run's ``scalars.json``."""
    found: dict[str, float] = {}
    for scalars in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in scalars.read_text().splitlines():
            record = json.loads(line)
            if any(k in record for k in METRICS):
                found = {k: float(record[k]) for k in METRICS if k in record}
    return found


def run(name: str, args: argparse.Namespace, names: list[str]) -> dict:
    work_dir = Path(args.work_dir) / name
    config = work_dir / f'{name}.py'
    write_config(config, args, names, finetune=name == 'finetune')
    cmd = [sys.executable, str(ROOT / 'tools' / 'train.py'), str(config),
           '--work-dir', str(work_dir)]
    print('$', ' '.join(cmd), flush=True)
    start = time.perf_counter()
    with open(work_dir / 'train.log', 'w') as log:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = (work_dir / 'train.log').read_text().splitlines()[-20:]
        raise SystemExit(f'{name} run failed (exit {proc.returncode}); log '
                         f'{work_dir / "train.log"}:\n' + '\n'.join(tail))
    result = dict(run=name, epochs=args.epochs, arch=args.arch, train_s=round(seconds, 1),
                  **last_metrics(work_dir))
    if name == 'finetune':
        result['transfer_log'] = transfer_log(work_dir / 'train.log')
    return result


def transfer_log(log: Path) -> list[str]:
    """The TransferReport summary block that load_pretrained logged."""
    out: list[str] = []
    for line in log.read_text().splitlines():
        if 'Pretrained weights from' in line:
            out = [line]
        elif out and line.startswith('  '):
            out.append(line)
        elif out:
            break
    return out


def table(results: list[dict]) -> str:
    lines = ['| run | arch | epochs | train s | PCK@0.05 | AUC | EPE px | COCO AP |',
             '| --- | --- | --- | --- | --- | --- | --- | --- |']
    for r in results:
        def cell(key: str) -> str:
            return f'{r[key]:.3f}' if key in r else 'n/a'
        lines.append(f"| {r['run']} | {r['arch']} | {r['epochs']} | {r['train_s']:.0f} | "
                     f"{cell('PCK')} | {cell('AUC')} | {cell('EPE')} | {cell('coco/AP')} |")
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if '://' not in args.pretrained:
        if not osp.isfile(args.pretrained):
            raise SystemExit(f'--pretrained {args.pretrained!r} not found')
        args.pretrained = osp.abspath(args.pretrained)
    names = keypoint_names(Path(args.ann_dir) / 'train.json')
    runs = [args.only] if args.only else ['scratch', 'finetune']
    results = [run(name, args, names) for name in runs]
    out = Path(args.work_dir) / 'results.json'
    out.write_text(json.dumps(results, indent=1))
    print(table(results))
    for r in results:
        for line in r.get('transfer_log', []):
            print(line)
    print(f'results: {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
