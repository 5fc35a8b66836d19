"""Top-down vs one-stage: time per image against the number of figures in it.

The multi-figure demo images (:func:`customkpt.demo.multi_dataset.build_multi_dataset`,
what ``customkpt make-demo --multi`` writes) have exactly 1, 2, 4 or 8
figures each. For every count this times, per image:

* **top-down**: the ground-truth boxes of the image -> HRNet crops, all
  crops of the image in one batch: :class:`customkpt.apis.TopdownPredictor`
  (torch) and :class:`customkpt.deploy.OnnxPredictor` (onnxruntime, the
  model exported by :func:`customkpt.deploy.export_onnx`). The model is
  ``configs/hrnet_self5_cpu.py`` with the main job's checkpoint
  (``work_dirs/main_job/train/epoch_20.pth``) when it exists, else freshly
  initialised weights (seed 0); the output says which. The flip test is
  the config's setting (on) on both sides; ``--no-flip`` turns it off.
* **one-stage**: the whole image -> every figure in one pass:
  :class:`customkpt.apis.OneStagePredictor` (torch) and
  :class:`customkpt.deploy.OnnxOneStagePredictor` (onnxruntime, exported by
  :func:`customkpt.deploy.export_onestage_onnx`), ``configs/onestage_self5_cpu.py``
  with random weights (seed 0) unless ``--onestage-checkpoint`` is given.
  Random weights put a peak of about 0.1 (above ``score_thr``) almost
  everywhere, so the decoder would box-NMS ``max_detections`` (100)
  candidates in every image, which a trained model does not. With random
  weights (``--candidates figures``, the default then) the codec's
  ``max_detections`` is therefore set to the image's figure count: the
  decoder handles as many candidates as a trained model that finds exactly
  the figures. ``--candidates config`` (the default with a checkpoint)
  keeps the config's 100.
* **detector + top-down** (with ``--detector-checkpoint``): what top-down
  costs without ground-truth boxes: the exported detector
  (``configs/detector_self5_cpu.py``) finds the boxes (score >= 0.25), then
  the exported HRNet: :class:`customkpt.deploy.OnnxPosePipeline`.

Each time is the whole call (image -> keypoints in image pixels: crop or
letterbox, normalisation, forward, decoding). A timed run is one pass over
the count's images; the table shows the median of ``--repeats`` runs after
``--warmup`` untimed ones, divided by the number of images.

    python benchmarks/bench_subjects_scaling.py                  # 10 images per count, 1 thread
    python benchmarks/bench_subjects_scaling.py --quick          # a smoke run, well under a minute
    python benchmarks/bench_subjects_scaling.py --threads 2 --out /tmp/scaling.png
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_onnx import median_ms  # noqa: E402

from customkpt.apis import OneStagePredictor, TopdownPredictor, init_model  # noqa: E402
from customkpt.core.boxes import xywh_to_xyxy  # noqa: E402
from customkpt.core.image import read_image  # noqa: E402
from customkpt.demo.multi_dataset import build_multi_dataset  # noqa: E402
from customkpt.deploy import (  # noqa: E402
    OnnxOneStagePredictor, OnnxPosePipeline, OnnxPredictor, export_onestage_onnx, export_onnx,
    write_pipeline)

ROOT = Path(__file__).resolve().parents[1]
HRNET_CONFIG = ROOT / 'configs' / 'hrnet_self5_cpu.py'
HRNET_CHECKPOINT = ROOT / 'work_dirs' / 'main_job' / 'train' / 'epoch_20.pth'
ONESTAGE_CONFIG = ROOT / 'configs' / 'onestage_self5_cpu.py'
DETECTOR_CONFIG = ROOT / 'configs' / 'detector_self5_cpu.py'
COLUMNS = ('topdown_torch', 'topdown_ort', 'onestage_torch', 'onestage_ort', 'pipeline_ort')
LABELS = dict(topdown_torch='top-down torch', topdown_ort='top-down onnxruntime',
              onestage_torch='one-stage torch', onestage_ort='one-stage onnxruntime',
              pipeline_ort='detector + top-down onnxruntime')

Image = tuple[np.ndarray, np.ndarray]  # uint8 (h, w, 3) BGR, (n, 4) xyxy ground-truth boxes


def make_images(workdir: Path, counts: list[int], per_count: int,
                image_size: tuple[int, int], seed: int) -> dict[int, list[Image]]:
    """The demo's multi-figure images and their ground-truth boxes, by figure count."""
    root = workdir / 'multi'
    build_multi_dataset(root, figures_per_image=counts, images_per_count=per_count,
                        image_size=image_size, seed=seed, video_frames=0, progress=False)
    with open(root / 'multi_coco_joint.json', encoding='utf-8') as f:
        coco = json.load(f)
    boxes: dict[int, list] = {}
    for ann in coco['annotations']:
        boxes.setdefault(ann['image_id'], []).append(ann['bbox'])
    images: dict[int, list[Image]] = {c: [] for c in counts}
    for rec in coco['images']:
        img = read_image(root / 'images' / rec['file_name'], 'bench_subjects_scaling')
        xyxy = xywh_to_xyxy(np.asarray(boxes[rec['id']], np.float32).reshape(-1, 4))
        images[int(rec['num_figures'])].append((img, xyxy))
    return images


def shown(path: str | Path | None) -> str:
    """``path`` relative to the repository when it lies inside it."""
    path = Path(str(path)).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def session_options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return options


def build_predictors(workdir: Path, args: argparse.Namespace) -> tuple[dict, dict]:
    """The four predictors by column, and notes on the weights used."""
    hrnet_ckpt = args.checkpoint if args.checkpoint and Path(args.checkpoint).is_file() else None
    torch.manual_seed(0)
    hrnet = init_model(str(HRNET_CONFIG), hrnet_ckpt, cfg_options=(
        dict(model=dict(test_cfg=dict(flip_test=False))) if args.no_flip else None))
    torch.manual_seed(0)
    onestage = init_model(str(ONESTAGE_CONFIG), args.onestage_checkpoint)
    hrnet_onnx = export_onnx(hrnet, workdir / 'hrnet.onnx')['onnx']
    onestage_onnx = export_onestage_onnx(onestage, workdir / 'onestage.onnx')['onnx']
    cpu = ['CPUExecutionProvider']
    predictors = dict(
        topdown_torch=TopdownPredictor(hrnet),
        topdown_ort=OnnxPredictor(hrnet_onnx, providers=cpu,
                                  session_options=session_options(args.threads)),
        onestage_torch=OneStagePredictor(onestage),
        onestage_ort=OnnxOneStagePredictor(onestage_onnx, providers=cpu,
                                           session_options=session_options(args.threads)))
    notes = dict(
        topdown=(f'{HRNET_CONFIG.name} with {shown(hrnet_ckpt)}' if hrnet_ckpt else
                 f'{HRNET_CONFIG.name} freshly initialised (seed 0; no checkpoint '
                 f'{shown(args.checkpoint)})'),
        onestage=(f'{ONESTAGE_CONFIG.name} with {args.onestage_checkpoint}'
                  if args.onestage_checkpoint else
                  f'{ONESTAGE_CONFIG.name} with random weights (seed 0)'),
        flip=(f"top-down flip test {'on' if predictors['topdown_ort'].flip_test else 'off'}, "
              f"one-stage flip test {'on' if predictors['onestage_ort'].flip_test else 'off'}"),
        max_detections=int(onestage.head.decoder.max_detections))
    if args.detector_checkpoint:
        detector = init_model(str(DETECTOR_CONFIG), args.detector_checkpoint)
        det_onnx = export_onestage_onnx(detector, workdir / 'detector.onnx')['onnx']
        predictors['pipeline_ort'] = OnnxPosePipeline(
            write_pipeline(workdir / 'pipeline.json', hrnet_onnx, det_onnx), providers=cpu,
            session_options=session_options(args.threads))
    return predictors, notes


def columns(predictors: dict) -> list[str]:
    """The table's columns: :data:`COLUMNS` that have a predictor."""
    return [name for name in COLUMNS if name in predictors]


def pass_over(name: str, predictor: Callable, images: list[Image]) -> Callable[[], list]:
    """One run of ``predictor`` over all ``images`` (boxes for the top-down ones)."""
    if name.startswith('topdown'):  # the ground-truth boxes
        return lambda: [predictor(img, boxes) for img, boxes in images]
    return lambda: [predictor(img) for img, _ in images]


def onestage_codecs(predictors: dict) -> list:
    """The ``CentreLabel`` decoders of the two one-stage predictors."""
    return [predictors['onestage_torch'].model.head.decoder, predictors['onestage_ort'].codec]


def bench(images: dict[int, list[Image]], predictors: dict, args: argparse.Namespace
          ) -> list[dict]:
    rows = []
    for count, imgs in images.items():
        row: dict = dict(figures=count, images=len(imgs))
        if args.candidates == 'figures':
            for codec in onestage_codecs(predictors):
                codec.max_detections = count
        for name in columns(predictors):
            run = pass_over(name, predictors[name], imgs)
            row[name] = median_ms(run, args.repeats, args.warmup) / len(imgs)
            if not name.startswith('topdown'):
                row[f'{name}_found'] = float(np.mean([len(out['bboxes']) for out in run()]))
        rows.append(row)
        print(f'  {count} figures: ' + ', '.join(f'{LABELS[n]} {row[n]:.1f} ms'
                                                 for n in columns(predictors)),
              file=sys.stderr)
    return rows


def print_table(rows: list[dict], notes: dict, args: argparse.Namespace) -> None:
    print(f'{platform.processor() or platform.machine()}, torch {torch.__version__} '
          f'({torch.get_num_threads()} threads), onnxruntime {ort.__version__} '
          f'({args.threads} threads); images {args.image_size[0]}x{args.image_size[1]}, '
          f'{rows[0]["images"]} per count; median of {args.repeats} passes after '
          f'{args.warmup} warm-up')
    print(f'top-down: {notes["topdown"]}; one-stage: {notes["onestage"]}; {notes["flip"]}\n')
    names = [n for n in COLUMNS if n in rows[0]]
    print('| n figures | ' + ' | '.join(f'{LABELS[n]} ms' for n in names) + ' |')
    print('| --- ' * (len(names) + 1) + '|')
    for r in rows:
        print(f"| {r['figures']} | " + ' | '.join(f'{r[n]:.1f}' for n in names) + ' |')
    if 'pipeline_ort_found' in rows[0]:
        print('\ndetector + top-down: boxes kept per image (figures: boxes): ' + ', '.join(
            f"{r['figures']}: {r['pipeline_ort_found']:.1f}" for r in rows))
    found = ', '.join(f"{r['figures']}: {r['onestage_ort_found']:.1f}" for r in rows)
    cap = ('the figure count' if args.candidates == 'figures'
           else f"{notes['max_detections']} (the config's)")
    print(f'\none-stage decoding: at most {cap} candidates per image; objects out per image '
          f'(figures: objects): {found}')


def plot(rows: list[dict], notes: dict, out: Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    counts = [r['figures'] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, style in zip(COLUMNS, ('o-', 'o--', 's-', 's--', '^:')):
        if name in rows[0]:
            ax.plot(counts, [r[name] for r in rows], style, label=LABELS[name])
    ax.set_xscale('log', base=2)
    ax.set_xticks(counts, [str(c) for c in counts])
    ax.set_xlabel('figures per image')
    ax.set_ylabel('ms per image')
    ax.set_ylim(bottom=0)
    ax.set_title('Top-down (ground-truth boxes) vs one-stage', fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.text(0.01, 0.01, f"{notes['topdown']}; {notes['onestage']}", fontsize=6)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--counts', type=int, nargs='+', default=[1, 2, 4, 8],
                   help='figures per image (1, 2, 4, 8)')
    p.add_argument('--images', type=int, default=10, help='images per count (10)')
    p.add_argument('--image-size', type=int, nargs=2, default=[320, 240], metavar=('W', 'H'),
                   help='image size (320 240, the demo data)')
    p.add_argument('--repeats', type=int, default=9, help='timed passes (median; 9)')
    p.add_argument('--warmup', type=int, default=1, help='untimed passes first (1)')
    p.add_argument('--threads', type=int, default=1, help='torch and onnxruntime threads (1)')
    p.add_argument('--checkpoint', default=str(HRNET_CHECKPOINT),
                   help='HRNet checkpoint (the main job\'s; fresh weights when absent)')
    p.add_argument('--onestage-checkpoint', help='one-stage checkpoint (random weights)')
    p.add_argument('--detector-checkpoint',
                   help='a detector_self5_cpu.py checkpoint: adds detector + top-down')
    p.add_argument('--no-flip', action='store_true',
                   help='top-down without the flip test (the config has it on)')
    p.add_argument('--candidates', choices=['figures', 'config'],
                   help="one-stage max_detections: the image's figure count (default with "
                   "random weights) or the config's (default with --onestage-checkpoint)")
    p.add_argument('--seed', type=int, default=0, help='seed of the demo images (0)')
    p.add_argument('--out', type=Path, default=ROOT / 'work_dirs' / 'bench_subjects_scaling.png',
                   help='the plot (work_dirs/bench_subjects_scaling.png)')
    p.add_argument('--quick', action='store_true',
                   help='a smoke run: 2 images per count, 2 passes, no warm-up pass')
    args = p.parse_args(argv)
    if args.candidates is None:
        args.candidates = 'config' if args.onestage_checkpoint else 'figures'
    if args.quick:
        args.images, args.repeats, args.warmup = 2, 2, 0
    if min(args.images, args.repeats, args.threads) < 1 or args.warmup < 0:
        p.error('--images, --repeats and --threads must be >= 1, --warmup >= 0')
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        images = make_images(workdir, args.counts, args.images, tuple(args.image_size),
                             args.seed)
        predictors, notes = build_predictors(workdir, args)
        rows = bench(images, predictors, args)
    print_table(rows, notes, args)
    plot(rows, notes, args.out)
    print(f'\nplot: {args.out}; {time.perf_counter() - start:.0f} s in all')
    return rows


if __name__ == '__main__':
    main()
