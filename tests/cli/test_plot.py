"""customkpt plot as a command."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_log(work_dir: Path) -> None:
    lines = [{'lr': 0.01, 'loss': 0.5 / i, 'epoch': (i + 1) // 2, 'iter': i, 'step': i}
             for i in range(1, 9)]
    for epoch in range(1, 5):
        lines.insert(epoch * 3 - 1, {'PCK': 0.2 * epoch, 'EPE': 5.0 / epoch, 'time': 0.1,
                                     'step': epoch})
    path = work_dir / '20240101_120000' / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text('\n'.join(json.dumps(line) for line in lines))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'customkpt.cli', 'plot', *args],
                          capture_output=True, text=True, timeout=60, cwd=str(REPO_ROOT))


def test_cli_writes_png(tmp_path: Path) -> None:
    write_log(tmp_path)
    out = tmp_path / 'plots' / 'curves.png'
    res = run(str(tmp_path), '--out', str(out), '--keys', 'loss', 'PCK', 'EPE')
    assert res.returncode == 0, res.stderr
    assert str(out) in res.stdout
    assert out.is_file() and out.stat().st_size > 5000


def test_cli_missing_key(tmp_path: Path) -> None:
    write_log(tmp_path)
    res = run(str(tmp_path), '--keys', 'coco/AP')
    assert res.returncode == 2
    assert "['coco/AP'] not found" in res.stderr and 'PCK' in res.stderr
    assert not (tmp_path / 'curves.png').exists()


def test_cli_skips_undefined_and_groups_sheets(tmp_path: Path) -> None:
    lines: list[dict] = [{'lr': 0.01, 'loss': 0.5 / i, 'epoch': i, 'iter': i, 'step': i}
                         for i in range(1, 4)]
    names = [f'kp{i}' for i in range(4)]
    for epoch in range(1, 4):
        val = {'coco/AP': 0.1 * epoch, 'coco/AP (M)': -1, 'PCK': 0.2 * epoch,
               'EPE': 5.0 / epoch, 'step': epoch}
        val.update({f'PCK/{n}': 0.2 * epoch for n in names})
        val.update({f'EPE/{n}': 5.0 / epoch for n in names})
        lines.append(val)
    path = tmp_path / '20240101_120000' / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text('\n'.join(json.dumps(line) for line in lines))
    res = run(str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert 'skipped coco/AP (M): -1 or NaN throughout' in res.stderr
    for name in ('curves.png', 'curves_coco.png', 'curves_metrics.png',
                 'curves_per_keypoint.png'):
        assert str(tmp_path / name) in res.stdout
        assert (tmp_path / name).stat().st_size > 5000
