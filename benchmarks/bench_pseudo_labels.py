"""Do pseudo-labels from the unlabelled mouse video make up for missing
labels? Self-training on the open-field mouse, HRNet
(configs/openfield_mouse_cpu.py), at a fixed budget.

Per ``--labelled`` count (the same seeded, nested subsets as
bench_semi_supervised.py):

1. **supervised**: train on the labelled frames (the teacher, and the row to
   beat);
2. **pseudo**: ``customkpt outliers VIDEO --pick confident --format coco``
   with the teacher picks ``--pseudo-frames`` frames of the video that every
   outlier term trusts most, spread over poses, and writes its predictions
   as labels (points below ``--label-thr`` left unlabelled); ``customkpt
   merge-labels`` adds them to the labelled subset; the student trains on
   both, from the same start checkpoint, for the same number of optimiser
   iterations.

Per row: EPE (px) and PCK@0.05 on the validation split, jitter and mean
score on the first ``--video-frames`` frames of the video (as in
bench_semi_supervised.py), training seconds. Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/bench_pseudo_labels.py --labelled 25
    OMP_NUM_THREADS=1 python benchmarks/bench_pseudo_labels.py --quick   # smoke run

``--quick``: bench_semi_supervised.py's smoke settings, 4 pseudo-labelled
frames out of the video's first 30, every point kept (``--label-thr 0``).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_labelling_loop import IMG_ROOT, ROOT  # noqa: E402
from bench_semi_supervised import (  # noqa: E402
    add_video, make_subsets, run_row, track, video_config)
from bench_semi_supervised import parse_args as semi_args  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--pseudo-frames', type=int, default=100,
                   help='video frames pseudo-labelled per row')
    p.add_argument('--label-thr', type=float, default=0.5,
                   help='points the teacher scores below are left unlabelled')
    p.add_argument('--score-frames', type=int, default=None,
                   help='score only the first frames of the video (default all; --quick 30)')
    p.add_argument('--work-dir', default='work_dirs/bench_pseudo_labels')
    own, rest = p.parse_known_args(argv)
    args = semi_args(rest + ['--work-dir', own.work_dir])
    del own.work_dir  # semi_args resolved it
    for key, value in vars(own).items():
        setattr(args, key, value)
    if args.quick:  # an untrained model scores every point low: keep them all
        args.pseudo_frames, args.score_frames, args.label_thr = 4, 30, 0.0
    return args


def pseudo_labels(name: str, teacher: Path, labelled: Path, args: argparse.Namespace
                  ) -> tuple[Path, int, float]:
    """The teacher's pseudo-labels merged into the labelled subset; (the
    merged json, its instances, seconds of scoring the video)."""
    from customkpt.cli import merge_labels, outliers
    out = Path(args.work_dir) / name / 'labels'
    argv = [args.video, '--config', str(video_config(args)), '--checkpoint', str(teacher),
            '--pick', 'confident', '--num-frames', str(args.pseudo_frames), '--format', 'coco',
            '--label-thr', str(args.label_thr), '--boxes', 'track', '--train-json',
            str(labelled), '--no-progress', '--out', str(out)]
    if args.score_frames:
        argv += ['--max-frames', str(args.score_frames)]
    log = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        code = outliers.main(argv)
    seconds = time.perf_counter() - start
    merged = Path(args.work_dir) / 'subsets' / f'{name}.json'
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        code = code or merge_labels.main([str(labelled), str(out / 'coco' / 'annotations.json'),
                                          '--out', str(merged), '--image-root', str(IMG_ROOT),
                                          '--no-progress'])
    (out / 'pseudo.log').write_text(log.getvalue())
    if code != 0:
        raise SystemExit(f'[{name}] pseudo-labelling failed; see {out / "pseudo.log"}')
    return merged, len(json.loads(merged.read_text())['annotations']), seconds


def rows_for(n: int, subsets: dict[int, Path], args: argparse.Namespace) -> list[dict]:
    """The supervised and pseudo rows of ``n`` labelled frames."""
    row, teacher = run_row('supervised', n, subsets[n], args)
    rows = [add_video(row, *track(f'supervised_{n}', teacher, args, args.video_frames), args)]
    merged, frames, score_s = pseudo_labels(f'pseudo_{n}', teacher, subsets[n], args)
    row, ckpt = run_row('pseudo', frames, merged, args)
    row.update(labelled=n, frames=frames, score_s=score_s)
    rows.append(add_video(row, *track(f'pseudo_{n}', ckpt, args, args.video_frames), args))
    return rows


def table(rows: list[dict]) -> str:
    lines = ['| labelled | training | frames | EPE px | PCK@0.05 | jitter px | mean score | '
             'train s | epochs (iters) |', '| --- ' * 9 + '|']
    for r in rows:
        lines.append(f"| {r['labelled']} | {r['mode']} | {r.get('frames', r['labelled'])} | "
                     f"{r['EPE']:.2f} | {r['PCK']:.3f} | {r['jitter']:.2f} | {r['score']:.3f} | "
                     f"{r['train_s']:.0f} | {r['epochs']} ({r['iters']}) |")
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.work_dir)
    os.chdir(ROOT)  # the configs' data paths start at the repository root
    subsets = make_subsets(args)
    rows = [r for n in sorted(set(args.labelled)) for r in rows_for(n, subsets, args)]
    settings = (f'HRNet (openfield_mouse_cpu.py), {args.train_size[0]}x{args.train_size[1]}, '
                f'{args.iters} iterations per row (batch {args.batch_size}), start: '
                f'{args.pretrained}; {args.pseudo_frames} pseudo-labelled frames, label '
                f'threshold {args.label_thr}' + (' [--quick]' if args.quick else ''))
    text = settings + '\n\n' + table(rows)
    print(text)
    (work / 'results.md').write_text(text + '\n')
    (work / 'results.json').write_text(json.dumps(dict(settings=settings, rows=rows), indent=1))
    print(f'results: {work / "results.md"}, {work / "results.json"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
