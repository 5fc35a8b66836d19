"""Does outlier mining beat random picking? One simulated labelling round on
the open-field mouse, with the labels of the unlabelled frames known to the
benchmark but never shown to the model.

1. ``--labelled`` of the training frames (seeded) are the labelled set;
   model A is trained on them.
2. Model A scores the other training frames with the package's per-frame
   terms (:class:`~customkpt.apis.outliers.FlipPairPredictor` for the
   ``flip`` term, :func:`~customkpt.apis.outliers.fit_label_subspace` on the
   labelled set for ``pose``, ``confidence``;
   :func:`~customkpt.apis.outlier_scores.score_instances`). The frames are
   separate images, so each is its own track and ``jump`` is 0. The box of
   each frame is its annotation's box, the stand-in for a detector (the
   validation frames are evaluated on their annotation boxes too); the
   keypoints are not used. ``--pick`` frames are chosen by
   :func:`~customkpt.apis.outlier_scores.select_frames` (k-means diversity
   over the best share of frames, one pick per ``--top-fractions`` entry)
   and ``--pick`` at random per
   ``--random-seeds`` entry.
3. The picked frames' labels are "revealed" (taken from the training json)
   and merged into the labelled set with
   :func:`~customkpt.converters.merge.merge_labels`; each merged set is
   trained from the same start with the same budget (B: mined, C: random).

Every training runs ``tools/train.py`` on ``configs/openfield_mouse_cpu.py``
in its own subprocess with the same options (epochs, input size, starting
checkpoint); every model is evaluated on the validation split by
``customkpt test`` (EPE in pixels, PCK@0.05 of the box). Run from the
repository root::

    OMP_NUM_THREADS=1 python benchmarks/bench_labelling_loop.py \\
        --pretrained work_dirs/main_job/train/epoch_20.pth --epochs 40 --random-seeds 1 2 3
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / 'configs' / 'openfield_mouse_cpu.py'
IMG_ROOT = ROOT / '..' / 'shared' / 'data' / 'openfield-mouse'
TEST_SNIPPET = ('import json, sys; from customkpt.cli.test import main; '
                'm = main(sys.argv[1:]); print("METRICS " + json.dumps({k: float(v) '
                'for k, v in m.items() if isinstance(v, (int, float))}))')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--train-json', default='data/openfield_mouse/train.json')
    p.add_argument('--val-json', default='data/openfield_mouse/val.json')
    p.add_argument('--pretrained', default='work_dirs/main_job/train/epoch_20.pth',
                   help='checkpoint every training starts from ("none": from scratch)')
    p.add_argument('--labelled', type=int, default=25, help='frames labelled at the start')
    p.add_argument('--pick', type=int, default=25, help='frames picked for labelling')
    p.add_argument('--seed', type=int, default=0, help='seed of the starting set and k-means')
    p.add_argument('--random-seeds', type=int, nargs='+', default=[1],
                   help='one random pick (model C) per seed')
    p.add_argument('--top-fractions', type=float, nargs='+', default=[0.25, 0.5],
                   help='one mined pick (model B) per share of candidates (select_frames)')
    p.add_argument('--epochs', type=int, default=40, help='epochs of every training')
    p.add_argument('--train-size', type=int, nargs=2, default=(96, 128), metavar=('W', 'H'),
                   help='network input (w, h) of every model')
    p.add_argument('--work-dir', default='work_dirs/bench_labelling_loop')
    return p.parse_args(argv)


def cfg_options(args: argparse.Namespace, ann_file: Path | None = None) -> list[str]:
    """The ``--cfg-options`` shared by every training and test."""
    w, h = args.train_size
    opts = [f'train_size=({w},{h})', f'max_epochs={args.epochs}',
            f'val_interval={args.epochs + 1}', 'randomness.seed=0']
    if args.pretrained.lower() != 'none':
        opts.append(f'pretrained_checkpoint={Path(args.pretrained).resolve()}')
    if ann_file is not None:
        opts.append(f'train_ann_file={ann_file}')
    return opts


def subset(coco: dict, image_ids: list[int]) -> dict:
    """The images ``image_ids`` of ``coco`` with their annotations."""
    keep = set(image_ids)
    return dict(coco, images=[m for m in coco['images'] if m['id'] in keep],
                annotations=[a for a in coco['annotations'] if a['image_id'] in keep])


def write_json(path: Path, coco: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(coco))
    return path


def run_logged(cmd: list[str], log: Path) -> tuple[str, float]:
    """Run ``cmd`` from the repository root, output to ``log``; (output, seconds)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    seconds = time.perf_counter() - start
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        tail = '\n'.join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise SystemExit(f'{" ".join(cmd[:3])} failed (exit {proc.returncode}); {log}:\n{tail}')
    return proc.stdout, seconds


def train(name: str, ann_file: Path, args: argparse.Namespace, config: Path = CONFIG,
          extra: tuple[str, ...] = ()) -> tuple[Path, float]:
    """Train one model (``config``, with ``extra`` ``--cfg-options`` after the
    shared ones); (its last checkpoint, seconds)."""
    work = Path(args.work_dir) / name
    work.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, 'tools/train.py', str(config), '--work-dir', str(work),
           '--cfg-options', *cfg_options(args, ann_file), *extra]
    print(f'[{name}] training on {ann_file}', flush=True)
    _, seconds = run_logged(cmd, work / 'train.log')
    ckpt = work / f'epoch_{args.epochs}.pth'
    if not ckpt.is_file():
        raise SystemExit(f'[{name}] no {ckpt} after training; see {work / "train.log"}')
    return ckpt, seconds


def evaluate(name: str, ckpt: Path, args: argparse.Namespace) -> tuple[dict, float]:
    """``customkpt test`` on the validation split; (metrics, seconds)."""
    work = Path(args.work_dir) / name / 'test'
    work.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, '-c', TEST_SNIPPET, str(CONFIG), str(ckpt), '--work-dir', str(work),
           '--cfg-options', *cfg_options(args), f'val_ann_file={args.val_json}']
    out, seconds = run_logged(cmd, work / 'test.log')
    line = [x for x in out.splitlines() if x.startswith('METRICS ')][-1]
    return json.loads(line[len('METRICS '):]), seconds


def score_pool(ckpt: Path, labelled_json: Path, pool: dict, args: argparse.Namespace):
    """Model A's outlier scores of the pool's frames (one instance each).

    Returns (pool image ids in table order, InstanceTable, OutlierScores, seconds).
    """
    from customkpt.apis import init_model
    from customkpt.apis.outlier_scores import InstanceTable, score_instances
    from customkpt.apis.outliers import FlipPairPredictor, fit_label_subspace
    from customkpt.core.boxes import xywh_to_xyxy

    start = time.perf_counter()
    w, h = args.train_size
    model = init_model(str(CONFIG), str(ckpt), cfg_options=dict(train_size=(w, h)))
    predictor = FlipPairPredictor(model)
    names = model.dataset_meta['keypoint_names']
    subspace = fit_label_subspace(labelled_json, names)
    boxes = {a['image_id']: a['bbox'] for a in pool['annotations']}
    ids, results = [], []
    for i, img in enumerate(pool['images']):
        frame = cv2.imread(str(IMG_ROOT / img['file_name']))
        if frame is None:
            raise SystemExit(f'cannot read image {IMG_ROOT / img["file_name"]}')
        box = xywh_to_xyxy(np.asarray([boxes[img['id']]], np.float32))
        pred = predictor(frame, box)
        results.append(dict(frame_idx=i, instances=[dict(
            track_id=i, bbox=pred['bboxes'][0], keypoints=pred['keypoints'][0],
            keypoint_scores=pred['keypoint_scores'][0],
            keypoints_plain=predictor.last['plain'][0],
            keypoints_flipped=predictor.last['flipped'][0])]))
        ids.append(img['id'])
    table = InstanceTable.from_results(results, len(names))
    scores = score_instances(table, subspace)
    return ids, table, scores, time.perf_counter() - start


def mined_pick(ids: list[int], table, scores, top_fraction: float,
               args: argparse.Namespace) -> list[int]:
    """Image ids picked by the package's selection, best first."""
    from customkpt.apis.outlier_scores import frame_features, select_frames
    rows = select_frames(frame_features(table, scores), scores.frame_score, args.pick,
                         top_fraction=top_fraction, seed=args.seed)
    return [ids[int(scores.frames[r])] for r in rows]


def true_errors(ids: list[int], table, pool: dict) -> dict[int, float]:
    """Image id -> model A's mean pixel error over the labelled points, measured
    against the hidden labels (the simulation's truth, never used to pick)."""
    truth = {a['image_id']: np.asarray(a['keypoints'], np.float64).reshape(-1, 3)
             for a in pool['annotations']}
    out = {}
    for row, image_id in enumerate(ids):
        gt = truth[image_id]
        seen = gt[:, 2] > 0
        dist = np.linalg.norm(table.keypoints[row][seen] - gt[seen, :2], axis=1)
        out[image_id] = float(dist.mean()) if seen.any() else float('nan')
    return out


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho (ranks without tie correction)."""
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def reveal(labelled: dict, train: dict, picked: list[int], path: Path) -> Path:
    """The labelled set with the picked frames' true labels merged in."""
    from customkpt.converters.merge import merge_labels
    result = merge_labels(labelled, subset(train, picked), train_source=str(path.parent),
                          new_source='revealed labels')
    print(f'{path}: {result.summary()}', flush=True)
    return write_json(path, result.coco)


def table(rows: list[dict]) -> str:
    lines = ['| set | frames | EPE px | PCK@0.05 | train s |', '| --- | --- | --- | --- | --- |']
    for r in rows:
        lines.append(f"| {r['set']} | {r['frames']} | {r['EPE']:.2f} | {r['PCK']:.3f} | "
                     f"{r['train_s']:.0f} |")
    return '\n'.join(lines)


def run_set(name: str, label: str, ann: Path, args: argparse.Namespace) -> tuple[dict, Path]:
    ckpt, train_s = train(name, ann, args)
    metrics, test_s = evaluate(name, ckpt, args)
    frames = len(json.loads(ann.read_text())['images'])
    row = dict(set=label, frames=frames, EPE=metrics['EPE'], PCK=metrics['PCK'],
               train_s=train_s, test_s=test_s)
    print(f'[{name}] {row}', flush=True)
    return row, ckpt


def make_picks(ids: list[int], inst, scores, args: argparse.Namespace
               ) -> dict[str, tuple[str, list[int]]]:
    """Run name -> (table label, picked image ids): mined and random picks."""
    picks = {}
    for i, frac in enumerate(args.top_fractions):
        picks[f'B{i}'] = (f'B: + mined (top_fraction {frac:g})',
                          mined_pick(ids, inst, scores, frac, args))
    for seed in args.random_seeds:
        chosen = np.random.default_rng(seed).choice(ids, args.pick, replace=False)
        picks[f'C{seed}'] = (f'C: + random (seed {seed})', [int(i) for i in chosen])
    return picks


def pick_report(picks: dict, errors: dict[int, float], ids: list[int], scores) -> list[str]:
    """Lines: model A's true error on each pick and how the score ranks it."""
    err = np.array([errors[i] for i in ids])
    score = np.asarray(scores.frame_score)
    lines = [f'model A on the {len(ids)} unlabelled frames: mean error {np.nanmean(err):.1f} px, '
             f'median {np.nanmedian(err):.1f} px; Spearman(score, error) = '
             f'{rank_correlation(score, err):.2f}']
    for name, (label, picked) in picks.items():
        e = np.array([errors[i] for i in picked])
        lines.append(f'{label}: A\'s error on the picks: mean {np.nanmean(e):.1f} px, '
                     f'median {np.nanmedian(e):.1f} px')
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.work_dir)
    train_coco = json.loads((ROOT / args.train_json).read_text())
    all_ids = [m['id'] for m in train_coco['images']]
    rng = np.random.default_rng(args.seed)
    start_ids = sorted(int(i) for i in rng.choice(all_ids, args.labelled, replace=False))
    labelled = subset(train_coco, start_ids)
    labelled_json = write_json(work / 'A' / 'train.json', labelled)
    pool = subset(train_coco, [i for i in all_ids if i not in set(start_ids)])

    rows = []
    row, ckpt_a = run_set('A', 'A: start', labelled_json, args)
    rows.append(row)
    ids, inst, scores, score_s = score_pool(ckpt_a, labelled_json, pool, args)
    print(f'scored {len(ids)} frames in {score_s:.1f} s', flush=True)
    picks = make_picks(ids, inst, scores, args)
    errors = true_errors(ids, inst, pool)
    report = pick_report(picks, errors, ids, scores)
    (work / 'picks.json').write_text(json.dumps({k: v[1] for k, v in picks.items()}, indent=1))
    for name, (label, picked) in picks.items():
        ann = reveal(labelled, train_coco, picked, work / name / 'train.json')
        rows.append(run_set(name, label, ann, args)[0])
    (work / 'results.json').write_text(json.dumps(dict(rows=rows, score_s=score_s,
                                                       picks=report), indent=1))
    print(table(rows))
    print('\n'.join(report))
    print(f'scoring {len(ids)} frames with A (two passes each): {score_s:.1f} s; '
          f'results: {work / "results.json"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
