"""Do the unlabelled mouse video's losses make up for missing labels? The
open-field mouse, HRNet (configs/openfield_mouse_cpu.py), at a fixed budget.

Rows: ``--labelled`` training frames (seeded, nested: the 25 lie inside the
50) x {supervised (``configs/openfield_mouse_cpu.py``), semi
(``configs/openfield_mouse_semi.py``: the same frames plus clips of the
config's ``unlabelled_videos``)}. Every training starts from the same
checkpoint (``--pretrained``), at the same input size and seed, for the same
number of optimiser iterations: ``epochs = ceil(--iters / iterations per
epoch)`` (``ceil(frames / --batch-size)`` iterations per epoch; the table
states both), with the semi losses' ramp over the same iterations in every
row (``--ramp-iters``, ``ramp_epochs`` = that / iterations per epoch).

The clip frames' boxes (``--unlabelled-boxes track``, the default) are the
mouse tracked through the whole video with the supervised model trained on
every frame (that row is trained first), as the semi config's header does;
``full`` or a ``customkpt video`` result JSON are passed on as they are.

Per row: EPE (px) and PCK@0.05 on the validation split (``customkpt test``);
on the first ``--video-frames`` frames of the video, ``customkpt video
--boxes track --smooth none``: jitter = the median over keypoints of the
median frame-to-frame move (px) of the best instance's points, and the mean
keypoint score; the training's wall seconds and median seconds per
iteration. Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/bench_semi_supervised.py
    OMP_NUM_THREADS=1 python benchmarks/bench_semi_supervised.py --quick   # smoke run

``--quick``: 6 iterations at 64x64 input, 30 video frames; the boxes are
tracked through those 30 frames only, so only the clips inside them are used.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_labelling_loop import (  # noqa: E402
    CONFIG, ROOT, evaluate, subset, train, write_json)

SEMI_CONFIG = ROOT / 'configs' / 'openfield_mouse_semi.py'
VIDEO = (ROOT / '..' / 'shared' / 'data' / 'openfield-mouse' / 'videos' / 'm3v1mp4.mp4').resolve()
MODES = ('supervised', 'semi')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--train-json', default='data/openfield_mouse/train.json')
    p.add_argument('--val-json', default='data/openfield_mouse/val.json')
    p.add_argument('--labelled', type=int, nargs='+', default=[25, 50, 99],
                   help='labelled training frames per row (all of them: the whole split)')
    p.add_argument('--pretrained', default='work_dirs/main_job/train/epoch_20.pth',
                   help='checkpoint every training starts from ("none": from scratch)')
    p.add_argument('--iters', type=int, default=400, help='optimiser iterations of every row')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--ramp-iters', type=float, default=None,
                   help='iterations over which the semi losses rise (default: --iters / 3, '
                        'the config\'s 10 of 30 epochs)')
    p.add_argument('--train-size', type=int, nargs=2, default=(192, 256), metavar=('W', 'H'),
                   help='network input (w, h) of every model (the config\'s 256x192)')
    p.add_argument('--seed', type=int, default=0, help='seed of the labelled subsets')
    p.add_argument('--unlabelled-boxes', default='track',
                   help='track (the whole-split supervised model tracks the video), full, '
                        'or a `customkpt video` result JSON')
    p.add_argument('--video', default=str(VIDEO),
                   help='the video of the jitter measurement (the semi rows train on the '
                        'semi config\'s unlabelled_videos, this video by default)')
    p.add_argument('--video-frames', type=int, default=600, help='frames of the jitter run')
    only = p.add_mutually_exclusive_group()
    only.add_argument('--only-supervised', action='store_true')
    only.add_argument('--only-semi', action='store_true',
                      help='semi rows only (with --unlabelled-boxes track the whole-split '
                           'supervised row is still trained, to track the video)')
    p.add_argument('--semi-options', nargs='+', default=[], metavar='KEY=VALUE',
                   help='more --cfg-options of the semi rows, e.g. shape_weight=0 (an ablation)')
    p.add_argument('--quick', action='store_true',
                   help='smoke run: 6 iterations, 64x64 input, 30 video frames')
    p.add_argument('--work-dir', default='work_dirs/bench_semi_supervised')
    args = p.parse_args(argv)
    if args.quick:
        args.iters, args.train_size, args.video_frames = 6, (64, 64), 30
    # Paths from where the command runs (main works from the repository root).
    args.work_dir, args.video = (str(Path(x).resolve()) for x in (args.work_dir, args.video))
    if args.pretrained.lower() != 'none':
        args.pretrained = str(Path(args.pretrained).resolve())
    if args.unlabelled_boxes not in ('track', 'full'):
        args.unlabelled_boxes = str(Path(args.unlabelled_boxes).resolve())
    args.epochs = 0  # set per row (row_args)
    return args


def row_args(args: argparse.Namespace, frames: int) -> tuple[argparse.Namespace, int]:
    """The arguments of a ``frames``-frame row (its ``epochs``) and its
    iterations per epoch."""
    per_epoch = math.ceil(frames / args.batch_size)
    return argparse.Namespace(**dict(vars(args), epochs=math.ceil(args.iters / per_epoch))), \
        per_epoch


def make_subsets(args: argparse.Namespace) -> dict[int, Path]:
    """Labelled frame count -> training json; nested seeded subsets."""
    coco = json.loads((ROOT / args.train_json).read_text())
    ids = [m['id'] for m in coco['images']]
    too_many = [n for n in args.labelled if not 0 < n <= len(ids)]
    if too_many:
        raise SystemExit(f'--labelled {too_many}: {args.train_json} has {len(ids)} frames')
    order = [int(i) for i in np.random.default_rng(args.seed).permutation(ids)]
    out = {}
    for n in sorted(set(args.labelled)):
        chosen = sorted(order[:n]) if n < len(ids) else ids
        out[n] = write_json(Path(args.work_dir) / 'subsets' / f'train_{n}.json',
                            subset(coco, chosen))
    return out


def semi_options(args: argparse.Namespace, per_epoch: int, boxes: str) -> tuple[str, ...]:
    """The semi config's ``--cfg-options`` of a row: boxes and the ramp."""
    ramp = args.iters / 3 if args.ramp_iters is None else args.ramp_iters
    return (f'unlabelled_boxes={boxes}', f'ramp_epochs={ramp / per_epoch:.6g}',
            *args.semi_options)


def video_config(args: argparse.Namespace) -> Path:
    """A config of the rows' model at the benchmark's input size, for
    ``customkpt video`` (which takes no ``--cfg-options``)."""
    w, h = args.train_size
    path = Path(args.work_dir) / 'video_config.py'
    path.write_text(f"_base_ = [{str(CONFIG)!r}]\ntrain_size = ({w}, {h})\n")
    return path


def track(name: str, ckpt: Path, args: argparse.Namespace,
          max_frames: int | None) -> tuple[Path, float]:
    """``customkpt video --boxes track --smooth none`` (in this process) on
    the video's first ``max_frames`` frames (None: all); (its result JSON,
    seconds)."""
    from customkpt.cli import video
    out = Path(args.work_dir) / name / 'video'
    out.mkdir(parents=True, exist_ok=True)
    argv = [args.video, '--config', str(video_config(args)), '--checkpoint', str(ckpt),
            '--boxes', 'track', '--smooth', 'none', '--no-video', '--no-progress',
            '--out-dir', str(out)]
    if max_frames is not None:
        argv += ['--max-frames', str(max_frames)]
    log = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        code = video.main(argv)
    seconds = time.perf_counter() - start
    (out / 'video.log').write_text(log.getvalue())
    result = out / f'{Path(args.video).stem}_pose.json'
    if code != 0 or not result.is_file():
        raise SystemExit(f'[{name}] customkpt video failed (exit {code}); see {out / "video.log"}')
    return result, seconds


def video_stats(pose_json: Path, frames: int) -> dict:
    """Jitter (median over keypoints of the median frame-to-frame move, px)
    and mean keypoint score of each frame's best instance, over the first
    ``frames`` frames (a frame without an instance breaks the moves)."""
    data = json.loads(pose_json.read_text())
    k = len(data['keypoint_names'])
    points = np.full((frames, k, 2), np.nan)
    scores = []
    for rec in data['frames']:
        idx = int(rec['frame_idx'])
        if idx >= frames or not rec['instances']:
            continue
        best = max(rec['instances'], key=lambda i: np.nanmean(
            np.asarray(i['keypoint_scores'], float)))
        points[idx] = np.asarray(best['keypoints_raw'], float)
        scores.append(np.asarray(best['keypoint_scores'], float))
    moves = np.linalg.norm(points[1:] - points[:-1], axis=-1)       # (frames - 1, K)
    per_point = [np.median(m[np.isfinite(m)]) for m in moves.T if np.isfinite(m).any()]
    return dict(jitter=float(np.median(per_point)) if per_point else float('nan'),
                score=float(np.nanmean(scores)) if scores else float('nan'),
                video_frames=len(scores))


def seconds_per_iter(work: Path) -> float:
    """Median logged iteration time of the newest run under ``work``."""
    runs = sorted(work.glob('2*/vis_data/scalars.json'))
    if not runs:
        return float('nan')
    times = [json.loads(line).get('time') for line in runs[-1].read_text().splitlines()
             if line.strip()]
    times = [t for t in times if t is not None]
    return float(statistics.median(times)) if times else float('nan')


def count_clips(boxes: str) -> tuple[int, int]:
    """(usable, left out) clips of the semi config with ``boxes``; builds the
    clip dataset once, so its frame cache is written before any timed run."""
    from customkpt.engine.config import load_config
    from customkpt.registry import DATASETS
    cfg = load_config(str(SEMI_CONFIG), dict(unlabelled_boxes=boxes))
    clips = DATASETS.build(cfg.train_dataloader.dataset.clips)
    return len(clips), clips.dropped


def run_row(mode: str, frames: int, ann: Path, args: argparse.Namespace,
            boxes: str | None = None) -> tuple[dict, Path]:
    """Train, test and track one row; (its result row, checkpoint)."""
    name = f'{mode}_{frames}'
    rargs, per_epoch = row_args(args, frames)
    extra = semi_options(args, per_epoch, boxes) if mode == 'semi' else ()
    ckpt, train_s = train(name, ann, rargs, SEMI_CONFIG if mode == 'semi' else CONFIG, extra)
    metrics, _ = evaluate(name, ckpt, rargs)
    row = dict(labelled=frames, mode=mode, EPE=metrics['EPE'], PCK=metrics['PCK'],
               AUC=metrics.get('AUC', float('nan')), train_s=train_s, epochs=rargs.epochs,
               iters=rargs.epochs * per_epoch,
               s_per_iter=seconds_per_iter(Path(args.work_dir) / name))
    print(f'[{name}] {row}', flush=True)
    return row, ckpt


def add_video(row: dict, pose_json: Path, seconds: float, args: argparse.Namespace) -> dict:
    row.update(video_stats(pose_json, args.video_frames), video_s=seconds)
    print(f"[{row['mode']}_{row['labelled']}] jitter {row['jitter']:.2f} px, "
          f"mean score {row['score']:.3f}", flush=True)
    return row


def supervised_rows(args: argparse.Namespace, subsets: dict[int, Path], tracker: int | None,
                    boxes: str) -> tuple[list[dict], str]:
    """The supervised rows, largest first; and the semi rows' boxes. The
    ``tracker`` row (the whole split, with ``--unlabelled-boxes track``)
    tracks the whole video (``--quick``: ``--video-frames``); its jitter is
    measured on the first ``--video-frames`` of that run (tracking is causal)."""
    wanted = set() if args.only_semi else set(args.labelled)
    if tracker is not None:
        wanted.add(tracker)
    rows = []
    for n in sorted(wanted, reverse=True):
        row, ckpt = run_row('supervised', n, subsets[n], args)
        whole = n == tracker and not args.quick
        pose, seconds = track(f'supervised_{n}', ckpt, args, None if whole else args.video_frames)
        if n == tracker:
            boxes = str(pose)
        rows.append(add_video(row, pose, seconds, args))
    return rows, boxes


def semi_rows(args: argparse.Namespace, subsets: dict[int, Path], boxes: str) -> list[dict]:
    usable, dropped = count_clips(boxes)
    print(f'semi clips: {usable} usable, {dropped} left out (boxes: {boxes})', flush=True)
    rows = []
    for n in sorted(set(args.labelled), reverse=True):
        row, ckpt = run_row('semi', n, subsets[n], args, boxes)
        pose, seconds = track(f'semi_{n}', ckpt, args, args.video_frames)
        rows.append(add_video(dict(row, clips=usable), pose, seconds, args))
    return rows


def goal_lines(rows: list[dict], full: int) -> list[str]:
    """Semi better (lower EPE) in every row? 25 + video over all-label EPE."""
    by = {(r['mode'], r['labelled']): r for r in rows}
    pairs = sorted(n for m, n in by if m == 'semi' and ('supervised', n) in by)
    lines = []
    if pairs:
        verdicts = [f"{n}: {'yes' if by['semi', n]['EPE'] < by['supervised', n]['EPE'] else 'no'}"
                    f" (EPE {by['semi', n]['EPE']:.2f} vs {by['supervised', n]['EPE']:.2f} px, "
                    f"PCK {by['semi', n]['PCK']:.3f} vs {by['supervised', n]['PCK']:.3f})"
                    for n in pairs]
        better = all(by['semi', n]['EPE'] < by['supervised', n]['EPE'] for n in pairs)
        lines.append(f"semi better (lower EPE) in every row: {'yes' if better else 'no'}; "
                     + '; '.join(verdicts))
    few = min((n for m, n in by if m == 'semi'), default=None)
    if few is not None and ('supervised', full) in by:
        ratio = by['semi', few]['EPE'] / by['supervised', full]['EPE']
        lines.append(f'{few} labels + video EPE / {full}-label supervised EPE = {ratio:.2f} '
                     f"(goal <= 1.2: {'met' if ratio <= 1.2 else 'not met'})")
    return lines


def table(rows: list[dict]) -> str:
    lines = ['| labelled | training | EPE px | PCK@0.05 | jitter px | mean score | train s | '
             'epochs (iters) | s/iter |', '| --- ' * 9 + '|']
    for r in sorted(rows, key=lambda r: (r['labelled'], MODES.index(r['mode']))):
        lines.append(f"| {r['labelled']} | {r['mode']} | {r['EPE']:.2f} | {r['PCK']:.3f} | "
                     f"{r['jitter']:.2f} | {r['score']:.3f} | {r['train_s']:.0f} | "
                     f"{r['epochs']} ({r['iters']}) | {r['s_per_iter']:.2f} |")
    return '\n'.join(lines)


def settings_line(args: argparse.Namespace) -> str:
    w, h = args.train_size
    return (f'HRNet (openfield_mouse_cpu.py), {w}x{h} input, {args.iters} iterations per row '
            f'(batch {args.batch_size}), start: {args.pretrained}, seed 0; jitter and score '
            f'on the first {args.video_frames} frames of {Path(args.video).name} '
            f'(--boxes track, no smoothing)' + (' [--quick]' if args.quick else ''))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.work_dir)
    os.chdir(ROOT)  # the configs' data paths start at the repository root
    subsets = make_subsets(args)
    full = len(json.loads((ROOT / args.train_json).read_text())['images'])
    boxes = args.unlabelled_boxes
    tracker = full if boxes == 'track' and not args.only_supervised else None
    if tracker is not None and full not in subsets:
        subsets.update(make_subsets(argparse.Namespace(**dict(vars(args), labelled=[full]))))
    rows, boxes = supervised_rows(args, subsets, tracker, boxes)
    if not args.only_supervised:
        rows += semi_rows(args, subsets, boxes)
    report = [settings_line(args), '', table(rows), '', *goal_lines(rows, full)]
    text = '\n'.join(report)
    print(text)
    (work / 'results.md').write_text(text + '\n')
    (work / 'results.json').write_text(json.dumps(dict(settings=settings_line(args), rows=rows,
                                                       boxes=boxes, goals=report[4:]), indent=1))
    print(f'results: {work / "results.md"}, {work / "results.json"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
