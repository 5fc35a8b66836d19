"""Identity tracking on the multi-figure demo video: id switches, kept ids, speed.

Runs the video command's loop (:func:`customkpt.apis.run_video` with a
:class:`customkpt.apis.VideoPoseEstimator`: boxes -> keypoints -> tracker
-> smoother) on ``video/multi_video.mp4`` of ``customkpt make-demo
--multi`` (4 figures walking across each other) for several trackers, with
and without One Euro smoothing, and scores the track ids against the
video's ground truth (:mod:`customkpt.evaluation.tracking_metrics`).

By default the "detections" are the ground truth made noisy, which isolates
the tracker from any model: each figure with at least ``--min-visible``
visible points gets its box with every side jittered by ``--box-jitter``
of its size, and its keypoints with noise of ``--kpt-noise`` of its height
(covered points: four times that, and a score under the keypoint
threshold); figures hidden behind others are not detected; ``--fp-rate``
adds a spurious low-scored detection to that share of frames; detections
come in a shuffled order. With ``--onnx`` or ``--config`` a real model
gives the keypoints instead, on the boxes of ``--boxes`` (``gt-jitter``,
the jittered boxes above, or any ``customkpt video --boxes`` source), for
one seed; its keypoints are computed once and reused by every tracker.
``--pose-nms OKS [OKS ...]`` runs every tracker with each threshold of the
video command's pose OKS-NMS (``VideoPoseEstimator(pose_nms_thr=...)``,
``customkpt video --pose-nms``), 0 for none: it drops a pose that repeats a
better-scored one of the same frame (a crop of two figures often gives the
front one's pose for both).

Tracking runs on the raw keypoints, before smoothing, so smoothing changes
the keypoint error (reported) but not the ids.

    python benchmarks/bench_tracking.py                     # noisy truth, ~1 min
    python benchmarks/bench_tracking.py --frames 300 --kpt-noise 0.03
    python benchmarks/bench_tracking.py --onnx model.onnx --boxes track
    python benchmarks/bench_tracking.py --config CFG.py --checkpoint CKPT.pth \
        --pose-nms 0 0.9 0.7 --only greedy combined
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

#: Tracker configurations compared (``PoseTracker`` arguments; None: no tracker).
TRACKERS: Dict[str, Optional[Dict[str, Any]]] = {
    'none (position in frame)': None,
    'iou greedy': dict(match='iou'),
    'oks greedy (video default)': dict(match='oks'),
    'oks hungarian': dict(match='oks', assign='hungarian'),
    'oks hungarian + motion': dict(match='oks', assign='hungarian', motion=True),
    'combined (--tracker combined)': dict(match='combined', assign='hungarian'),
    'combined + new_track_thr 0.5': dict(match='combined', assign='hungarian',
                                         new_track_thr=0.5),
}


#: The numbers of a run that the table averages over the seeds.
NUMBERS = ('id_switches', 'kept_id_share', 'mota', 'misses', 'false_positives', 'kpt_error',
           'fps', 'tracking_ms')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--data', default=None,
                   help='a make-demo --multi folder; by default one is written to a temp dir')
    p.add_argument('--frames', type=int, default=150, help='video length (when written)')
    p.add_argument('--figures', type=int, default=4, help='walkers (when written)')
    p.add_argument('--seeds', type=int, default=3,
                   help='noise seeds 0..N-1 (noisy truth); the table shows their mean')
    p.add_argument('--box-jitter', type=float, default=0.05)
    p.add_argument('--kpt-noise', type=float, default=0.02)
    p.add_argument('--min-visible', type=int, default=2)
    p.add_argument('--fp-rate', type=float, default=0.05)
    p.add_argument('--onnx', help='a model instead of the noisy truth')
    p.add_argument('--config', help='a torch model config instead of the noisy truth')
    p.add_argument('--checkpoint', help='its checkpoint')
    p.add_argument('--boxes', default='gt-jitter',
                   help='gt-jitter, or a customkpt video --boxes source (with a model)')
    p.add_argument('--detect-every', type=int, default=None, metavar='N',
                   help='with --boxes track+detector:MODEL: the video command\'s --detect-every')
    p.add_argument('--kpt-thr', type=float, default=0.3)
    p.add_argument('--pose-nms', type=float, nargs='+', default=None, metavar='OKS',
                   help='pose OKS-NMS thresholds to compare (0: none); by default the '
                        'video command\'s')
    p.add_argument('--match', default='oks', choices=('oks', 'iou'),
                   help='how the metric matches predictions to the truth')
    p.add_argument('--match-thr', type=float, default=0.5)
    p.add_argument('--only', nargs='+', default=None, metavar='WORD',
                   help='only the trackers whose name holds one of these words')
    p.add_argument('--json', help='also write the numbers to this file')
    return p.parse_args(argv)


class NoisyTruth:
    """Box provider and predictor in one: the truth of each frame made noisy
    (module docstring). Every tracker sees the same detections: the noise
    of frame ``t`` is drawn from ``default_rng([seed, t])``."""

    def __init__(self, truth: Dict[str, Any], args: argparse.Namespace,
                 meta: Dict[str, Any]) -> None:
        self.truth, self.args, self.meta = truth, args, meta
        self.frame_idx = 0
        self._dets: Dict[int, tuple] = {}

    def reset(self) -> None:
        self._dets.clear()

    def _detect(self, t: int) -> tuple:
        """(boxes (N, 4) xyxy, keypoints (N, K, 2), scores (N, K)) of frame t."""
        if t in self._dets:
            return self._dets[t]
        a = self.args
        rng = np.random.default_rng([int(getattr(a, 'seed', 0)), t])
        boxes, kpts, scores = [], [], []
        h, w = self.truth['height'], self.truth['width']
        for inst in self.truth['frames'][t]['instances']:
            k = np.asarray(inst['keypoints'], np.float64)
            if (k[:, 2] == 2).sum() < a.min_visible:
                continue                                     # hidden: not detected
            x, y, bw, bh = inst['bbox']
            side = np.array([bw, bh, bw, bh])
            boxes.append(np.array([x, y, x + bw, y + bh]) + rng.normal(0, a.box_jitter, 4) * side)
            shown = k[:, 2] == 2
            sigma = np.where(shown, 1.0, 4.0)[:, None] * a.kpt_noise * bh
            kpts.append(k[:, :2] + rng.normal(0, 1, (len(k), 2)) * sigma)
            scores.append(np.where(shown, rng.uniform(0.6, 0.95, len(k)),
                                   rng.uniform(0.05, 0.25, len(k))))
        if rng.random() < a.fp_rate:                             # a spurious detection
            c = rng.uniform(0.2, 0.8, 2) * (w, h)
            size = rng.uniform(0.2, 0.4) * h
            boxes.append(np.concatenate([c - size / 2, c + size / 2]))
            kpts.append(c + rng.normal(0, size / 4, (len(self.meta['keypoint_names']), 2)))
            scores.append(rng.uniform(0.1, 0.45, len(self.meta['keypoint_names'])))
        order = rng.permutation(len(boxes))
        k_ = len(self.meta['keypoint_names'])
        dets = (np.asarray(boxes, np.float32).reshape(-1, 4)[order],
                np.asarray(kpts, np.float32).reshape(-1, k_, 2)[order],
                np.asarray(scores, np.float32).reshape(-1, k_)[order])
        self._dets[t] = dets
        return dets

    def boxes(self, frame: np.ndarray, frame_idx: int, previous: Any) -> tuple:
        self.frame_idx = int(frame_idx)
        boxes, _, _ = self._detect(self.frame_idx)
        return boxes, np.ones(len(boxes), np.float32)

    def __call__(self, frame: np.ndarray, boxes: np.ndarray, box_scores: np.ndarray) -> dict:
        own, kpts, scores = self._detect(self.frame_idx)
        from customkpt.core.boxes import box_iou
        pick = box_iou(boxes, own).argmax(1) if len(own) else np.zeros(0, int)
        return dict(keypoints=kpts[pick], keypoint_scores=scores[pick], bboxes=boxes,
                    bbox_scores=box_scores)


class CachedPredictor:
    """A model's keypoints remembered by frame and boxes, so that every
    tracker configuration after the first costs no model time."""

    def __init__(self, predictor: Any) -> None:
        self.predictor, self.meta = predictor, predictor.meta
        self._memo: Dict[tuple, dict] = {}

    def __call__(self, frame: np.ndarray, boxes: np.ndarray, box_scores: np.ndarray) -> dict:
        import hashlib
        key = (hashlib.sha1(frame.tobytes()).hexdigest(), np.asarray(boxes).tobytes())
        if key not in self._memo:
            self._memo[key] = self.predictor(frame, boxes, box_scores)
        return self._memo[key]


def _data(args: argparse.Namespace, tmp: str) -> Path:
    if args.data:
        return Path(args.data)
    from customkpt.demo.multi_dataset import build_multi_dataset
    return build_multi_dataset(Path(tmp) / 'self5_multi', images_per_count=0,
                               video_frames=args.frames, video_figures=args.figures,
                               progress=False).out_dir


def _model_parts(args: argparse.Namespace, video: Path, truth: Dict[str, Any]):
    """(predictor, box provider, what gives the keypoints) of the arguments."""
    from customkpt.demo import SELF5_META
    if not (args.onnx or args.config):
        oracle = NoisyTruth(truth, args, dict(SELF5_META))
        return oracle, oracle.boxes, (f'noisy ground truth (boxes +-{args.box_jitter:.0%}, '
                                      f'keypoints +-{args.kpt_noise:.0%} of the height)')
    from customkpt.cli import video as video_cli
    cli = [str(video), '--kpt-thr', str(args.kpt_thr)]
    cli += ['--onnx', args.onnx] if args.onnx else ['--config', args.config]
    cli += ['--checkpoint', args.checkpoint] if args.checkpoint else []
    cli += ['--detect-every', str(args.detect_every)] if args.detect_every else []
    vargs = video_cli.parse_args(cli + ['--boxes', 'full' if args.boxes == 'gt-jitter'
                                        else args.boxes])
    predictor = CachedPredictor(video_cli.build_predictor(vargs))
    if args.boxes == 'gt-jitter':
        oracle = NoisyTruth(truth, args, dict(predictor.meta))
        return predictor, oracle.boxes, f'model {args.onnx or args.config} on jittered boxes'
    every = f' --detect-every {args.detect_every}' if args.detect_every else ''
    return predictor, video_cli.box_config(vargs), f'model on --boxes {args.boxes}{every}'


def _run(video: Path, truth: Dict[str, Any], args: argparse.Namespace,
         tracker: Optional[Dict[str, Any]], smooth: bool, parts: tuple,
         pose_nms: float) -> Dict[str, Any]:
    from customkpt.apis import VideoPoseEstimator, open_source, run_video
    from customkpt.evaluation.tracking_metrics import (result_frames, tracking_metrics,
                                                       truth_frames)
    predictor, boxes, _ = parts
    if hasattr(predictor, 'reset'):
        predictor.reset()
    smoother = dict(type='OneEuroFilter', min_cutoff=1.0, beta=0.01) if smooth else None
    est = VideoPoseEstimator(predictor, boxes, tracker=tracker, smoother=smoother,
                             score_thr=args.kpt_thr, pose_nms_thr=pose_nms or None)
    source = open_source(str(video))
    summary = run_video(source, est, progress=False, keep_results=True)
    n = len(truth['frames'])
    sigmas = est.meta.get('sigmas')
    metrics = tracking_metrics(truth_frames(truth), result_frames(summary.results, n,
                                                                  args.kpt_thr),
                               match=args.match, thr=args.match_thr, sigmas=sigmas)
    err = _keypoint_error(truth, summary.results)
    return dict(metrics.as_dict(), fps=summary.fps, kpt_error=err,
                tracking_ms=1000 * summary.timings['tracking'] / max(1, summary.frames))


def _keypoint_error(truth: Dict[str, Any], results: List[Dict[str, Any]]) -> float:
    """Mean distance (px) of the output (smoothed) keypoints to the truth of
    the nearest ground-truth instance (by box centre), visible points only."""
    errs = []
    for r in results:
        gt = truth['frames'][r['frame_idx']]['instances']
        if not gt:
            continue
        centres = np.array([[b[0] + b[2] / 2, b[1] + b[3] / 2] for b in
                            (i['bbox'] for i in gt)])
        for inst in r['instances']:
            b = np.asarray(inst['bbox'])
            g = gt[int(np.linalg.norm(centres - (b[:2] + b[2:]) / 2, axis=1).argmin())]
            k = np.asarray(g['keypoints'], np.float64)
            shown = k[:, 2] == 2
            d = np.linalg.norm(np.asarray(inst['keypoints'])[shown] - k[shown, :2], axis=1)
            errs += d.tolist()
    return float(np.mean(errs)) if errs else float('nan')


def _rows(video: Path, truth: Dict[str, Any], args: argparse.Namespace, parts: tuple,
          seeds: range) -> List[Dict[str, Any]]:
    """One row per tracker, pose-NMS threshold and smoothing: the seeds' mean."""
    from customkpt.apis.video import DEFAULT_POSE_NMS_THR
    rows = []
    for name, tracker in TRACKERS.items():
        if args.only and not any(word in name for word in args.only):
            continue
        for nms in args.pose_nms if args.pose_nms is not None else [DEFAULT_POSE_NMS_THR]:
            for smooth in (False, True):
                runs = []
                for seed in seeds:
                    args.seed = seed
                    runs.append(_run(video, truth, args, tracker, smooth, parts, nms))
                rows.append(dict({k: float(np.mean([r[k] for r in runs])) for k in NUMBERS},
                                 tracker=name, pose_nms=nms,
                                 smoothing='oneeuro' if smooth else 'none', runs=runs))
    return rows


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    import cv2
    cv2.setNumThreads(1)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        data = _data(args, tmp)
        video = data / 'video' / 'multi_video.mp4'
        truth = json.loads((data / 'video' / 'multi_video_gt.json').read_text())
        parts = _model_parts(args, video, truth)
        print(f'video: {video.name}, {len(truth["frames"])} frames, '
              f'{len(truth["track_ids"])} figures; detections: {parts[2]}; '
              f'metric: {args.match} >= {args.match_thr}')
        seeds = range(args.seeds if not (args.onnx or args.config) else 1)
        rows = _rows(video, truth, args, parts, seeds)
    print(f'\nmean of {len(seeds)} noise seed(s):\n')
    print('| tracker | pose nms | smoothing | id switches | kept-id share | MOTA | misses | '
          'false pos. | kpt error px | frames/s | tracking ms/frame |')
    print('|' + ' --- |' * 11)
    for r in rows:
        nms = f'{r["pose_nms"]:g}' if r['pose_nms'] else 'off'
        print(f'| {r["tracker"]} | {nms} | {r["smoothing"]} | {r["id_switches"]:.1f} | '
              f'{r["kept_id_share"]:.3f} | {r["mota"]:.3f} | {r["misses"]:.1f} | '
              f'{r["false_positives"]:.1f} | {r["kpt_error"]:.2f} | {r["fps"]:.0f} | '
              f'{r["tracking_ms"]:.2f} |')
    print(f'\ntotal {time.perf_counter() - t0:.1f} s')
    if args.json:
        Path(args.json).write_text(json.dumps(dict(args=vars(args), rows=rows), indent=1,
                                              default=str))
    return 0


if __name__ == '__main__':
    sys.exit(main())
