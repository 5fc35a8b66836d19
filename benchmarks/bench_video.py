"""End-to-end video inference speed, stage by stage, and keypoint jitter.

Runs the demo_video pipeline (frame decoding -> boxes -> model -> tracking
-> smoothing -> drawing -> writing mp4 / JSON / CSV) on a video and times
each stage separately. Without ``--checkpoint`` the config's model runs
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

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402

DEFAULT_VIDEO = REPO_ROOT.parent / 'shared' / 'data' / 'openfield-mouse' / 'videos' / \
    'm3v1mp4.mp4'
STAGES = ('decode', 'boxes', 'model', 'tracking', 'smoothing', 'drawing', 'writing')


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
    p.add_argument('--boxes', default='full', help='as tools/demo_video.py --boxes')
    p.add_argument('--track-padding', type=float, default=1.25,
                   help='as tools/demo_video.py --track-padding')
    p.add_argument('--track-min-size', type=float, default=16.0,
                   help='as tools/demo_video.py --track-min-size')
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

    from customkpt.apis import (DlcCsvWriter, PoseJsonWriter, PoseVideoWriter,
                                VideoPoseEstimator, open_source)
    sys.path.insert(0, str(REPO_ROOT / 'tools'))
    import demo_video

    tool_args = demo_video.parse_args(
        [args.video] + (['--onnx', args.onnx] if args.onnx else ['--config', args.config])
        + (['--checkpoint', args.checkpoint] if args.checkpoint and not args.onnx else [])
        + ['--device', args.device, '--boxes', args.boxes, '--tracker', args.tracker,
           '--smooth', args.smooth, '--min-cutoff', str(args.min_cutoff), '--beta',
           str(args.beta), '--d-cutoff', str(args.d_cutoff), '--alpha', str(args.alpha),
           '--kpt-thr', str(args.kpt_thr), '--track-padding', str(args.track_padding),
           '--track-min-size', str(args.track_min_size)]
        + (['--batch-size', str(args.batch_size)] if args.batch_size else []))
    predictor = demo_video.build_predictor(tool_args)
    estimator = VideoPoseEstimator(predictor, demo_video.box_config(tool_args),
                                   tracker=demo_video.tracker_config(tool_args),
                                   smoother=demo_video.smoother_config(tool_args),
                                   score_thr=args.kpt_thr)
    source = open_source(args.video, max_frames=args.max_frames)
    meta = predictor.meta
    names = list(meta.get('keypoint_names') or [])

    times: dict[str, float] = defaultdict(float)
    raw_tracks: dict[int, dict[int, np.ndarray]] = defaultdict(dict)
    smooth_tracks: dict[int, dict[int, np.ndarray]] = defaultdict(dict)
    frames = 0
    with tempfile.TemporaryDirectory() as tmp:
        stem = Path(tmp) / 'bench_pose'
        video_writer = PoseVideoWriter(stem.with_suffix('.mp4'), meta, fps=source.fps,
                                       score_thr=args.kpt_thr)
        json_writer = PoseJsonWriter(stem.with_suffix('.json'), dict(source=args.video))
        csv_writer = DlcCsvWriter(stem.with_suffix('.csv'), names)
        # One warm-up frame (first model call builds buffers), not timed.
        for idx, stamp, frame in open_source(args.video, max_frames=1):
            estimator.process(frame, idx, stamp)
        estimator.reset()
        start = time.perf_counter()
        iterator = iter(source)
        while True:
            t0 = time.perf_counter()
            try:
                idx, stamp, frame = next(iterator)
            except StopIteration:
                break
            t1 = time.perf_counter()
            result = estimator.process(frame, idx, stamp)
            t2 = time.perf_counter()
            drawn = video_writer.draw(frame, result)
            t3 = time.perf_counter()
            video_writer.write(drawn)
            json_writer.add(result)
            csv_writer.add(result)
            t4 = time.perf_counter()
            times['decode'] += t1 - t0
            times['drawing'] += t3 - t2
            times['writing'] += t4 - t3
            for inst in result['instances']:
                raw_tracks[inst['track_id']][idx] = np.asarray(inst['keypoints_raw'], float)
                smooth_tracks[inst['track_id']][idx] = np.asarray(inst['keypoints'], float)
            frames += 1
        t0 = time.perf_counter()
        video_writer.close()
        json_writer.close(source.skipped_frames)
        csv_writer.close()
        times['writing'] += time.perf_counter() - t0
        total = time.perf_counter() - start
    for stage in ('boxes', 'model', 'tracking', 'smoothing'):
        times[stage] = estimator.timings[stage]

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
    return 0


if __name__ == '__main__':
    sys.exit(main())
