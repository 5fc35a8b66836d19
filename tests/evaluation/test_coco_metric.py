"""CocoKeypointMetric against the reference COCOeval implementations."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData

from customkpt.evaluation import COCO_KEYPOINT_STATS, CocoKeypointMetric
from customkpt.registry import METRICS
from customkpt.structures import PoseDataSample

COCO_SIGMAS = [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
               0.107, 0.107, 0.087, 0.087, 0.089, 0.089]


# ----------------------------------------------------------------- helpers
def reference_stats(ann: dict | Path, results_json: Path, sigmas: np.ndarray,
                    backend: str = 'xtcocotools', use_area: bool = True) -> dict[str, float]:
    """COCOeval run directly on an annotation file and a results json."""
    with contextlib.redirect_stdout(io.StringIO()):
        if backend == 'xtcocotools':
            from xtcocotools.coco import COCO
            from xtcocotools.cocoeval import COCOeval
            gt = COCO(str(ann))
            ev = COCOeval(gt, gt.loadRes(str(results_json)), 'keypoints',
                          np.asarray(sigmas), use_area=use_area)
        else:
            from pycocotools.coco import COCO
            from pycocotools.cocoeval import COCOeval
            gt = COCO(str(ann))
            ev = COCOeval(gt, gt.loadRes(str(results_json)), 'keypoints')
            ev.params.kpt_oks_sigmas = np.asarray(sigmas)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return dict(zip(COCO_KEYPOINT_STATS, (float(s) for s in ev.stats)))


def strip_prefix(metrics: dict[str, float], prefix: str = 'coco/') -> dict[str, float]:
    assert all(k.startswith(prefix) for k in metrics), metrics
    return {k[len(prefix):]: v for k, v in metrics.items()}


def ann_to_gt(ann: dict, num_kpts: int) -> dict[str, np.ndarray]:
    """gt_instances fields of one COCO annotation (as the dataset packs them)."""
    kp = np.asarray(ann['keypoints'], np.float32).reshape(num_kpts, 3)
    x, y, w, h = ann['bbox']
    return dict(keypoints=kp[None, :, :2].copy(),
                keypoints_visible=(kp[None, :, 2] > 0).astype(np.float32),
                bboxes=np.array([[x, y, x + w, y + h]], np.float32),
                bbox_scores=np.ones(1, np.float32),
                areas=np.array([ann['area']], np.float32))


def make_sample(img_id: int, ann_id: int, gt: dict | None, kpts: np.ndarray,
                scores: np.ndarray, bbox: np.ndarray, bbox_score: float,
                shape: tuple[int, int] = (480, 640)) -> dict[str, Any]:
    """A data sample dict as mmengine hands it to metrics."""
    sample: dict[str, Any] = dict(
        img_id=img_id, id=ann_id, category_id=1, ori_shape=shape,
        pred_instances=dict(keypoints=kpts[None].astype(np.float32),
                            keypoint_scores=scores[None].astype(np.float32),
                            bboxes=bbox[None].astype(np.float32),
                            bbox_scores=np.array([bbox_score], np.float32)))
    if gt is not None:
        sample['gt_instances'] = gt
    return sample


def empty_gt(num_kpts: int) -> dict[str, np.ndarray]:
    """gt_instances with no instance (a sample that only carries a prediction)."""
    return dict(keypoints=np.zeros((0, num_kpts, 2), np.float32),
                keypoints_visible=np.zeros((0, num_kpts), np.float32),
                bboxes=np.zeros((0, 4), np.float32), bbox_scores=np.zeros(0, np.float32),
                areas=np.zeros(0, np.float32))


def noisy_samples(data: dict, rng: np.random.Generator, drop: int = 2, extra: int = 3,
                  duplicate: bool = True, noise: float = 0.08) -> list[dict]:
    """Predictions = ground truth + noise (scaled by the instance size), a few
    instances without prediction, a few false positives, one near-duplicate
    (for NMS). Every annotation's ground truth is in exactly one sample."""
    num_kpts = len(data['categories'][0]['keypoints'])
    anns = [a for a in data['annotations'] if not a.get('iscrowd', 0)]
    dropped = set(rng.choice(len(anns), size=drop, replace=False).tolist()) if drop else set()
    samples = []
    for i, ann in enumerate(anns):
        gt = ann_to_gt(ann, num_kpts)
        x, y, w, h = ann['bbox']
        scale = noise * np.sqrt(max(ann['area'], 1.0))
        kpts = gt['keypoints'][0] + rng.normal(0, scale, (num_kpts, 2))
        unlabelled = gt['keypoints_visible'][0] == 0
        kpts[unlabelled] = np.stack([rng.uniform(x, x + w, unlabelled.sum()),
                                     rng.uniform(y, y + h, unlabelled.sum())], 1)
        scores = rng.uniform(0, 1, num_kpts)
        box = gt['bboxes'][0]
        sample = make_sample(ann['image_id'], ann['id'], gt, kpts, scores, box,
                             float(rng.uniform(0.5, 1.0)))
        if i in dropped:  # the ground truth without a prediction
            sample['pred_instances'] = dict(
                keypoints=np.zeros((0, num_kpts, 2), np.float32),
                keypoint_scores=np.zeros((0, num_kpts), np.float32))
        samples.append(sample)
        if duplicate and i == min(set(range(len(anns))) - dropped):
            # a slightly worse copy: OKS-NMS must remove it
            samples.append(make_sample(ann['image_id'], 10_000_000, empty_gt(num_kpts),
                                       kpts + 0.5, scores * 0.5, box, 0.3))
    images = data['images']
    for j in range(extra):  # false positives somewhere in an image
        img = images[j % len(images)]
        kpts = rng.uniform(0, [img.get('width', 640), img.get('height', 480)], (num_kpts, 2))
        lo, hi = kpts.min(0), kpts.max(0)
        samples.append(make_sample(img['id'], 20_000_000 + j, empty_gt(num_kpts), kpts,
                                   rng.uniform(0, 1, num_kpts), np.concatenate([lo, hi]),
                                   float(rng.uniform(0.2, 0.9))))
    return samples


def num_predictions(samples: list[dict]) -> int:
    return sum(len(s['pred_instances']['keypoints']) for s in samples)


def run_metric(metric: CocoKeypointMetric, samples: list[dict], meta: dict,
               batch: int = 4) -> dict[str, float]:
    metric.dataset_meta = meta
    for start in range(0, len(samples), batch):
        metric.process({}, samples[start:start + batch])
    return metric.evaluate(len(samples))


def custom_dataset(rng: np.random.Generator, num_images: int = 50,
                   num_kpts: int = 7) -> dict:
    """A generated COCO-keypoint set: several instances per image, some
    points unlabelled, one instance per ~25 with no labelled point."""
    images, anns = [], []
    for img_id in range(1, num_images + 1):
        images.append(dict(id=img_id, file_name=f'{img_id}.png', width=640, height=480))
        for _ in range(rng.integers(1, 5)):
            w, h = rng.uniform(20, 250, 2)
            x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
            pts = np.stack([rng.uniform(x, x + w, num_kpts), rng.uniform(y, y + h, num_kpts)], 1)
            v = np.where(rng.uniform(size=num_kpts) < 0.8, 2, 0)
            if rng.uniform() < 0.04:
                v[:] = 0
            pts[v == 0] = 0
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=1, iscrowd=0,
                             keypoints=np.concatenate([pts, v[:, None]], 1).reshape(-1).tolist(),
                             num_keypoints=int((v > 0).sum()), bbox=[x, y, w, h],
                             area=float(w * h * rng.uniform(0.4, 0.7))))
    names = [f'part{i}' for i in range(num_kpts)]
    return dict(images=images, annotations=anns,
                categories=[dict(id=1, name='critter', keypoints=names, skeleton=[])])


@pytest.fixture
def custom_set(tmp_path: Path) -> tuple[Path, dict, dict]:
    rng = np.random.default_rng(7)
    data = custom_dataset(rng)
    path = tmp_path / 'custom.json'
    path.write_text(json.dumps(data))
    names = data['categories'][0]['keypoints']
    meta = dict(dataset_name='critter', num_keypoints=len(names), keypoint_names=names,
                sigmas=rng.uniform(0.02, 0.11, len(names)).round(4).tolist())
    return path, data, meta


# ------------------------------------------------------------------- tests
@pytest.mark.parametrize('backend', ['pycocotools', 'xtcocotools'])
def test_matches_reference_on_real_coco_sample(coco_sample_file: Path, tmp_path: Path,
                                               backend: str) -> None:
    data = json.loads(coco_sample_file.read_text())
    names = data['categories'][0]['keypoints']
    meta = dict(keypoint_names=names, sigmas=COCO_SIGMAS, num_keypoints=len(names))
    samples = noisy_samples(data, np.random.default_rng(0))
    metric = CocoKeypointMetric(ann_file=str(coco_sample_file), backend=backend,
                                outfile_prefix=str(tmp_path / 'preds'))
    got = strip_prefix(run_metric(metric, samples, meta))

    written = tmp_path / 'preds.keypoints.json'
    preds = json.loads(written.read_text())
    # every prediction written but the near-duplicate that OKS-NMS removes
    assert len(preds) == num_predictions(samples) - 1
    assert set(preds[0]) == {'image_id', 'category_id', 'keypoints', 'score'}
    assert all(len(p['keypoints']) == 3 * len(names) and p['category_id'] == 1 for p in preds)
    # scores are box score x mean of the keypoint scores above 0.2
    by_score = sorted(p['score'] for p in preds)
    expected = []
    for s in samples:
        if s['id'] == 10_000_000 or not len(s['pred_instances']['keypoints']):
            continue
        k = s['pred_instances']['keypoint_scores'][0].astype(np.float64)
        expected.append(float(s['pred_instances']['bbox_scores'][0]) * k[k > 0.2].mean())
    assert by_score == pytest.approx(sorted(expected), abs=1e-6)

    reference = reference_stats(coco_sample_file, written, np.array(COCO_SIGMAS))
    for name in COCO_KEYPOINT_STATS:
        assert got[name] == pytest.approx(reference[name], abs=1e-6), name
    assert reference == pytest.approx(
        reference_stats(coco_sample_file, written, np.array(COCO_SIGMAS), 'pycocotools'),
        abs=1e-6)
    assert 0.05 < got['AP'] < 0.95  # a non-trivial case


def test_custom_k_ann_file_and_samples_agree(custom_set: tuple[Path, dict, dict],
                                             tmp_path: Path) -> None:
    path, data, meta = custom_set
    samples = noisy_samples(data, np.random.default_rng(1), drop=5, extra=8, noise=0.05)
    with_file = CocoKeypointMetric(ann_file=str(path), outfile=str(tmp_path / 'a.json'))
    from_samples = CocoKeypointMetric(outfile=str(tmp_path / 'b.json'))
    a = run_metric(with_file, samples, meta)
    b = run_metric(from_samples, samples, meta)
    assert set(a) == {f'coco/{n}' for n in COCO_KEYPOINT_STATS}
    assert a == b
    assert (tmp_path / 'a.json').read_text() == (tmp_path / 'b.json').read_text()
    reference = reference_stats(path, tmp_path / 'a.json', np.array(meta['sigmas']))
    assert strip_prefix(a) == pytest.approx(reference, abs=1e-6)
    assert 0.05 < a['coco/AP'] < 0.99


def test_use_area_false_matches_xtcocotools(custom_set: tuple[Path, dict, dict],
                                            tmp_path: Path) -> None:
    path, data, meta = custom_set
    samples = noisy_samples(data, np.random.default_rng(2), noise=0.05)
    out = tmp_path / 'p.json'
    got = run_metric(CocoKeypointMetric(ann_file=str(path), use_area=False, outfile=str(out)),
                     samples, meta)
    reference = reference_stats(path, out, np.array(meta['sigmas']), use_area=False)
    assert strip_prefix(got) == pytest.approx(reference, abs=1e-6)
    with_area = reference_stats(path, out, np.array(meta['sigmas']))
    assert with_area['AP'] != pytest.approx(reference['AP'], abs=1e-6)


def test_perfect_and_empty_predictions(custom_set: tuple[Path, dict, dict]) -> None:
    path, data, meta = custom_set
    num_kpts = len(meta['keypoint_names'])
    perfect, empty = [], []
    none = dict(keypoints=np.zeros((0, num_kpts, 2), np.float32),
                keypoint_scores=np.zeros((0, num_kpts), np.float32))
    for ann in data['annotations']:
        gt = ann_to_gt(ann, num_kpts)
        kpts = gt['keypoints'][0].copy()
        box = gt['bboxes'][0]
        kpts[gt['keypoints_visible'][0] == 0] = (box[:2] + box[2:]) / 2
        s = make_sample(ann['image_id'], ann['id'], gt, kpts, np.ones(num_kpts), box, 1.0)
        if ann['num_keypoints'] == 0:  # COCO ignores these: no prediction for them
            s['pred_instances'] = none
        perfect.append(s)
        empty.append(dict(s, pred_instances=none))
    assert any(a['num_keypoints'] == 0 for a in data['annotations'])
    for ann_file in (str(path), None):
        got = run_metric(CocoKeypointMetric(ann_file=ann_file), perfect, meta)
        assert got['coco/AP'] == pytest.approx(1.0) and got['coco/AR'] == pytest.approx(1.0)
        got = run_metric(CocoKeypointMetric(ann_file=ann_file), empty, meta)
        assert got['coco/AP'] == 0.0 and got['coco/AR'] == 0.0


def test_score_mode_bbox_and_nms_none(custom_set: tuple[Path, dict, dict],
                                      tmp_path: Path) -> None:
    path, data, meta = custom_set
    samples = noisy_samples(data, np.random.default_rng(3), drop=0, extra=0)
    out = tmp_path / 'p.json'
    run_metric(CocoKeypointMetric(score_mode='bbox', nms_mode='none', outfile=str(out)),
               samples, meta)
    preds = json.loads(out.read_text())
    assert len(preds) == len(samples)  # the duplicate survives without NMS
    assert sorted(p['score'] for p in preds) == pytest.approx(
        sorted(float(s['pred_instances']['bbox_scores'][0]) for s in samples))


def test_format_only_writes_and_returns_nothing(custom_set: tuple[Path, dict, dict],
                                                tmp_path: Path) -> None:
    path, data, meta = custom_set
    samples = noisy_samples(data, np.random.default_rng(4), drop=0, extra=0, duplicate=False)
    for s in samples:
        del s['gt_instances']  # format_only needs no ground truth
    metric = CocoKeypointMetric(format_only=True, outfile_prefix=str(tmp_path / 'sub' / 'r'))
    assert run_metric(metric, samples, meta) == {}
    preds = json.loads((tmp_path / 'sub' / 'r.keypoints.json').read_text())
    assert len(preds) == len(samples)
    assert preds == sorted(preds, key=lambda p: p['image_id'])
    with pytest.raises(ValueError, match='outfile'):
        CocoKeypointMetric(format_only=True)


def test_sigmas_must_match_k(custom_set: tuple[Path, dict, dict]) -> None:
    path, data, meta = custom_set
    samples = noisy_samples(data, np.random.default_rng(5))
    bad = dict(meta, sigmas=meta['sigmas'][:-1])
    with pytest.raises(ValueError, match='sigmas'):
        run_metric(CocoKeypointMetric(ann_file=str(path)), samples, bad)


def test_detection_boxes_need_ann_file(custom_set: tuple[Path, dict, dict]) -> None:
    path, data, meta = custom_set
    samples = noisy_samples(data, np.random.default_rng(6), drop=0, extra=0, duplicate=False)
    samples[0]['gt_instances'] = dict(samples[0]['gt_instances'],
                                      bbox_scores=np.array([0.7], np.float32))
    with pytest.raises(ValueError, match='ann_file'):
        run_metric(CocoKeypointMetric(), samples, meta)


def test_build_from_config_and_run_through_evaluator(custom_set: tuple[Path, dict, dict],
                                                     tmp_path: Path) -> None:
    path, data, meta = custom_set
    metric = METRICS.build(dict(type='CocoKeypointMetric', ann_file=str(path),
                                outfile_prefix=str(tmp_path / 'ev')))
    assert isinstance(metric, CocoKeypointMetric) and metric.prefix == 'coco'
    samples = noisy_samples(data, np.random.default_rng(8), noise=0.05)
    direct = run_metric(CocoKeypointMetric(ann_file=str(path)), samples, meta)

    evaluator = Evaluator([dict(type='customkpt.CocoKeypointMetric', ann_file=str(path))])
    evaluator.dataset_meta = meta
    for start in range(0, len(samples), 8):
        batch = []
        for s in samples[start:start + 8]:
            ds = PoseDataSample(metainfo=dict(img_id=s['img_id'], id=s['id'],
                                              category_id=1, ori_shape=s['ori_shape']))
            ds.pred_instances = InstanceData(**s['pred_instances'])
            if 'gt_instances' in s:
                ds.gt_instances = InstanceData(**s['gt_instances'])
            batch.append(ds)
        evaluator.process(batch)
    assert evaluator.evaluate(len(samples)) == direct


def test_repeated_ground_truth_counted_once(custom_set: tuple[Path, dict, dict]) -> None:
    """The same annotation (image id, annotation id) in two samples is one
    ground-truth instance when the ground truth comes from the samples."""
    path, data, meta = custom_set
    samples = noisy_samples(data, np.random.default_rng(9), duplicate=False, noise=0.05)
    repeated = [dict(s, pred_instances=dict(
        keypoints=np.zeros((0, len(meta['sigmas']), 2), np.float32),
        keypoint_scores=np.zeros((0, len(meta['sigmas'])), np.float32)))
        for s in samples[:20]]
    with_file = run_metric(CocoKeypointMetric(ann_file=str(path)), samples, meta)
    from_samples = run_metric(CocoKeypointMetric(), samples + repeated, meta)
    assert with_file == from_samples
