"""Temporal smoothing on the demo video: error, jitter and lag, raw vs each filter.

The self5 demo video comes with per-frame ground truth (true positions even
where a point is hidden). Predictions are either the ground truth plus seeded
noise (default; no model needed) or a model's output on every frame with the
ground-truth boxes (``--config`` and ``--checkpoint``, through
``customkpt.apis.TopdownPredictor``). Each track is smoothed with every
filter and compared with the truth:

* error: mean Euclidean distance to the truth (px);
* jitter: mean norm of the frame-to-frame acceleration
  ``x[t+1] - 2 x[t] + x[t-1]`` (px / frame^2); the truth's own value is
  shown in the first row;
* lag: the time shift (frames, 0.1 steps, positive = behind) that brings
  the output closest to the truth.

    python benchmarks/bench_smoothing.py                       # noise mode
    python benchmarks/bench_smoothing.py --noise 3 --outliers 0.02
    python benchmarks/bench_smoothing.py --config configs/hrnet_self5_cpu.py \\
        --checkpoint work_dirs/hrnet_self5_cpu/best_coco_AP_epoch_20.pth

The video is read from ``--data`` (default ``data/self5``) when it holds
``video/self5_video_gt.json``, else made into a temporary folder.
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import tempfile
import time

import numpy as np

from customkpt.demo import make_self5_dataset
from customkpt.smoothing import KeypointSmoother

GT_FILE = osp.join('video', 'self5_video_gt.json')


def filter_settings(fps: float) -> list[tuple[str, dict | None]]:
    """(label, filter config) rows of the table; None is the raw prediction."""
    return [
        ('raw', None),
        ('OneEuro min_cutoff=1.0 beta=0.05', dict(type='OneEuroFilter', min_cutoff=1.0,
                                                  beta=0.05, fps=fps)),
        ('OneEuro min_cutoff=0.5 beta=0.02', dict(type='OneEuroFilter', min_cutoff=0.5,
                                                  beta=0.02, fps=fps)),
        ('OneEuro min_cutoff=3.0 beta=0.0', dict(type='OneEuroFilter', min_cutoff=3.0,
                                                 beta=0.0, fps=fps)),
        ('EMA alpha=0.5', dict(type='EMAFilter', alpha=0.5)),
        ('Savitzky-Golay window=11 order=2', dict(type='SavitzkyGolayFilter', window=11,
                                                  order=2)),
        ('Savitzky-Golay window=7 order=2', dict(type='SavitzkyGolayFilter', window=7,
                                                 order=2)),
        ('Gaussian window=11 sigma=4', dict(type='GaussianFilter', window=11, sigma=4.0)),
        ('Gaussian window=7 sigma=1.5', dict(type='GaussianFilter', window=7, sigma=1.5)),
    ]


def video_root(data: str, frames: int) -> str:
    """A folder holding the demo video and its truth; made when missing."""
    if osp.isfile(osp.join(data, GT_FILE)):
        return data
    out = osp.join(tempfile.gettempdir(), f'customkpt_bench_smoothing_{frames}')
    print(f'no {GT_FILE} under {data}: writing the demo video to {out}')
    make_self5_dataset(out, num_train=0, num_val=0, video_frames=frames, progress=False)
    return out


def load_truth(root: str) -> tuple[dict, dict[int, np.ndarray], dict[int, np.ndarray], float]:
    """Per track: (T_track, K, 2) truth and (T_track,) frame indices; plus the gt json and fps."""
    with open(osp.join(root, GT_FILE), encoding='utf-8') as f:
        gt = json.load(f)
    tracks: dict[int, list] = {}
    for frame in gt['frames']:
        for inst in frame['instances']:
            tracks.setdefault(int(inst['track_id']), []).append(
                (int(frame['frame_id']), np.asarray(inst['keypoints'], np.float64)[:, :2]))
    truth = {t: np.stack([p for _, p in rows]) for t, rows in tracks.items()}
    frames = {t: np.asarray([i for i, _ in rows]) for t, rows in tracks.items()}
    for t, f in frames.items():
        if np.any(np.diff(f) != 1):
            raise ValueError(f'{GT_FILE}: track {t} skips frames; this benchmark needs '
                             'unbroken tracks')
    return gt, truth, frames, float(gt.get('fps', 25))


def noisy_predictions(truth: dict[int, np.ndarray], noise: float, outliers: float,
                      seed: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Truth + Gaussian noise (``noise`` px per axis) and, with probability
    ``outliers`` per point, a jump of 5x that noise; scores all 1."""
    rng = np.random.default_rng(seed)
    out = {}
    for t in sorted(truth):
        x = truth[t]
        pred = x + rng.normal(0.0, noise, x.shape)
        jump = rng.random(x.shape[:2]) < outliers
        pred[jump] += rng.normal(0.0, 5 * noise, (int(jump.sum()), 2))
        out[t] = (pred, np.ones(x.shape[:2]))
    return out


def model_predictions(root: str, gt: dict, config: str, checkpoint: str, device: str
                      ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Run the model on every frame with the ground-truth boxes."""
    from customkpt.apis.inference import TopdownPredictor

    predictor = TopdownPredictor(config, checkpoint, device=device)
    per_track: dict[int, tuple[list, list]] = {}
    start = time.perf_counter()
    for frame in gt['frames']:
        insts = frame['instances']
        if not insts:
            continue
        boxes = np.asarray([i['bbox'] for i in insts], np.float32)
        boxes[:, 2:] += boxes[:, :2]  # xywh -> xyxy
        res = predictor(osp.join(root, frame['file_name']), boxes)
        for j, inst in enumerate(insts):
            kp, sc = per_track.setdefault(int(inst['track_id']), ([], []))
            kp.append(res['keypoints'][j].astype(np.float64))
            sc.append(res['keypoint_scores'][j].astype(np.float64))
    print(f'model: {len(gt["frames"])} frames in {time.perf_counter() - start:.1f} s')
    return {t: (np.stack(k), np.stack(s)) for t, (k, s) in per_track.items()}


def jitter(x: np.ndarray) -> float:
    """Mean norm of the second difference over frames of (T, K, 2)."""
    if len(x) < 3:
        return float('nan')
    return float(np.linalg.norm(x[2:] - 2 * x[1:-1] + x[:-2], axis=-1).mean())


def shifted(x: np.ndarray, shift: float) -> np.ndarray:
    """``x`` (T, K, 2) delayed by ``shift`` frames, linearly interpolated: out[t] = x(t - shift)."""
    t = np.arange(len(x)) - shift
    t = np.clip(t, 0, len(x) - 1)
    lo = np.floor(t).astype(int)
    hi = np.minimum(lo + 1, len(x) - 1)
    w = (t - lo)[:, None, None]
    return (1 - w) * x[lo] + w * x[hi]


def lag(out: dict[int, np.ndarray], truth: dict[int, np.ndarray], margin: int = 12) -> float:
    """The delay (frames) of ``out`` behind ``truth`` that fits best, in 0.1 steps."""
    shifts = np.arange(-3.0, 10.01, 0.1)
    errors = []
    for s in shifts:
        e = [np.linalg.norm(out[t][margin:-margin] - shifted(truth[t], s)[margin:-margin],
                            axis=-1).mean() for t in truth if len(truth[t]) > 2 * margin]
        errors.append(np.mean(e) if e else np.nan)
    if np.all(np.isnan(errors)):
        return float('nan')
    return float(shifts[int(np.nanargmin(errors))])


def evaluate(preds: dict[int, tuple[np.ndarray, np.ndarray]], truth: dict[int, np.ndarray],
             cfg: dict | None, score_thr: float) -> tuple[dict[str, float], float]:
    """Smooth every track with ``cfg`` and measure it; returns metrics and seconds taken."""
    start = time.perf_counter()
    out = {}
    for t, (kpts, scores) in preds.items():
        if cfg is None:
            out[t] = kpts
        else:
            out[t] = KeypointSmoother(cfg, score_thr).smooth_sequence(kpts, scores).astype(
                np.float64)
    took = time.perf_counter() - start
    err = np.mean(np.concatenate([np.linalg.norm(out[t] - truth[t], axis=-1).ravel()
                                  for t in truth]))
    jit = np.mean([jitter(out[t]) for t in truth])
    return dict(error=float(err), jitter=float(jit), lag=lag(out, truth)), took


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', default='data/self5', help='demo dataset folder')
    parser.add_argument('--frames', type=int, default=150,
                        help='video length when the video has to be made')
    parser.add_argument('--config', help='model config (with --checkpoint)')
    parser.add_argument('--checkpoint', help='model checkpoint')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--noise', type=float, default=2.0, help='noise std per axis (px)')
    parser.add_argument('--outliers', type=float, default=0.0,
                        help='per-point probability of a 5x noise jump')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--score-thr', type=float, default=0.3)
    args = parser.parse_args(argv)
    if (args.config is None) != (args.checkpoint is None):
        parser.error('--config and --checkpoint go together')

    root = video_root(args.data, args.frames)
    gt, truth, _, fps = load_truth(root)
    if args.config:
        preds = model_predictions(root, gt, args.config, args.checkpoint, args.device)
        source = f'model {osp.basename(args.checkpoint)} on ground-truth boxes'
    else:
        preds = noisy_predictions(truth, args.noise, args.outliers, args.seed)
        source = (f'ground truth + N(0, {args.noise:g}^2) px noise'
                  + (f', {args.outliers:g} outliers' if args.outliers else '')
                  + f', seed {args.seed}')
    num_frames = len(gt['frames'])
    print(f'\n{num_frames} frames at {fps:g} fps, {len(truth)} tracks, '
          f'{len(truth[next(iter(truth))][0])} keypoints; predictions: {source}\n')
    print('| filter | error (px) | jitter (px/frame^2) | lag (frames) | time (ms) |')
    print('| --- | ---: | ---: | ---: | ---: |')
    truth_jitter = np.mean([jitter(truth[t]) for t in truth])
    print(f'| ground truth | 0.00 | {truth_jitter:.2f} | 0.0 | |')
    for label, cfg in filter_settings(fps):
        m, took = evaluate(preds, truth, cfg, args.score_thr)
        print(f'| {label} | {m["error"]:.2f} | {m["jitter"]:.2f} | {m["lag"]:.1f} | '
              f'{took * 1e3:.1f} |')


if __name__ == '__main__':
    main()
