"""Seeded corruptions of valid COCO-keypoint files, and how customkpt meets them.

Each case starts from a valid file (the MMPose COCO sample, K=17 with real
JPEGs, when it is beside the checkout, and a generated K=5 file with small
PNGs), applies one to three corruptions drawn from a seeded generator
(missing or mistyped fields, NaN / inf, huge numbers, wrong lengths, bad
visibility, duplicate and dangling ids, unknown categories, truncated /
empty / non-UTF-8 / deeply nested files, missing or corrupt images, a wrong
image folder), and runs it through

* ``CocoKeypointDataset`` construction (with its up-front validation), and
* ``customkpt check --ann-file ... --img-root ...`` in-process
  (``main(argv)``, ``SystemExit`` caught), plus a few cases via subprocess.

Each run is classified: ``loaded``; ``rejected (clear)`` (a ``ValueError``
naming the file and a field or record); ``rejected (unclear)`` (handled, but
the message does not say where); ``raw traceback`` (any other exception, or
a traceback printed by the command); ``hang`` (over the time limit). A loaded
dataset is also audited: every annotation must be a sample, a counted skip or
a reported bad record (``silent drops`` counts the cases where some vanished).

    OMP_NUM_THREADS=1 python benchmarks/reliability/fuzz_annotations.py --cases 1200
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2])]

from corruptions import Case, make_case  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
COCO_SAMPLE = REPO_ROOT / '..' / 'shared' / 'data' / 'mmpose-samples' / 'coco'
OUTCOMES = ('loaded', 'rejected (clear)', 'rejected (unclear)', 'raw traceback', 'hang')
FIELD_WORDS = re.compile(r"field '|annotation \d|image \d|annotations\[|images\[|"
                         r'image folder|categor')


class Timeout(Exception):
    """The run took longer than the limit."""


def _alarm(_signum: int, _frame: Any) -> None:
    raise Timeout()


def _is_clear(message: str, ann_file: str) -> bool:
    return os.path.basename(ann_file) in message and bool(FIELD_WORDS.search(message))


def _from_customkpt(exc: BaseException) -> bool:
    """Whether the exception was raised by customkpt code (not a library)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and f'{os.sep}customkpt{os.sep}' in frames[-1].filename


def run_dataset(case: Case, timeout: float) -> tuple[str, str, bool]:
    """(outcome, detail, silent_drop) of building the dataset."""
    from customkpt.datasets import CocoKeypointDataset
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        ds = CocoKeypointDataset(ann_file=case.ann_file, data_prefix=dict(img=case.img_dir),
                                 pipeline=[], metainfo=case.metainfo, **case.kwargs)
    except Timeout:
        return 'hang', '', False
    except Exception as exc:  # noqa: BLE001 - classifying every failure is the point
        text = f'{type(exc).__name__}: {exc}'
        if isinstance(exc, ValueError) and _from_customkpt(exc):
            return ('rejected (clear)' if _is_clear(str(exc), case.ann_file)
                    else 'rejected (unclear)'), text[:300], False
        return 'raw traceback', text[:300], False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return 'loaded', '', _silent_drop(ds, case)


def _silent_drop(ds: Any, case: Case) -> bool:
    """True when annotations of the file are neither samples nor reported."""
    try:
        with open(case.ann_file, encoding='utf-8') as f:
            anns = json.load(f)['annotations']
    except Exception:  # noqa: BLE001
        return False
    report = ds.report
    skipped = sum(len(v) for v in getattr(report, 'skipped', {}).values())
    accounted = len(ds) + skipped + len(report.bad_records)
    return accounted < len(anns)


def run_check(case: Case, timeout: float) -> tuple[str, str]:
    """(outcome, detail) of ``customkpt check`` in-process."""
    from customkpt.cli import check
    out = io.StringIO()
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            status = check.main(['--ann-file', case.ann_file, '--img-root', case.img_dir])
    except Timeout:
        return 'hang', ''
    except SystemExit as exc:
        status = exc.code
    except Exception as exc:  # noqa: BLE001
        if isinstance(exc, ValueError) and _from_customkpt(exc):
            # A clear exception left for the command-line entry point to print.
            msg = str(exc)
            return ('rejected (clear)' if _is_clear(msg, case.ann_file)
                    else 'rejected (unclear)'), msg[:300]
        return 'raw traceback', f'{type(exc).__name__}: {exc}'[:300]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return _classify_output(out.getvalue(), status, case.ann_file)


def _classify_output(text: str, status: Any, ann_file: str) -> tuple[str, str]:
    if 'Traceback (most recent call last)' in text:
        return 'raw traceback', text[-300:]
    if status == 0:
        return 'loaded', ''
    return ('rejected (clear)' if _is_clear(text, ann_file) else 'rejected (unclear)'), \
        text[-300:]


def run_subprocess(case: Case, timeout: float) -> tuple[str, str]:
    """(outcome, detail) of ``python -m customkpt.cli check`` in a child process."""
    env = dict(os.environ, OMP_NUM_THREADS='1')
    try:
        res = subprocess.run([sys.executable, '-m', 'customkpt.cli', 'check', '--ann-file',
                              case.ann_file, '--img-root', case.img_dir], capture_output=True,
                             text=True, timeout=timeout, cwd=REPO_ROOT, env=env, check=False)
    except subprocess.TimeoutExpired:
        return 'hang', ''
    return _classify_output(res.stdout + res.stderr, res.returncode, case.ann_file)


def table(title: str, counts: Counter, total: int) -> str:
    """A markdown table of outcome counts."""
    lines = [f'| {title} | cases | share |', '|---|---:|---:|']
    for outcome in OUTCOMES:
        lines.append(f'| {outcome} | {counts[outcome]} | {100.0 * counts[outcome] / total:.1f}% |')
    return '\n'.join(lines)


def kind_table(by_kind: dict[str, Counter]) -> str:
    """A markdown table: ``customkpt check`` outcomes per corruption kind
    (a case with several corruptions counts under each)."""
    short = ('loaded', 'clear', 'unclear', 'traceback', 'hang')
    lines = ['| corruption (check) | ' + ' | '.join(short) + ' |',
             '|---|' + '---:|' * len(short)]
    for kind in sorted(by_kind):
        lines.append(f'| {kind} | ' + ' | '.join(str(by_kind[kind][o]) for o in OUTCOMES) + ' |')
    return '\n'.join(lines)


def quiet_logs() -> None:
    """Keep mmengine's dataset log lines off the console, and make the
    ``gc.collect()`` of every dataset load cheap (the imported libraries are
    frozen out of the collector's generations)."""
    import gc

    import customkpt.datasets  # noqa: F401  (torch, mmengine, the registries)
    import customkpt.registry  # noqa: F401
    from mmengine.logging import MMLogger
    gc.freeze()
    MMLogger.get_current_instance().setLevel(logging.ERROR)
    logging.getLogger('py.warnings').setLevel(logging.ERROR)
    import warnings
    warnings.simplefilter('ignore')


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--cases', type=int, default=1200, help='number of corrupted files')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--subprocess', type=int, default=8, help='cases also run via subprocess')
    p.add_argument('--timeout', type=float, default=20.0, help='seconds per in-process run')
    p.add_argument('--show', type=int, default=3, help='examples shown per bad outcome')
    return p.parse_args()


def main() -> int:
    args = parse_args()
    quiet_logs()
    rng = random.Random(args.seed)
    counts = {'dataset': Counter(), 'check': Counter(), 'subprocess': Counter()}
    kinds: Counter = Counter()
    by_kind: dict[str, Counter] = {}
    silent = 0
    examples: dict[str, list[str]] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix='kptfuzz_') as tmp:
        for i in range(args.cases):
            case = make_case(Path(tmp) / f'case{i}', rng, COCO_SAMPLE)
            kinds.update(case.kinds)
            outcome, detail, dropped = run_dataset(case, args.timeout)
            counts['dataset'][outcome] += 1
            silent += dropped
            check_outcome, check_detail = run_check(case, args.timeout)
            counts['check'][check_outcome] += 1
            for kind in case.kinds:
                by_kind.setdefault(kind, Counter())[check_outcome] += 1
            for where, out, det in (('dataset', outcome, detail),
                                    ('check', check_outcome, check_detail)):
                if out in ('raw traceback', 'hang', 'rejected (unclear)'):
                    examples.setdefault(f'{where}/{out}', []).append(
                        f'case {i} {case.kinds}: {det}')
            if i < args.subprocess:
                counts['subprocess'][run_subprocess(case, 120.0)[0]] += 1
    elapsed = time.perf_counter() - start
    print(f'{args.cases} cases (seed {args.seed}) in {elapsed:.0f} s; '
          f'{len(kinds)} corruption kinds\n')
    print(table('CocoKeypointDataset', counts['dataset'], args.cases) + '\n')
    print(table('customkpt check (in-process)', counts['check'], args.cases) + '\n')
    if args.subprocess:
        print(table('customkpt check (subprocess)', counts['subprocess'],
                    min(args.subprocess, args.cases)) + '\n')
    print(f'loaded datasets with silently dropped annotations: {silent}\n')
    print(kind_table(by_kind) + '\n')
    for key, lines in sorted(examples.items()):
        print(f'{key}: {len(lines)}')
        for line in lines[:args.show]:
            print(f'  {line}')
    bad = sum(counts[w]['raw traceback'] + counts[w]['hang'] for w in counts)
    return 1 if bad or silent else 0


if __name__ == '__main__':
    sys.exit(main())
