"""Killed and resumed training ends where uninterrupted training ends: a rerunnable check.

A tiny self5 training (the demo data, ``configs/hrnet_self5_cpu.py`` with its
random training pipeline at 48x64, a few epochs, a checkpoint every epoch)
runs through ``python -m customkpt.cli train``:

1. twice uninterrupted: the two final checkpoints must hold equal weights
   (determinism);
2. ``--trials`` times killed with SIGKILL (the whole process group, data
   workers included) at a random moment (``--seed``) of its training phase
   (from half an epoch before the first checkpoint to the last), then
   checked: every ``epoch_*.pth`` left behind must load and
   ``last_checkpoint`` must name a loadable file; then resumed with
   ``--resume`` to the end. The final weights are compared with the
   uninterrupted run's (largest absolute difference).

A kill before the first checkpoint resumes from nothing (epoch 0: a fresh
run). Prints a markdown table; exits 1 when a run differs or a checkpoint is
broken.

    OMP_NUM_THREADS=1 python benchmarks/reliability/kill_resume.py [--trials 10] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = REPO_ROOT / 'configs' / 'hrnet_self5_cpu.py'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--trials', type=int, default=10, help='killed-and-resumed runs')
    p.add_argument('--seed', type=int, default=0, help='seed of the kill moments')
    p.add_argument('--epochs', type=int, default=4, help='epochs of each run')
    p.add_argument('--images', type=int, default=8,
                   help='training images (one sample per person in them, 4 per batch)')
    p.add_argument('--num-workers', type=int, default=2,
                   help='training dataloader workers (persistent when > 0)')
    p.add_argument('--keep', default=None, help='keep data, configs and work dirs here')
    return p.parse_args(argv)


def write_config(folder: Path, epochs: int, images: int, num_workers: int) -> Path:
    """The demo data and the tiny config that trains on it."""
    from customkpt.demo import make_self5_dataset
    data = make_self5_dataset(folder / 'self5', num_train=images, num_val=4,
                              with_video=False, progress=False)
    cfg = folder / 'tiny_self5.py'
    cfg.write_text(textwrap.dedent(f"""
        _base_ = [{str(CONFIG)!r}]
        data_root = {str(data) + '/'!r}
        train_size = (48, 64)
        max_epochs = {epochs}
        batch_size = 4
        val_interval = 1000          # evaluate after the last epoch only
        warmup_iters = 5
        train_dataloader = dict(num_workers={num_workers},
                                persistent_workers={num_workers > 0})
        val_dataloader = dict(num_workers=0, persistent_workers=False)
        default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=-1, save_best=None),
                             logger=dict(interval=1))
    """))
    return cfg


def train_command(cfg: Path, work_dir: Path, resume: bool = False) -> list[str]:
    cmd = [sys.executable, '-m', 'customkpt.cli', 'train', str(cfg), '--work-dir', str(work_dir)]
    return cmd + (['--resume'] if resume else [])


def environment() -> dict:
    return dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO_ROOT))


def run_to_end(cfg: Path, work_dir: Path, resume: bool = False) -> tuple[float, str]:
    """Train (or resume) to the last epoch; seconds taken and the output."""
    start = time.perf_counter()
    out = subprocess.run(train_command(cfg, work_dir, resume), capture_output=True, text=True,
                         env=environment(), timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f'training in {work_dir} failed:\n{out.stderr[-3000:]}')
    return time.perf_counter() - start, out.stdout + out.stderr


def run_and_kill(cfg: Path, work_dir: Path, after: float) -> bool:
    """Start a run and SIGKILL its process group ``after`` seconds later;
    whether it was still running then."""
    proc = subprocess.Popen(train_command(cfg, work_dir), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=environment(),
                            start_new_session=True)
    try:
        proc.wait(timeout=after)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def weights(path: Path) -> dict:
    from customkpt.checkpoint import safe_load
    return safe_load(path)['state_dict']


def max_difference(a: dict, b: dict) -> float:
    if a.keys() != b.keys():
        return float('inf')
    return max(float((a[k].double() - b[k].double()).abs().max()) if a[k].numel() else 0.0
               for k in a)


def checkpoints_intact(work_dir: Path) -> tuple[bool, int]:
    """Whether every checkpoint loads and the pointer names one; the epoch
    the pointer names (0 without a pointer)."""
    try:
        for path in work_dir.glob('epoch_*.pth'):
            weights(path)
        pointer = work_dir / 'last_checkpoint'
        if not pointer.exists():
            return True, 0
        named = Path(pointer.read_text().strip())
        weights(named)
        return True, int(re.search(r'epoch_(\d+)\.pth$', named.name).group(1))
    except Exception:                     # noqa: BLE001 - any failure to load counts
        return False, -1


def kill_window(work_dir: Path, start: float, epochs: int) -> tuple[float, float]:
    """Seconds after its start between which a run is killed: from half an
    epoch before the reference run wrote its first checkpoint to when it
    wrote its last (start-up and the final evaluation are left out)."""
    marks = [(work_dir / f'epoch_{k}.pth').stat().st_mtime - start for k in range(1, epochs + 1)]
    epoch = (marks[-1] - marks[0]) / max(epochs - 1, 1)
    return max(0.0, marks[0] - epoch / 2), marks[-1]


def trial(cfg: Path, work_dir: Path, kill_at: float, reference: dict, epochs: int) -> dict:
    """One killed-and-resumed run, as a table row."""
    killed = run_and_kill(cfg, work_dir, kill_at)
    intact, epoch = checkpoints_intact(work_dir)
    row = dict(kill_at=kill_at, killed=killed, intact=intact, epoch=epoch, diff=float('nan'))
    if intact:
        _, log = run_to_end(cfg, work_dir, resume=True)
        found = re.search(r'resumed epoch: (\d+)', log)
        row['epoch'] = int(found.group(1)) if found else 0
        row['diff'] = max_difference(weights(work_dir / f'epoch_{epochs}.pth'), reference)
    return row


def table(rows: list[dict]) -> str:
    lines = ['| trial | killed at (s) | resumed from epoch | checkpoints intact | '
             'max abs weight diff | equal |', '|---|---|---|---|---|---|']
    for i, r in enumerate(rows, 1):
        at = f'{r["kill_at"]:.1f}' + ('' if r['killed'] else ' (had finished)')
        lines.append(f'| {i} | {at} | {r["epoch"]} | {"yes" if r["intact"] else "NO"} | '
                     f'{r["diff"]:.3g} | {"yes" if r["diff"] == 0 else "NO"} |')
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix='kill_resume_'))
    root.mkdir(parents=True, exist_ok=True)
    try:
        cfg = write_config(root, args.epochs, args.images, args.num_workers)
        final = f'epoch_{args.epochs}.pth'
        start = time.time()
        seconds, _ = run_to_end(cfg, root / 'full_a')
        low, high = kill_window(root / 'full_a', start, args.epochs)
        run_to_end(cfg, root / 'full_b')
        reference = weights(root / 'full_a' / final)
        determinism = max_difference(weights(root / 'full_b' / final), reference)
        rng = random.Random(args.seed)
        rows = [trial(cfg, root / f'trial_{i}', rng.uniform(low, high), reference, args.epochs)
                for i in range(1, args.trials + 1)]
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f'{args.epochs} epochs on {args.images} images, num_workers={args.num_workers}; '
          f'an uninterrupted run takes {seconds:.1f} s; kills between {low:.1f} and '
          f'{high:.1f} s')
    print(f'two uninterrupted runs: max abs weight difference {determinism:.3g}\n')
    print(table(rows))
    good = sum(r['intact'] and r['diff'] == 0 for r in rows)
    print(f'\n{good}/{len(rows)} killed runs resumed to identical weights')
    return 0 if good == len(rows) and determinism == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
