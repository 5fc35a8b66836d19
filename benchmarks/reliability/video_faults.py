"""Video inference on broken inputs and killed runs: a rerunnable fault suite.

Each case runs ``python -m customkpt.cli video`` in a subprocess on a short
synthetic clip (the demo scene) with a tiny random model, on a damaged copy
of the clip or stopped mid-run, and checks what is left:

* good frames processed, bad ones counted: processed + skipped equals the
  frame count the container declares;
* an input that cannot be opened at all fails with exit status 2 and a
  message naming the file (no traceback, no outputs);
* the JSON, the JSON Lines, the CSV and the mp4 (read back with OpenCV) are
  valid and hold the same number of frames, also after SIGTERM, and after
  SIGKILL once ``customkpt video --finish`` has rebuilt them.

Cases: intact, truncated mp4 (first 60 % of the bytes), truncated AVI (MJPG,
cut at 60 %), corrupted mp4 and AVI (bytes flipped in the middle), zero-length
file, header-only mp4 (first 1 KB), SIGTERM and SIGKILL mid-run. Prints a
markdown table; exits 1 when a case fails its check.

    OMP_NUM_THREADS=1 python benchmarks/reliability/video_faults.py [--frames 60] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = REPO_ROOT / 'configs' / 'hrnet_self5_cpu.py'
SIZE = (160, 120)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--frames', type=int, default=60, help='frames of the test clip')
    p.add_argument('--keep', default=None, help='keep the inputs and outputs in this folder')
    return p.parse_args(argv)


# ------------------------------------------------------------------ inputs
def make_clip(path: Path, frames: int, fourcc: str) -> Path:
    import cv2

    from customkpt.demo import render_video_frame
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10.0, SIZE)
    for t in range(frames):
        writer.write(render_video_frame(t, 0, SIZE)[0])
    writer.release()
    return path


def make_model(path: Path) -> Path:
    import torch

    from customkpt.apis import init_model
    torch.manual_seed(0)
    model = init_model(str(CONFIG))
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=model.dataset_meta)),
               path)
    return path


def truncated(src: Path, dst: Path, fraction: float = 0.6) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[:int(len(data) * fraction)])
    return dst


def corrupted(src: Path, dst: Path, span: int = 4096) -> Path:
    data = bytearray(src.read_bytes())
    mid = len(data) // 2
    for i in range(mid, min(mid + span, len(data))):
        data[i] ^= 0xFF
    dst.write_bytes(bytes(data))
    return dst


def declared_frames(path: Path) -> int | None:
    import cv2
    cap = cv2.VideoCapture(str(path))
    try:
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
    finally:
        cap.release()
    return count if count > 0 else None


# ------------------------------------------------------------------ runs
def command(video: Path, ckpt: Path, out: Path) -> list[str]:
    return [sys.executable, '-m', 'customkpt.cli', 'video', str(video), '--config', str(CONFIG),
            '--checkpoint', str(ckpt), '--boxes', 'track', '--no-progress',
            '--video-segment', '8', '--out-dir', str(out)]


def run_to_end(video: Path, ckpt: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command(video, ckpt, out), capture_output=True, text=True,
                          timeout=300, cwd=str(REPO_ROOT), env=_env())


def run_and_stop(video: Path, ckpt: Path, out: Path, sig: signal.Signals,
                 after: int = 5) -> subprocess.CompletedProcess:
    """Start a run, send ``sig`` once its JSONL holds ``after`` frames; after
    SIGKILL, rebuild the outputs with ``--finish``."""
    proc = subprocess.Popen(command(video, ckpt, out), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(REPO_ROOT), env=_env())
    lines = out / f'{video.stem}_pose.jsonl'
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        if lines.exists() and len(lines.read_text().splitlines()) > after:
            proc.send_signal(sig)
            break
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=240)
    result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    if sig == signal.SIGKILL:
        fin = subprocess.run([sys.executable, '-m', 'customkpt.cli', 'video', '--finish',
                              str(out)], capture_output=True, text=True, timeout=240,
                             cwd=str(REPO_ROOT), env=_env())
        result.stdout += fin.stdout
        result.stderr += fin.stderr
        result.finish_rc = fin.returncode  # type: ignore[attr-defined]
    return result


def _env() -> dict[str, str]:
    return dict(os.environ, OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'))


# ------------------------------------------------------------------ checks
def output_counts(out: Path, stem: str) -> dict[str, int | None]:
    """Frames in each output (``None``: missing or unreadable)."""
    import cv2

    from customkpt.apis import read_pose_jsonl
    from customkpt.converters.dlc_tables import read_csv_table
    base = out / f'{stem}_pose'
    counts: dict[str, int | None] = {}
    for key, read in (('json', lambda p: json.loads(p.read_text())['num_frames']),
                      ('jsonl', lambda p: read_pose_jsonl(p)['num_frames']),
                      ('csv', lambda p: len(read_csv_table(p).rows))):
        path = base.with_suffix('.' + key)
        try:
            counts[key] = read(path) if path.exists() else None
        except Exception:  # noqa: BLE001 - an unreadable output is what is measured
            counts[key] = None
    cap = cv2.VideoCapture(str(base.with_suffix('.mp4')))
    frames = 0
    while cap.isOpened() and cap.read()[0]:
        frames += 1
    cap.release()
    counts['mp4'] = frames if base.with_suffix('.mp4').exists() else None
    return counts


def summary_numbers(stdout: str) -> tuple[int | None, int | None]:
    """``frames processed`` and ``skipped`` from the command's summary."""
    for line in stdout.splitlines():
        if line.startswith('frames processed:'):
            parts = line.replace(',', ' ').split()
            return int(parts[2]), int(parts[4])
    return None, None


def evaluate(name: str, declared: int | None, res: subprocess.CompletedProcess, out: Path,
             stem: str, expect: str) -> dict[str, Any]:
    """One table row; ``expect`` is 'all', 'partial', 'stopped', 'killed' or
    'error'."""
    processed, skipped = summary_numbers(res.stdout)
    counts = output_counts(out, stem)
    row: dict[str, Any] = dict(case=name, declared=declared, rc=res.returncode,
                               processed=processed, skipped=skipped, **counts)
    values = [counts[k] for k in ('json', 'jsonl', 'csv', 'mp4')]
    agree = len(set(values)) == 1 and values[0] is not None
    if expect == 'error':
        ok = res.returncode == 2 and 'error' in res.stderr and all(v is None for v in values)
        row['note'] = res.stderr.strip().splitlines()[-1][:90] if res.stderr.strip() else ''
    elif expect == 'killed':
        ok = agree and getattr(res, 'finish_rc', None) == 0 and values[0] > 0
        row['note'] = 'SIGKILL, then --finish'
    elif expect == 'stopped':
        ok = res.returncode == 143 and agree and values[0] == processed
        row['note'] = 'SIGTERM mid-run'
    else:
        counted = (processed is not None and skipped is not None
                   and processed + skipped == declared)
        ok = res.returncode == 0 and agree and values[0] == processed and counted and (
            expect != 'all' or skipped == 0)
        tail = [line.strip() for line in res.stdout.splitlines() if 'unreadable' in line]
        row['note'] = tail[0] if tail else ''
    row['ok'] = 'yes' if ok else 'NO'
    return row


def table(rows: list[dict[str, Any]]) -> str:
    cols = ['case', 'declared', 'rc', 'processed', 'skipped', 'json', 'jsonl', 'csv', 'mp4',
            'ok', 's', 'note']
    lines = ['| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
    for row in rows:
        lines.append('| ' + ' | '.join('-' if row.get(c) is None else str(row.get(c))
                                       for c in cols) + ' |')
    return '\n'.join(lines)


def cases(root: Path, frames: int) -> list[tuple[str, Path, str, Callable | None]]:
    """(name, input, expectation, stopper) for every case."""
    mp4 = make_clip(root / 'clip.mp4', frames, 'mp4v')
    avi = make_clip(root / 'clip_avi.avi', frames, 'MJPG')
    return [
        ('intact mp4', mp4, 'all', None),
        ('truncated mp4 (60 %)', truncated(mp4, root / 'trunc.mp4'), 'error', None),
        ('truncated avi (60 %)', truncated(avi, root / 'trunc_avi.avi'), 'partial', None),
        ('corrupted mp4 (4 KB flipped)', corrupted(mp4, root / 'corrupt.mp4'), 'partial', None),
        ('corrupted avi (4 KB flipped)', corrupted(avi, root / 'corrupt_avi.avi'), 'partial',
         None),
        ('zero-length', _write(root / 'empty.mp4', b''), 'error', None),
        ('header only (1 KB)', truncated(mp4, root / 'header.mp4', 1024 / mp4.stat().st_size),
         'error', None),
        ('SIGTERM mid-run', mp4, 'stopped', signal.SIGTERM),
        ('SIGKILL mid-run', mp4, 'killed', signal.SIGKILL),
    ]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(REPO_ROOT))
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix='video_faults_'))
    root.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        ckpt = make_model(root / 'tiny.pth')
        rows = []
        for i, (name, video, expect, sig) in enumerate(cases(root, args.frames)):
            out = root / f'out{i}'
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            res = (run_to_end(video, ckpt, out) if sig is None
                   else run_and_stop(video, ckpt, out, sig))
            rows.append(evaluate(name, declared_frames(video), res, out, video.stem, expect))
            rows[-1]['s'] = f'{time.perf_counter() - t0:.0f}'
            print(f'{name}: {rows[-1]["ok"]}', file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(table(rows))
    print(f'\n{len(rows)} cases, {time.perf_counter() - start:.0f} s')
    return 0 if all(r['ok'] == 'yes' for r in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
