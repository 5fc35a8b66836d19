"""The COCOeval backends: faster-coco-eval gives pycocotools' numbers, 'auto'
falls back when it is absent, unknown names fail clearly."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from customkpt.evaluation import coco_backends
from customkpt.evaluation.coco_backends import BACKENDS, coco_backend, resolve_backend
from customkpt.core.presets import COCO_SIGMAS
from customkpt.evaluation.coco_eval import COCO_KEYPOINT_STATS, evaluate_keypoints, load_coco_gt

from .coco_generated import _prediction, generated_set


@pytest.mark.parametrize('use_area', [True, False])
def test_faster_gives_the_numbers_of_pycocotools(use_area: bool) -> None:
    pytest.importorskip('faster_coco_eval')
    gt, preds, sigmas = generated_set()
    assert any(a['iscrowd'] for a in gt['annotations'])
    assert any(a['num_keypoints'] == 0 for a in gt['annotations'])
    got = evaluate_keypoints(gt, preds, sigmas, 'faster', use_area)
    references = ['pycocotools'] + (['xtcocotools'] if use_area else [])
    for backend in references:
        reference = evaluate_keypoints(gt, preds, sigmas, backend, use_area)
        for name in COCO_KEYPOINT_STATS:
            assert got[name] == pytest.approx(reference[name], abs=1e-6), (backend, name)
    assert 0.1 < got['AP'] < 0.9
    assert got['AP (M)'] > 0 and got['AP (L)'] > 0  # both area ranges are populated
    # the sigmas reach the C++ evaluation
    wider = evaluate_keypoints(gt, preds, sigmas * 2, 'faster', use_area)
    assert wider['AP'] > got['AP'] + 0.02


def test_faster_on_the_real_coco_sample(coco_sample_file: Path) -> None:
    pytest.importorskip('faster_coco_eval')
    gt = load_coco_gt(str(coco_sample_file))
    rng = np.random.default_rng(3)
    preds = []
    for ann in gt['annotations']:
        kp = np.asarray(ann['keypoints'], np.float64).reshape(-1, 3)
        preds.append(_prediction(rng, dict(ann, area=max(ann['area'], 1.0)), kp[:, :2]))
    got = evaluate_keypoints(gt, preds, np.asarray(COCO_SIGMAS), 'faster', True)
    reference = evaluate_keypoints(gt, preds, np.asarray(COCO_SIGMAS), 'pycocotools', True)
    assert got == pytest.approx(reference, abs=1e-6)
    assert 0.05 < got['AP'] < 0.95


def test_faster_without_predictions_and_auto() -> None:
    pytest.importorskip('faster_coco_eval')
    gt, preds, sigmas = generated_set(seed=1, num_images=4)
    empty = evaluate_keypoints(gt, [], sigmas, 'faster', True)
    assert empty == evaluate_keypoints(gt, [], sigmas, 'pycocotools', True)
    assert resolve_backend('auto') == 'faster'
    assert evaluate_keypoints(gt, preds, sigmas, 'auto', True) == evaluate_keypoints(
        gt, preds, sigmas, 'faster', True)


def test_auto_falls_back_to_pycocotools_without_faster_coco_eval(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, 'faster_coco_eval', None)  # import fails
    assert resolve_backend('auto') == 'pycocotools'
    gt, preds, sigmas = generated_set(seed=2, num_images=4)
    assert evaluate_keypoints(gt, preds, sigmas, 'auto', True) == evaluate_keypoints(
        gt, preds, sigmas, 'pycocotools', True)
    with pytest.raises(ImportError, match=r"'faster' needs faster-coco-eval .*fast_eval"):
        coco_backend('faster')


def test_unknown_backend_is_a_clear_error() -> None:
    from customkpt.evaluation import CocoKeypointMetric
    with pytest.raises(ValueError, match=r"must be one of \('auto', 'faster', "
                                         r"'pycocotools', 'xtcocotools'\), got 'cocoapi'"):
        coco_backend('cocoapi')
    with pytest.raises(ValueError, match="got 'fast'"):
        CocoKeypointMetric(backend='fast')
    assert set(BACKENDS) == {'auto', 'faster', 'pycocotools', 'xtcocotools'}
    assert CocoKeypointMetric().backend == 'auto'  # the default


def test_the_backend_is_logged_once(monkeypatch: pytest.MonkeyPatch) -> None:
    messages: list[str] = []
    monkeypatch.setattr(coco_backends, '_LOGGED', set())
    monkeypatch.setattr(coco_backends, 'print_log', lambda msg, **kw: messages.append(msg))
    for _ in range(3):
        name = resolve_backend('auto')
    resolve_backend('pycocotools')
    assert messages == [f"COCO keypoint evaluation: backend {name!r} (asked for 'auto')",
                        "COCO keypoint evaluation: backend 'pycocotools' (asked for "
                        "'pycocotools')"]
