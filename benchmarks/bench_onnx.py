"""Heatmap forward time: torch eager vs onnxruntime, same weights, same process.

For each model (HRNet-W32 at 256x192 from configs/hrnet_self5.py and the
CPU-sized tiny HRNet at 128x96 from configs/hrnet_self5_cpu.py) this builds
the model with random weights (seed 0), exports the plain graph (no flip
test) with :func:`customkpt.deploy.export_onnx`, checks that both give the
same heatmaps, then times ``model(x, mode='tensor')`` and the onnxruntime
session on the same random (B, 3, h, w) input for each batch size. It
reports the median of ``--repeats`` timed runs after ``--warmup`` untimed
ones, in ms per batch and per image, and the ratio torch / onnxruntime
(above 1: onnxruntime is faster).

    python benchmarks/bench_onnx.py                          # both models, batch 1 and 8, CPU
    python benchmarks/bench_onnx.py --models tiny --repeats 20 --threads 2
    python benchmarks/bench_onnx.py --device cuda            # needs onnxruntime-gpu for the ORT side
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime as ort
import torch

from customkpt.apis import init_model
from customkpt.deploy.export import export_onnx

ROOT = Path(__file__).resolve().parents[1]
MODELS = dict(w32=ROOT / 'configs' / 'hrnet_self5.py', tiny=ROOT / 'configs' / 'hrnet_self5_cpu.py')


def median_ms(fn: Callable[[], object], repeats: int, warmup: int) -> float:
    """Median wall time of ``fn()`` in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def session(path: str, device: str, threads: int | None) -> ort.InferenceSession:
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    providers = ['CPUExecutionProvider']
    if device == 'cuda':
        if 'CUDAExecutionProvider' not in ort.get_available_providers():
            raise SystemExit('--device cuda: this onnxruntime has no CUDAExecutionProvider '
                             '(install onnxruntime-gpu)')
        providers.insert(0, 'CUDAExecutionProvider')
    return ort.InferenceSession(path, sess_options=options, providers=providers)


def bench_model(name: str, batches: list[int], args: argparse.Namespace, workdir: str
                ) -> list[dict]:
    torch.manual_seed(0)
    model = init_model(str(MODELS[name]), device=args.device)
    exported = export_onnx(model, Path(workdir) / f'{name}.onnx')
    w, h = exported['info']['input_size']
    sess = session(exported['onnx'], args.device, args.threads)
    rows = []
    for batch in batches:
        x = np.random.default_rng(batch).standard_normal((batch, 3, h, w)).astype(np.float32)
        xt = torch.from_numpy(x).to(args.device)

        def run_torch() -> None:
            with torch.inference_mode():
                model(xt, mode='tensor')
            if args.device == 'cuda':
                torch.cuda.synchronize()

        def run_ort() -> None:
            sess.run(None, {'input': x})

        with torch.inference_mode():
            ref = model(xt, mode='tensor').cpu().numpy()
        diff = float(np.abs(sess.run(None, {'input': x})[0] - ref).max())
        t_torch = median_ms(run_torch, args.repeats, args.warmup)
        t_ort = median_ms(run_ort, args.repeats, args.warmup)
        rows.append(dict(model=name, size=f'{w}x{h}', batch=batch, torch=t_torch, ort=t_ort,
                         diff=diff))
        print(f'  {name} batch {batch}: torch {t_torch:.1f} ms, onnxruntime {t_ort:.1f} ms',
              file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--models', nargs='+', choices=sorted(MODELS), default=['w32', 'tiny'])
    p.add_argument('--batches', type=int, nargs='+', default=[1, 8])
    p.add_argument('--repeats', type=int, default=10, help='timed runs per case (median)')
    p.add_argument('--warmup', type=int, default=2, help='untimed runs first')
    p.add_argument('--threads', type=int, help='torch and onnxruntime intra-op threads '
                   '(default: each library picks)')
    p.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    args = p.parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: torch sees no CUDA device')
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models:
            rows += bench_model(name, args.batches, args, workdir)
    print(f'device {args.device}, {platform.processor() or platform.machine()}, '
          f'torch {torch.__version__} ({torch.get_num_threads()} threads), onnxruntime '
          f'{ort.__version__}, threads {args.threads or "default"}, median of {args.repeats} '
          f'runs after {args.warmup} warm-up\n')
    print('| model | input (w x h) | batch | torch ms/batch | torch ms/image | '
          'onnxruntime ms/batch | onnxruntime ms/image | torch / onnxruntime | max abs diff |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for r in rows:
        print(f"| {r['model']} | {r['size']} | {r['batch']} | {r['torch']:.1f} | "
              f"{r['torch'] / r['batch']:.1f} | {r['ort']:.1f} | {r['ort'] / r['batch']:.1f} | "
              f"{r['torch'] / r['ort']:.2f} | {r['diff']:.1e} |")
    return rows


if __name__ == '__main__':
    main()
