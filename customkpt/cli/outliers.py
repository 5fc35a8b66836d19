"""``customkpt outliers``: the frames of a video a trained model gets most
wrong, written out with the model's predictions for correcting in Labelme or
DeepLabCut; with ``--pick confident``, the frames it gets most surely right,
written as a COCO json of pseudo-labels to train on.

Scoring and selection are :func:`customkpt.apis.find_outliers` (see
:mod:`customkpt.apis.outlier_scores` for the terms); the files are
:mod:`customkpt.cli.outlier_files`. docs/labelling.md walks the whole loop.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from customkpt.errors import UserError

from .box_options import add_box_args, box_config
from .common import make_parser

EXAMPLES = (
    'customkpt outliers clip.mp4 --config CFG.py --checkpoint CKPT.pth --num-frames 20 '
    '--out labelling/round1',
    'customkpt outliers clip.mp4 --config CFG.py --checkpoint CKPT.pth --num-frames 10 '
    '--out OUT --format dlc --boxes track',
    'customkpt outliers FRAMES_DIR --config CFG.py --checkpoint CKPT.pth --num-frames 8 '
    '--out OUT --weights jump=2,confidence=0.5',
    'customkpt outliers clip.mp4 --config CFG.py --checkpoint CKPT.pth --pick confident '
    '--num-frames 100 --format coco --boxes track --out pseudo',
)
NOTES = """\
Every frame is scored by four terms, each higher = worse: confidence
(1 - mean keypoint score), flip (the prediction on the frame against the one
on the mirrored frame), jump (motion away from both neighbouring frames of a
track, beyond --dead-zone) and pose (distance from the subspace of the
labelled training poses, --train-json, by default the config's training
annotation file). Each is scaled by its median / MAD over the video and the
weighted sum (--weights) ranks the frames; --num-frames are then picked from
the best --top-fraction so that their poses differ (k-means, --seed).

Writes into --out: outliers.json (every frame's terms and the picks),
labelme/<video>/imgNNN.{png,json} and/or dlc/ (config.yaml and
labeled-data/<video>/ with the frames and CollectedData_<scorer>.csv).
Correct them, then: customkpt merge-labels TRAIN.json OUT/labelme --out
MERGED.json. See docs/labelling.md.

--pick confident turns the ranking round: the frames every term trusts most
(lowest scores), spread over poses the same way. With --format coco they are
written to OUT/coco/annotations.json (images under OUT/coco/images/), points
scoring below --label-thr left unlabelled: pseudo-labels for training on the
video (merge-labels TRAIN.json OUT/coco/annotations.json --out MERGED.json;
docs/semi_supervised.md).
"""
#: ``--format`` -> the label formats written.
FORMATS = {'labelme': ('labelme',), 'dlc': ('dlc',), 'both': ('labelme', 'dlc'),
           'coco': ('coco',)}
#: ``--label-thr`` when not given, per ``--pick``.
LABEL_THR = dict(outliers=0.0, confident=0.5)


def _weights(text: str | None) -> dict[str, float]:
    """``jump=2,confidence=0.5`` -> dict."""
    out: dict[str, float] = {}
    for item in filter(None, (t.strip() for t in (text or '').split(','))):
        name, sep, value = item.partition('=')
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ''
        if not sep:
            raise UserError(f'--weights: expected TERM=NUMBER items, got {item!r}')
    return out


#: (option, type, default, help) of the scoring and selection options.
_SCORING_OPTIONS = (
    ('--variance', float, 0.99, "share of the labelled poses' variance the pose subspace keeps"),
    ('--weights', str, None, 'term weights, e.g. jump=2,confidence=0.5 (terms: confidence, '
                             'flip, jump, pose; default 1 each)'),
    ('--dead-zone', float, 0.05, 'per-frame motion (in pose sizes) that is not a jump'),
    ('--top-fraction', float, 0.25, 'share of the frames, best first, the picks come from'),
    ('--min-score', float, 3.0, 'score of a clear outlier (those are picked before the others)'),
    ('--seed', int, 0, 'k-means seed'),
    ('--kpt-thr', float, 0.3, 'keypoint score for tracking and for --boxes track'),
)


def _add_scoring_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group('scoring and selection')
    g.add_argument('--train-json', help="labelled poses for the pose term (default: the "
                                        "config's training annotation file)")
    g.add_argument('--no-pose', action='store_true', help='leave out the pose term')
    for option, kind, default, text in _SCORING_OPTIONS:
        g.add_argument(option, type=kind, default=default, help=text)
    g.add_argument('--tracker', default='oks', choices=('oks', 'iou', 'none'),
                   help='how instances keep their id from frame to frame (jumps follow it)')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = make_parser('outliers', 'Pick the video frames a trained model gets most wrong and '
                    'write them for labelling', EXAMPLES, NOTES, show_defaults=True)
    p.add_argument('input', help='video file or folder of images')
    p.add_argument('--config', required=True, help='model config (.py)')
    p.add_argument('--checkpoint', required=True, help='trained checkpoint (.pth)')
    p.add_argument('--num-frames', type=int, default=20, help='frames to pick')
    p.add_argument('--pick', default='outliers', choices=('outliers', 'confident'),
                   help='the worst-scoring frames (to label) or the best (pseudo-labels)')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--format', default='both', choices=sorted(FORMATS),
                   help='label files to write')
    p.add_argument('--scorer', default='customkpt', help='DeepLabCut scorer name')
    p.add_argument('--label-thr', type=float, default=None,
                   help='COCO file: points scoring below are left unlabelled (default: '
                        '0.5 with --pick confident, else 0)')
    p.add_argument('--device', default='cpu', help="torch device: 'cpu', 'cuda'")
    p.add_argument('--batch-size', type=int, default=None, help='most boxes per forward pass')
    p.add_argument('--max-frames', type=int, default=None, help='score only the first frames')
    p.add_argument('--fps', type=float, default=None, help='frame rate of an image folder')
    p.add_argument('--no-progress', action='store_true', help='no progress bars')
    _add_scoring_args(p)
    add_box_args(p)
    args = p.parse_args(argv)
    if args.num_frames < 1:
        p.error('--num-frames must be >= 1')
    if not 0 < args.top_fraction <= 1:
        p.error('--top-fraction must be in (0, 1]')
    if args.label_thr is None:
        args.label_thr = LABEL_THR[args.pick]
    return args


def _subspace(args: argparse.Namespace, model: Any) -> tuple[Any, str]:
    """The pose subspace and a line saying where it came from."""
    from customkpt.apis.outliers import fit_label_subspace, training_ann_file
    if args.no_pose:
        return None, 'pose term: off (--no-pose)'
    path = Path(args.train_json) if args.train_json else training_ann_file(model.cfg)
    if path is None or not path.is_file():
        where = f' ({path} not found)' if path is not None else ''
        raise UserError(f'the pose term needs labelled poses: give --train-json{where}, or '
                        '--no-pose')
    names = list(model.dataset_meta.get('keypoint_names') or [])
    try:
        sub = fit_label_subspace(path, names, variance=args.variance)
    except ValueError as exc:
        raise UserError(f'{path}: {exc}') from None
    return sub, (f'pose term: {len(sub.components)} components from {sub.num_samples} '
                 f'complete labelled poses in {path}')


def _print_picks(report: Any) -> None:
    from customkpt.apis.outlier_scores import TERMS
    s = report.scores
    print(f'frames scored: {len(s.frames)} of {report.summary.frames} read; '
          f'picked {len(report.picked)} (score, main term):')
    for i in report.picked:
        r = int(s.worst[i])
        main = max(TERMS, key=lambda t: s.weights[t] * s.normalised[t][r])
        print(f'  frame {int(s.frames[i]):6d}  {float(s.frame_score[i]):8.2f}  {main}')


def run(args: argparse.Namespace) -> int:
    """Score, pick, write; returns 0."""
    from customkpt.apis import init_model, open_source
    from customkpt.apis.outliers import find_outliers

    from .outlier_files import export_picked, write_report
    source = open_source(args.input, fps=args.fps, max_frames=args.max_frames)
    if source.kind == 'camera':
        raise UserError('outliers needs a video file or an image folder, not a camera')
    model = init_model(args.config, args.checkpoint, device=args.device)
    subspace, pose_line = _subspace(args, model)
    tracker = None if args.tracker == 'none' else dict(match=args.tracker, thr=0.3, max_lost=10)
    report = find_outliers(
        source, model, args.num_frames, box_provider=box_config(args),
        tracker=tracker if tracker is not None else False, subspace=subspace,
        weights=_weights(args.weights), top_fraction=args.top_fraction,
        min_score=args.min_score, dead_zone=args.dead_zone, seed=args.seed,
        kpt_thr=args.kpt_thr, batch_size=args.batch_size, progress=not args.no_progress,
        pick=args.pick)
    print(pose_line)
    _print_picks(report)
    settings = dict(config=args.config, checkpoint=args.checkpoint, boxes=box_config(args),
                    tracker=args.tracker, num_frames=args.num_frames,
                    top_fraction=args.top_fraction, min_score=args.min_score,
                    dead_zone=args.dead_zone, seed=args.seed, pose=pose_line, pick=args.pick,
                    label_thr=args.label_thr)
    out = Path(args.out)
    paths = [write_report(out / 'outliers.json', report, source, settings)]
    files = export_picked(source, report, dict(model.dataset_meta), out, FORMATS[args.format],
                          scorer=args.scorer, progress=not args.no_progress,
                          label_thr=args.label_thr)
    if files.missing:
        print(f'customkpt outliers: frames {files.missing} could not be read again')
    if files.left_out:
        print(f'customkpt outliers: {files.left_out} instances left out of the COCO file '
              f'(no point scored --label-thr {args.label_thr:g})')
    paths += [p for p in (files.labelme_dir, files.dlc_table, files.coco_file) if p is not None]
    print('outputs:\n' + '\n'.join(f'  {p}' for p in paths))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    try:
        return run(args)
    except (OSError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise UserError(str(exc)) from exc
