"""Tests of reading mmengine scalar logs and plotting curves."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from customkpt.visualization.curves import (CurveKeyError, load_scalars, plan_curves,
                                         plot_curve_sheets, plot_curves)


def write_run(work_dir: Path, stamp: str, epochs: range, iters_per_epoch: int = 4,
              interval: int = 2) -> Path:
    """A scalars.json like mmengine writes: training lines every ``interval``
    iterations and one validation line per epoch."""
    lines = []
    for epoch in epochs:
        for it in range(interval, iters_per_epoch + 1, interval):
            step = (epoch - 1) * iters_per_epoch + it
            lines.append({'lr': 0.001, 'data_time': 0.01, 'loss': 1.0 / step,
                          'loss_kpt': 1.0 / step, 'acc_pose': 0.1 * epoch, 'time': 0.2,
                          'epoch': epoch, 'iter': step, 'memory': 100, 'step': step})
        lines.append({'coco/AP': 0.1 * epoch, 'coco/AR': 0.12 * epoch, 'PCK': 0.2 * epoch,
                      'data_time': 0.01, 'time': 0.1, 'step': epoch})
    path = work_dir / stamp / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text('\n'.join(json.dumps(line) for line in lines) + '\n')
    return path


def test_plot_default_keys(tmp_path: Path) -> None:
    write_run(tmp_path, '20240101_000000', range(1, 4))
    out = plot_curves(tmp_path, tmp_path / 'c.png')
    assert out == tmp_path / 'c.png' and out.stat().st_size > 5000
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_default_output_in_work_dir(tmp_path: Path) -> None:
    write_run(tmp_path, '20240101_000000', range(1, 3))
    out = plot_curves(tmp_path, keys=['loss', 'lr', 'PCK'])
    assert out == tmp_path / 'curves.png' and out.is_file()


def test_missing_key_is_a_clear_error(tmp_path: Path) -> None:
    write_run(tmp_path, '20240101_000000', range(1, 3))
    with pytest.raises(CurveKeyError, match=r"\['coco/nope'\] not found.*coco/AP"):
        plot_curves(tmp_path, tmp_path / 'c.png', keys=['loss', 'coco/nope'])
    assert not (tmp_path / 'c.png').exists()


def test_no_logs(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        plot_curves(tmp_path)


def test_keys_split_train_and_val(tmp_path: Path) -> None:
    write_run(tmp_path, '20240101_000000', range(1, 3))
    data = load_scalars(tmp_path)
    assert 'loss' in data.train_keys() and 'lr' in data.train_keys()
    assert data.val_keys() == ['coco/AP', 'coco/AR', 'PCK']
    assert data.val_by_epoch


def test_resumed_run_is_chained(tmp_path: Path) -> None:
    # First run trained epochs 1-3 (and logged part of epoch 4 before dying),
    # the resumed run restarted at epoch 4 from the epoch-3 checkpoint.
    write_run(tmp_path, '20240101_000000', range(1, 5))
    write_run(tmp_path, '20240102_000000', range(4, 7))
    data = load_scalars(tmp_path)
    assert [line['step'] for line in data.val] == [1, 2, 3, 4, 5, 6]
    iters = [line['iter'] for line in data.train]
    assert iters == sorted(iters) and len(iters) == len(set(iters)) == 12
    assert len(load_scalars(tmp_path, runs='newest').val) == 3


def test_fresh_newest_run_ignores_older(tmp_path: Path) -> None:
    write_run(tmp_path, '20240101_000000', range(1, 5))
    write_run(tmp_path, '20240102_000000', range(1, 3))
    data = load_scalars(tmp_path)
    assert [line['step'] for line in data.val] == [1, 2]
    assert len(data.files) == 1 and '20240102' in str(data.files[0])


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = write_run(tmp_path, '20240101_000000', range(1, 2))
    path.write_text(path.read_text() + '{not json\n')
    with pytest.raises(ValueError, match=r'scalars.json:4'):
        load_scalars(tmp_path)


def write_lines(work_dir: Path, lines: list[dict]) -> None:
    path = work_dir / '20240101_000000' / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text('\n'.join(json.dumps(line) for line in lines) + '\n')


def metric_run(work_dir: Path, names: list[str]) -> None:
    """Training lines plus COCO and PCK metrics, AP (M) -1 throughout."""
    lines: list[dict] = []
    for epoch in (1, 2, 3):
        lines.append({'loss': 1.0 / epoch, 'lr': 0.01, 'epoch': epoch, 'iter': epoch * 4,
                      'step': epoch * 4})
        val = {'coco/AP': 0.2 * epoch, 'coco/AP (M)': -1, 'PCK': 0.3 * epoch,
               'EPE': 9.0 / epoch, 'step': epoch, 'time': 0.1}
        val.update({f'PCK/{n}': 0.1 * epoch for n in names})
        val.update({f'EPE/{n}': 4.0 / epoch for n in names})
        lines.append(val)
    write_lines(work_dir, lines)


def test_plan_marks_min_for_errors_and_skips_undefined(tmp_path: Path) -> None:
    metric_run(tmp_path, [])
    plan = plan_curves(load_scalars(tmp_path))
    assert plan.skipped == ['coco/AP (M)']
    best = {p.key: p.best for p in plan.panels}
    assert best == {'loss': None, 'coco/AP': 'max', 'PCK': 'max', 'EPE': 'min'}


def test_nan_throughout_is_skipped(tmp_path: Path) -> None:
    write_run(tmp_path, '20240101_000000', range(1, 3))
    path = tmp_path / '20240101_000000' / 'vis_data' / 'scalars.json'
    path.write_text(path.read_text().replace('"PCK": 0.2', '"PCK": NaN')
                    .replace('"PCK": 0.4', '"PCK": NaN'))
    plan = plan_curves(load_scalars(tmp_path))
    assert plan.skipped == ['PCK'] and 'PCK' not in [p.key for p in plan.panels]


def test_only_undefined_keys_is_an_error(tmp_path: Path) -> None:
    metric_run(tmp_path, [])
    with pytest.raises(CurveKeyError, match=r'coco/AP \(M\).*-1 or NaN'):
        plot_curves(tmp_path, tmp_path / 'c.png', keys=['coco/AP (M)'])
    assert not (tmp_path / 'c.png').exists()


def test_many_panels_write_one_file_per_sheet(tmp_path: Path) -> None:
    metric_run(tmp_path, [f'kp{i}' for i in range(5)])
    paths, plan = plot_curve_sheets(tmp_path, tmp_path / 'out' / 'c.png')
    assert [s.name for s in plan.sheets] == ['training', 'coco', 'metrics', 'per_keypoint']
    assert paths == [tmp_path / 'out' / name for name in
                     ('c.png', 'c_coco.png', 'c_metrics.png', 'c_per_keypoint.png')]
    for path in paths:
        assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and path.stat().st_size > 5000
    assert plot_curves(tmp_path, tmp_path / 'out' / 'c.png') == paths[0]
