"""Train-step time per image of the top-down HRNet on this machine.

Builds the model of a config for each requested width, feeds random
(B, 3, h, w) crops with random target heatmaps, and times full optimiser
steps (forward, MSE loss, backward, Adam) after warm-up. Every variant runs in
this one process, one after the other, and the table reports the time per
image and the ratio to the first variant.

    python benchmarks/bench_train_step.py                       # W18 and W32, fp32, 256x192
    python benchmarks/bench_train_step.py --archs w32 --bf16    # fp32 and bf16 autocast side by side
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from customkpt.registry import MODELS

WIDTHS = dict(tiny=16, w18=18, w32=32, w48=48)


def build(arch: str, num_joints: int) -> torch.nn.Module:
    return MODELS.build(dict(
        type='TopdownEstimator', backbone=dict(type='HRNet', arch=arch),
        head=dict(type='HeatmapHead', in_channels=WIDTHS[arch], out_channels=num_joints,
                  loss=dict(type='KeypointMSELoss', use_target_weight=True))))


def time_steps(model: torch.nn.Module, batch: int, size: tuple[int, int], steps: int,
               warmup: int, bf16: bool) -> list[float]:
    """Seconds per optimiser step for ``steps`` timed steps."""
    w, h = size
    x = torch.randn(batch, 3, h, w)
    k = model.head.final_layer.out_channels
    target = torch.rand(batch, k, h // 4, w // 4)
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    model.train()
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            heatmaps = model(x, mode='tensor')
        loss = ((heatmaps.float() - target) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--archs', nargs='+', default=['w18', 'w32'], choices=sorted(WIDTHS))
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--size', type=int, nargs=2, default=(192, 256), metavar=('W', 'H'))
    p.add_argument('--num-joints', type=int, default=17)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--threads', type=int, default=None,
                   help='torch threads (default: torch decides, usually all cores)')
    p.add_argument('--bf16', action='store_true', help='also time bf16 autocast')
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f'# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, '
          f'torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, '
          f'input {args.size[0]}x{args.size[1]}, K={args.num_joints}')
    rows = []
    for arch in args.archs:
        for bf16 in ([False, True] if args.bf16 else [False]):
            model = build(arch, args.num_joints)
            times = time_steps(model, args.batch, tuple(args.size), args.steps, args.warmup, bf16)
            med = statistics.median(times)
            rows.append(dict(arch=arch, dtype='bf16' if bf16 else 'fp32', step_s=med,
                             ms_per_image=1000 * med / args.batch))
    base = rows[0]['ms_per_image']
    print('| model | dtype | s / step | ms / image | ratio to first |')
    print('| --- | --- | --- | --- | --- |')
    for r in rows:
        print(f"| HRNet-{r['arch'].upper()} | {r['dtype']} | {r['step_s']:.3f} | "
              f"{r['ms_per_image']:.0f} | {r['ms_per_image'] / base:.2f} |")
    return rows


if __name__ == '__main__':
    main()
