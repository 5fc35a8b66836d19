"""Tests of deciding the curve panels: best markers, skipped keys, sheets."""
from __future__ import annotations

import math

from customkpt.visualization.panels import (SHEET_MAX, best_direction, group_of,
                                            is_undefined, plan_panels)


def test_lower_is_better_keys_mark_min() -> None:
    for key in ('EPE', 'val/loss', 'NME', 'mean_error', 'coco/err', 'EPE/nose'):
        assert best_direction(key, ['EPE']) == 'min', key
    for key in ('PCK', 'AUC', 'coco/AP', 'coco/AR (M)', 'PCK/nose'):
        assert best_direction(key, ['PCK']) == 'max', key


def test_per_keypoint_direction_follows_the_metric_not_the_name() -> None:
    # A keypoint called 'ferrule' does not make its PCK an error.
    assert best_direction('PCK/ferrule', ['PCK', 'PCK/ferrule']) == 'max'


def test_undefined_series() -> None:
    assert is_undefined([-1.0, -1.0, -1.0])
    assert is_undefined([math.nan, math.nan])
    assert is_undefined([])
    assert not is_undefined([-1.0, 0.2])
    assert not is_undefined([0.0])


def test_plan_marks_and_skips() -> None:
    keys = ['loss', 'coco/AP', 'coco/AP (M)', 'PCK', 'EPE']
    values = {'loss': [1.0, 0.5], 'coco/AP': [0.1, 0.2], 'coco/AP (M)': [-1.0, -1.0],
              'PCK': [0.3, 0.4], 'EPE': [5.0, 3.0]}
    plan = plan_panels(keys, ['loss'], values)
    assert plan.skipped == ['coco/AP (M)']
    assert [(p.key, p.source, p.best) for p in plan.panels] == [
        ('loss', 'train', None), ('coco/AP', 'val', 'max'), ('PCK', 'val', 'max'),
        ('EPE', 'val', 'min')]
    assert len(plan.sheets) == 1 and plan.sheets[0].name == ''


def coco_pck_keys(names: list[str]) -> list[str]:
    coco = ['AP', 'AP .5', 'AP .75', 'AP (M)', 'AP (L)', 'AR', 'AR .5', 'AR .75', 'AR (M)',
            'AR (L)']
    return (['loss', 'lr'] + [f'coco/{s}' for s in coco] + ['PCK', 'AUC', 'EPE']
            + [f'PCK/{n}' for n in names] + [f'EPE/{n}' for n in names])


def test_many_panels_are_grouped_into_sheets() -> None:
    names = [f'kp{i}' for i in range(8)]
    keys = coco_pck_keys(names)
    values = {k: [0.5, 0.6] for k in keys}
    values['coco/AP (L)'] = values['coco/AR (L)'] = [-1.0, -1.0]
    plan = plan_panels(keys, ['loss', 'lr'], values)
    assert plan.skipped == ['coco/AP (L)', 'coco/AR (L)']
    sheets = {s.name: [p.key for p in s.panels] for s in plan.sheets}
    assert list(sheets) == ['training', 'coco', 'metrics', 'per_keypoint', 'per_keypoint_2']
    assert sheets['training'] == ['loss', 'lr']
    assert 'coco/AP (L)' not in sheets['coco'] and len(sheets['coco']) == 8
    assert sheets['metrics'] == ['PCK', 'AUC', 'EPE']
    assert len(sheets['per_keypoint']) == SHEET_MAX
    assert all(s.title for s in plan.sheets)
    per_kpt = [p for p in plan.panels if p.group == 'per-keypoint']
    assert {p.best for p in per_kpt if p.key.startswith('EPE/')} == {'min'}
    assert {p.best for p in per_kpt if p.key.startswith('PCK/')} == {'max'}


def test_group_of() -> None:
    keys = ['PCK', 'PCK/nose', 'coco/AP']
    assert group_of('lr', 'train', keys) == 'training'
    assert group_of('PCK/nose', 'val', keys) == 'per-keypoint'
    assert group_of('coco/AP', 'val', keys) == 'coco'
    assert group_of('PCK', 'val', keys) == 'metrics'
