"""Per-crop latency of RTMPose against HRNet: torch eager and onnxruntime.

Each model is built from its ready config with random weights (seed 0) and
exported without flip test by :func:`customkpt.deploy.export_onnx`; both
runtimes time the same random (B, 3, h, w) input, and their outputs are
compared (largest absolute difference over all outputs). The table gives
the median of ``--repeats`` timed runs after ``--warmup`` untimed ones, in
ms per crop (batch time / batch), with the parameter count.

    python benchmarks/bench_rtmpose_latency.py                     # all, batch 1 and 8, 2 threads
    python benchmarks/bench_rtmpose_latency.py --models rtm-t hrnet-tiny --repeats 5
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from customkpt.apis import init_model
from customkpt.deploy.export import export_onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_onnx import median_ms, session  # noqa: E402

ROOT = Path(__file__).resolve().parents[1] / 'configs'
MODELS = {
    'rtm-t': ROOT / 'rtmpose_t_self5.py', 'rtm-s': ROOT / 'rtmpose_s_self5.py',
    'rtm-m': ROOT / 'rtmpose_m_self5.py', 'rtm-t-cpu': ROOT / 'rtmpose_t_self5_cpu.py',
    'hrnet-w32': ROOT / 'hrnet_self5.py', 'hrnet-tiny': ROOT / 'hrnet_self5_cpu.py',
}
DEFAULT = ['rtm-t', 'rtm-s', 'rtm-m', 'hrnet-w32', 'hrnet-tiny']


def _outputs(value) -> list[np.ndarray]:
    value = (value, ) if isinstance(value, torch.Tensor) else value
    return [v.cpu().numpy() for v in value]


def bench_model(name: str, args: argparse.Namespace, workdir: str) -> list[dict]:
    """Rows (one per batch size) of one model."""
    torch.manual_seed(0)
    model = init_model(str(MODELS[name]))
    params = sum(p.numel() for p in model.parameters()) / 1e6
    exported = export_onnx(model, Path(workdir) / f'{name}.onnx')
    w, h = exported['info']['input_size']
    sess = session(exported['onnx'], 'cpu', args.threads)
    rows = []
    for batch in args.batches:
        x = np.random.default_rng(batch).standard_normal((batch, 3, h, w)).astype(np.float32)
        xt = torch.from_numpy(x)

        def run_torch():
            with torch.inference_mode():
                return model(xt, mode='tensor')

        def run_ort():
            return sess.run(None, {'input': x})

        diff = max(float(np.abs(a - b).max())
                   for a, b in zip(run_ort(), _outputs(run_torch())))
        t_torch = median_ms(run_torch, args.repeats, args.warmup) / batch
        t_ort = median_ms(run_ort, args.repeats, args.warmup) / batch
        rows.append(dict(model=name, size=f'{w}x{h}', params=params, batch=batch,
                         torch=t_torch, ort=t_ort, diff=diff))
        print(f'  {name} batch {batch}: torch {t_torch:.1f}, onnxruntime {t_ort:.1f} ms/crop',
              file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--models', nargs='+', choices=sorted(MODELS), default=DEFAULT)
    p.add_argument('--batches', type=int, nargs='+', default=[1, 8])
    p.add_argument('--repeats', type=int, default=10, help='timed runs per case (median)')
    p.add_argument('--warmup', type=int, default=2, help='untimed runs first')
    p.add_argument('--threads', type=int, default=2, help='torch and onnxruntime threads')
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as workdir:
        rows = [row for name in args.models for row in bench_model(name, args, workdir)]
    print(f'{platform.processor() or platform.machine()}, torch {torch.__version__}, '
          f'onnxruntime {ort.__version__}, {args.threads} threads, median of {args.repeats} '
          f'runs after {args.warmup} warm-up; random weights, no flip test\n')
    print('| model | input (w x h) | params (M) | batch | torch ms/crop | '
          'onnxruntime ms/crop | torch / onnxruntime | max abs diff |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- |')
    for r in rows:
        print(f"| {r['model']} | {r['size']} | {r['params']:.2f} | {r['batch']} | "
              f"{r['torch']:.1f} | {r['ort']:.1f} | {r['torch'] / r['ort']:.2f} | "
              f"{r['diff']:.1e} |")
    return rows


if __name__ == '__main__':
    main()
