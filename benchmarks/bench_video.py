"""End-to-end video inference speed, stage by stage, and keypoint jitter.

Runs the video pipeline (:func:`customkpt.apis.run_video`: frame decoding
-> boxes -> model -> tracking -> smoothing -> drawing -> writing mp4 / JSON /
CSV) on a video and times each stage separately. Without ``--checkpoint`` the config's model runs
with random initial weights (speed is the same; the keypoints are
meaningless). Jitter is the mean absolute frame-to-frame acceleration
``|p[t+1] - 2 p[t] + p[t-1]|`` (pixels / frame^2) of each keypoint over
consecutive frames of a track, for the raw and the smoothed keypoints.

    python benchmarks/bench_video.py                       # open-field mouse video, 100 frames
    python benchmarks/bench_video.py VIDEO --config CFG --checkpoint CKPT --max-frames 300
    python benchmarks/bench_video.py --onnx model.onnx --smooth ema

The default video is ``../shared/data/openfield-mouse/videos/m3v1mp4.mp4``
(relative to the repository); the benchmark exits with a message when it is
absent.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import platform
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]

DEFAULT_VIDEO = REPO_ROOT.parent / 'shared' / 'data' / 'openfield-mouse' / 'videos' / \
    'm3v1mp4.mp4'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = argparse.ArgumentParser(description='Video inference speed per stage, and jitter',
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('video', nargs='?', default=str(DEFAULT_VIDEO), help='input video')
    p.add_argument('--config', default=str(REPO_ROOT / 'configs' / 'hrnet_self5_cpu.py'),
                   help='model config (torch backend)')
    p.add_argument('--checkpoint', help='checkpoint; random initial weights when absent')
    p.add_argument('--onnx', help='run this exported model with onnxruntime instead')
    p.add_argument('--device', default='cpu')
    p.add_argument('--batch-size', type=int, default=None)
    p.add_argument('--boxes', default='full', help='as customkpt video --boxes')
    p.add_argument('--track-padding', type=float, default=1.25,
                   help='as customkpt video --track-padding')
    p.add_argument('--track-min-size', type=float, default=None,
                   help='as customkpt video --track-min-size (default: from the model)')
    p.add_argument('--tracker', default='oks', choices=('oks', 'iou', 'none'))
    p.add_argument('--smooth', default='oneeuro', choices=('none', 'oneeuro', 'ema'))
    p.add_argument('--min-cutoff', type=float, default=1.0)
    p.add_argument('--beta', type=float, default=0.0)
    p.add_argument('--d-cutoff', type=float, default=1.0)
    p.add_argument('--alpha', type=float, default=0.5)
    p.add_argument('--kpt-thr', type=float, default=0.3)
    p.add_argument('--max-frames', type=int, default=100)
    p.add_argument('--threads', type=int, default=1,
                   help='torch / OpenCV threads (1: per-core numbers)')
    p.add_argument('--json', help='also write the numbers to this file')
    return p.parse_args(argv)


def jitter(tracks: dict[int, dict[int, np.ndarray]]) -> tuple[float, int]:
    """Mean absolute acceleration (px / frame^2) over every keypoint and
    every three consecutive frames of a track; and how many terms."""
    total, count = 0.0, 0
    for frames in tracks.values():
        for t, p in frames.items():
            before, after = frames.get(t - 1), frames.get(t + 1)
            if before is None or after is None:
                continue
            acc = np.linalg.norm(after - 2 * p + before, axis=-1)
            ok = np.isfinite(acc)
            total += float(acc[ok].sum())
            count += int(ok.sum())
    return (total / count if count else float('nan')), count


def _video_args(args: argparse.Namespace) -> argparse.Namespace:
    """The ``customkpt video`` arguments of the benchmark's options."""
    from customkpt.cli import video
    return video.parse_args(
        [args.video] + (['--onnx', args.onnx] if args.onnx else ['--config', args.config])
        + (['--checkpoint', args.checkpoint] if args.checkpoint and not args.onnx else [])
        + ['--device', args.device, '--boxes', args.boxes, '--tracker', args.tracker,
           '--smooth', args.smooth, '--min-cutoff', str(args.min_cutoff), '--beta',
           str(args.beta), '--d-cutoff', str(args.d_cutoff), '--alpha', str(args.alpha),
           '--kpt-thr', str(args.kpt_thr), '--track-padding', str(args.track_padding)]
        + ([] if args.track_min_size is None else ['--track-min-size', str(args.track_min_size)])
        + (['--batch-size', str(args.batch_size)] if args.batch_size else []))


def _tracks(results: list[dict]) -> tuple[dict, dict]:
    """Raw and smoothed keypoints per track id and frame."""
    raw: dict[int, dict[int, np.ndarray]] = defaultdict(dict)
    smooth: dict[int, dict[int, np.ndarray]] = defaultdict(dict)
    for result in results:
        for inst in result['instances']:
            raw[inst['track_id']][result['frame_idx']] = np.asarray(inst['keypoints_raw'], float)
            smooth[inst['track_id']][result['frame_idx']] = np.asarray(inst['keypoints'], float)
    return raw, smooth


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.video):
        print(f'bench_video: skipped: video {args.video} not found (the default needs '
              f'../shared/data next to the repository)')
        return 0
    import cv2
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)  # the same random weights every run
    cv2.setNumThreads(args.threads)
    os.environ.setdefault('OMP_NUM_THREADS', str(args.threads))

    from customkpt.apis import VideoOutputs, open_source, run_video
    from customkpt.cli.video import build_estimator
    estimator = build_estimator(_video_args(args))
    source = open_source(args.video, max_frames=args.max_frames)
    # One warm-up frame (first model call builds buffers), not timed.
    for idx, stamp, frame in open_source(args.video, max_frames=1):
        estimator.process(frame, idx, stamp)
    with tempfile.TemporaryDirectory() as tmp:
        outputs = VideoOutputs.open(tmp, source, estimator.meta, dict(source=args.video),
                                    score_thr=args.kpt_thr)
        start = time.perf_counter()
        summary = run_video(source, estimator, outputs, progress=False, keep_results=True)
        total = time.perf_counter() - start
    _report(args, source, summary, total)
    return 0


def _report(args: argparse.Namespace, source, summary, total: float) -> None:
    """Print the numbers (and write them to ``--json``)."""
    from customkpt.apis.pipeline import STAGES
    times, frames = summary.timings, summary.frames
    raw_tracks, smooth_tracks = _tracks(summary.results)
    backend = 'onnxruntime' if args.onnx else f'torch ({args.device})'
    weights = args.onnx or args.checkpoint or 'random initial weights'
    print(f'video: {args.video} ({source.size[0]}x{source.size[1]}, {source.fps:g} fps)'
          if source.size and source.fps else f'video: {args.video}')
    print(f'model: {args.config if not args.onnx else args.onnx}, {backend}, {weights}, '
          f'{args.threads} thread(s), {platform.processor() or platform.machine()}')
    print(f'boxes: {args.boxes}, tracker: {args.tracker}, smoothing: {args.smooth}')
    print(f'frames: {frames} (skipped {source.skipped}), total {total:.2f} s, '
          f'{frames / total:.1f} frames/s end to end')
    print(f'{"stage":<10} {"total s":>8} {"ms/frame":>9} {"share":>6}')
    timed = sum(times[s] for s in STAGES)
    for stage in STAGES:
        print(f'{stage:<10} {times[stage]:8.3f} {1e3 * times[stage] / max(frames, 1):9.2f} '
              f'{100 * times[stage] / max(timed, 1e-9):5.1f}%')
    print(f'{"other":<10} {total - timed:8.3f} {1e3 * (total - timed) / max(frames, 1):9.2f}')
    raw_j, n_raw = jitter(raw_tracks)
    smooth_j, _ = jitter(smooth_tracks)
    print(f'jitter (mean |acceleration|, px/frame^2, {n_raw} point-frames, '
          f'{len(raw_tracks)} track(s)): raw {raw_j:.3f}, smoothed {smooth_j:.3f}'
          + (f' ({smooth_j / raw_j:.2f}x)' if raw_j > 0 else ''))
    if args.json:
        Path(args.json).write_text(json.dumps(dict(
            video=args.video, backend=backend, weights=weights, frames=frames,
            total_s=total, fps=frames / total, stages_s=dict(times),
            jitter_raw=raw_j, jitter_smoothed=smooth_j, tracks=len(raw_tracks)), indent=1))


if __name__ == '__main__':
    sys.exit(main())
