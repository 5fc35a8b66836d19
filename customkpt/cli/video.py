"""``customkpt video``: keypoints on a video, tracked, smoothed, drawn and saved.

The loop itself is :func:`customkpt.apis.run_video`; this module turns the
command line into its predictor, box provider, tracker, smoother and writers.
"""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from customkpt.core.boxes import DEFAULT_POSE_NMS_THR

from .box_options import add_box_args, box_config
from .common import make_parser

if TYPE_CHECKING:
    from customkpt.apis import VideoOutputs, VideoPoseEstimator

SMOOTHERS = ('none', 'oneeuro', 'ema', 'savgol')
TRACKERS = ('oks', 'iou', 'combined', 'none')
EXAMPLES = (
    'customkpt video VIDEO.mp4 --config CFG.py --checkpoint CKPT.pth',
    'customkpt video FRAMES_DIR --onnx model.onnx --fps 30',
    'customkpt video 0 --config CFG.py --checkpoint CKPT.pth   # camera 0',
    'customkpt video VIDEO.mp4 --onnx model.onnx --boxes track+detector:yolo.onnx',
    'customkpt video --finish outputs/demo_video   # after a killed run',
)
NOTES = """\
Box sources (--boxes): full (the whole frame, default), file:DETS.json (COCO
detection results keyed by frame), track (each box from the last frame's
confident keypoints, the whole frame when lost), detector:YOLO.onnx (an
exported YOLO detector every frame) and track+detector:YOLO.onnx (keypoint
tracking, the detector when lost). The detector may also be customkpt's own
one-stage model: an exported .onnx (recognised by its sidecar), or a
checkpoint with --det-config (docs/onestage.md).

Writes into --out-dir: <name>_pose.mp4 (skeletons drawn; not with
--no-video), <name>_pose.jsonl (one line per frame as it runs),
<name>_pose.json (all frames, at the end) and <name>_pose.csv (DeepLabCut
layout). Ctrl-C or SIGTERM stops early, finishes and closes everything. The
mp4 is written in closed parts (<name>_pose.mp4.parts/) joined at the end; after
a kill (SIGKILL), --finish OUT_DIR rebuilds the JSON, CSV and mp4 from the
JSON Lines and the parts. See docs/video.md.
"""


def _add_model_args(p: argparse.ArgumentParser) -> None:
    model = p.add_argument_group('model (torch config + checkpoint, or an exported ONNX)')
    model.add_argument('--config', help='model config (.py)')
    model.add_argument('--checkpoint', help='checkpoint (.pth) for --config')
    model.add_argument('--onnx', help='exported model (.onnx with its .json sidecar)')
    model.add_argument('--pipeline', help='an exported detector + top-down model '
                                          '(<name>_pipeline.json of customkpt export '
                                          '--detector): its boxes and model')
    model.add_argument('--device', default='cpu', help="torch device: 'cpu', 'cuda', 'cuda:1'")
    model.add_argument('--batch-size', type=int, default=None,
                       help='most boxes per forward pass (all of a frame by default)')


def _add_tracking_args(p: argparse.ArgumentParser) -> None:
    track = p.add_argument_group('tracking and smoothing')
    track.add_argument('--tracker', default='oks', choices=TRACKERS,
                       help='how instances keep their id from frame to frame')
    track.add_argument('--track-thr', type=float, default=0.3,
                       help='smallest OKS / IoU that continues a track')
    track.add_argument('--max-lost', type=int, default=10,
                       help='frames a track may be missing before it ends')
    track.add_argument('--pose-nms', type=float, default=DEFAULT_POSE_NMS_THR, metavar='OKS',
                       help='before tracking, drop a pose whose OKS to a better-scored one of '
                            'the same frame is above this (two boxes on one subject would '
                            'keep two ids on it); 0 disables')
    track.add_argument('--smooth', default='oneeuro', choices=SMOOTHERS,
                       help='temporal filter per track and keypoint')
    track.add_argument('--min-cutoff', type=float, default=1.0,
                       help='One Euro: cutoff (Hz) at rest; lower = smoother, more lag')
    track.add_argument('--beta', type=float, default=0.0,
                       help='One Euro: cutoff increase per px/s of speed; higher = less lag')
    track.add_argument('--d-cutoff', type=float, default=1.0,
                       help='One Euro: cutoff (Hz) of the speed estimate')
    track.add_argument('--alpha', type=float, default=0.5,
                       help='EMA: weight of the new frame (1 = no smoothing)')
    track.add_argument('--window', type=int, default=11, help='Savitzky-Golay window (odd)')
    track.add_argument('--order', type=int, default=2, help='Savitzky-Golay polynomial order')
    track.add_argument('--kpt-thr', type=float, default=0.3,
                       help='keypoint score below which points are not smoothed, tracked '
                            'or drawn')


def _add_output_args(p: argparse.ArgumentParser) -> None:
    out = p.add_argument_group('input and output')
    out.add_argument('--out-dir', default='outputs/demo_video', help='where outputs go')
    out.add_argument('--max-frames', type=int, default=None, help='stop after this many frames')
    out.add_argument('--fps', type=float, default=None,
                     help='frame rate of an image folder (timestamps, output video)')
    out.add_argument('--no-video', action='store_true', help='do not write the mp4')
    out.add_argument('--no-progress', action='store_true', help='no progress bar')
    out.add_argument('--video-segment', type=int, default=300,
                     help='frames per closed mp4 part (what a kill can cost of the video)')
    out.add_argument('--finish', metavar='OUT', default=None,
                     help='rebuild the JSON, CSV and mp4 of a killed run from its .jsonl and '
                          'mp4 parts (an --out-dir or a .jsonl); no model needed')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = make_parser('video', 'Run a keypoint model on a video, an image folder or a camera',
                    EXAMPLES, NOTES, show_defaults=True)
    p.add_argument('input', nargs='?', help='video file, folder of images, or camera index (0)')
    _add_model_args(p)
    add_box_args(p)
    _add_tracking_args(p)
    _add_output_args(p)
    args = p.parse_args(argv)
    if args.finish is not None:
        return args
    if args.input is None:
        p.error('the input (video, image folder or camera) is required')
    if args.pipeline:
        _apply_pipeline(p, args)
    if bool(args.onnx) == bool(args.config):
        p.error('give either --config (with --checkpoint), --onnx or --pipeline')
    if args.checkpoint and not args.config:
        p.error('--checkpoint needs --config')
    if args.batch_size is not None and args.batch_size < 1:
        p.error('--batch-size must be >= 1')
    if args.video_segment < 1:
        p.error('--video-segment must be >= 1')
    if not 0.0 <= args.pose_nms <= 1.0:
        p.error('--pose-nms must be an OKS in [0, 1] (0 disables)')
    return args


def _apply_pipeline(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``--pipeline``: its top-down model as ``--onnx`` and its detector as
    the box source (``detector:`` unless ``--boxes`` says ``track+detector``),
    with its box threshold and classes unless given."""
    from customkpt.deploy.pipeline import read_pipeline
    if args.onnx or args.config:
        p.error('--pipeline brings its own model: leave out --onnx and --config')
    if args.boxes not in ('full', 'detector', 'track+detector'):
        p.error(f'--pipeline brings its own boxes: --boxes {args.boxes} (use detector or '
                'track+detector)')
    try:
        info = read_pipeline(args.pipeline)
    except (OSError, ValueError) as err:
        p.error(str(err))
    args.onnx = info['pose']
    args.boxes = f"{'track+' if args.boxes == 'track+detector' else ''}detector:" \
                 f"{info['detector']}"
    if args.box_thr is None:
        args.box_thr = info['box_score_thr']
    if args.det_classes is None:  # not given: the pipeline's classes
        args.det_classes = info['class_ids'] or []


def build_predictor(args: argparse.Namespace) -> Any:
    """The torch or ONNX predictor the arguments ask for."""
    if args.onnx:
        from customkpt.deploy import OnnxPredictor
        return OnnxPredictor(args.onnx, batch_size=args.batch_size)
    from customkpt.apis.inference import TopdownPredictor, init_model
    if not args.checkpoint:
        print('customkpt video: no --checkpoint: the model runs with untrained weights',
              file=sys.stderr)
    model = init_model(args.config, args.checkpoint, device=args.device)
    return TopdownPredictor(model, batch_size=args.batch_size)


def smoother_config(args: argparse.Namespace) -> dict[str, Any] | None:
    """The ``KEYPOINT_FILTERS`` config of ``--smooth``."""
    if args.smooth == 'oneeuro':
        return dict(type='OneEuroFilter', min_cutoff=args.min_cutoff, beta=args.beta,
                    d_cutoff=args.d_cutoff)
    if args.smooth == 'ema':
        return dict(type='EMAFilter', alpha=args.alpha)
    if args.smooth == 'savgol':
        return dict(type='SavitzkyGolayFilter', window=args.window, order=args.order)
    return None


def tracker_config(args: argparse.Namespace) -> dict[str, Any] | None:
    """The ``PoseTracker`` arguments of ``--tracker``."""
    if args.tracker == 'none':
        return None
    cfg = dict(match=args.tracker, thr=args.track_thr, max_lost=args.max_lost)
    return dict(cfg, assign='hungarian') if args.tracker == 'combined' else cfg


def build_estimator(args: argparse.Namespace) -> VideoPoseEstimator:
    """Predictor, box provider, tracker and smoother of the arguments."""
    from customkpt.apis import VideoPoseEstimator
    return VideoPoseEstimator(build_predictor(args), box_config(args),
                              tracker=tracker_config(args), smoother=smoother_config(args),
                              score_thr=args.kpt_thr, pose_nms_thr=args.pose_nms or None)


def open_outputs(args: argparse.Namespace, source: Any, meta: dict[str, Any]) -> VideoOutputs:
    """The writers under ``--out-dir``; the JSON header records the settings."""
    from customkpt.apis import VideoOutputs
    header = dict(source=str(args.input), kind=source.kind, fps=source.fps,
                  keypoint_names=list(meta.get('keypoint_names') or []),
                  skeleton=meta.get('skeleton') or [],
                  settings=dict(model=args.onnx or args.config, checkpoint=args.checkpoint,
                                boxes=box_config(args), tracker=tracker_config(args),
                                smoother=smoother_config(args), kpt_thr=args.kpt_thr,
                                pose_nms=args.pose_nms or None))
    return VideoOutputs.open(args.out_dir, source, meta, header, score_thr=args.kpt_thr,
                             video=not args.no_video, segment_frames=args.video_segment)


def _print_summary(summary: Any, declared: int | None) -> None:
    print(f'frames processed: {summary.frames}, skipped: {summary.skipped}, '
          f'{summary.fps:.1f} frames/s ({summary.seconds:.1f} s)')
    if summary.unreadable_tail:
        print(f'  unreadable at the end: {summary.unreadable_tail} of {declared} declared '
              f'frames (a cut-short file?)')
    tail = {s['frame_idx'] for s in summary.skipped_frames[-summary.unreadable_tail:]
            } if summary.unreadable_tail else set()
    for ind in summary.skipped_frames:
        if not (isinstance(ind, dict) and ind.get('frame_idx') in tail):
            print(f'  skipped: {ind}')
    print('outputs:\n' + '\n'.join(f'  {p}' for p in summary.outputs))


def run(args: argparse.Namespace) -> int:
    """Process the input and print what was done; returns the exit status
    (130 after Ctrl-C, 143 after SIGTERM)."""
    from customkpt.apis import open_source, run_video
    source = open_source(args.input, fps=args.fps, max_frames=args.max_frames)
    if args.smooth == 'oneeuro' and not source.fps:
        print('customkpt video: the input has no frame rate (give --fps): One Euro cutoffs '
              'are then in cycles per frame, where 1.0 barely smooths', file=sys.stderr)
    estimator = build_estimator(args)
    outputs = open_outputs(args, source, dict(estimator.meta))
    summary = run_video(source, estimator, outputs, progress=not args.no_progress)
    if summary.interrupted:
        print(f'\ncustomkpt video: interrupted ({summary.stopped_by}), every output finished',
              file=sys.stderr)
    for note in summary.notes:
        print(f'customkpt video: {note}', file=sys.stderr)
    _print_summary(summary, len(source) or None)
    if not summary.interrupted:
        return 0
    return 143 if summary.stopped_by == 'SIGTERM' else 130


def finish(target: str) -> int:
    """``--finish``: rebuild the outputs of killed runs; returns 0."""
    from customkpt.apis.finish import find_runs, finish_run
    for jsonl in find_runs(target):
        done = finish_run(jsonl)
        video = ('' if done.video_frames is None else
                 f', mp4: {done.video_frames} frames ({done.redrawn} drawn again)')
        print(f'{jsonl}: frames: {done.frames}{video}')
        for note in done.notes:
            print(f'customkpt video: {note}', file=sys.stderr)
        print('outputs:\n' + '\n'.join(f'  {p}' for p in done.outputs))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; errors in the input or the model files exit with 2."""
    args = parse_args(argv)
    try:
        return finish(args.finish) if args.finish is not None else run(args)
    except (FileNotFoundError, OSError, ValueError) as exc:
        print(f'customkpt video: error: {exc}', file=sys.stderr)
        return 2
