"""KeypointSmoothingHook: smoothing reaches the metrics, per video and track."""
import json
import uuid

import numpy as np
import pytest
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.structures import InstanceData

from customkpt.demo import SELF5_META, make_self5_dataset
from customkpt.registry import HOOKS
from customkpt.smoothing import KeypointSmoothingHook, SmoothingEvaluator

NOISE_PX = 3.0


@pytest.fixture(scope='module')
def video_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('self5_video')
    make_self5_dataset(root, num_train=0, num_val=0, video_frames=40, progress=False)
    return root


class NoisyTruthModel(BaseModel):
    """Predicts the ground truth plus seeded Gaussian noise (per annotation id)."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, *args, **kwargs):  # pragma: no cover - test_step / val_step are used
        raise NotImplementedError

    def test_step(self, data):
        self.calls += 1
        out = []
        for sample in data['data_samples']:
            gt = sample.gt_instances
            rng = np.random.default_rng(int(sample.metainfo['id']))
            pred = InstanceData()
            pred.keypoints = (gt.keypoints + rng.normal(0, NOISE_PX, gt.keypoints.shape)
                              ).astype(np.float32)
            pred.keypoint_scores = np.ones(gt.keypoints.shape[:2], np.float32)
            pred.bboxes = gt.bboxes
            sample.pred_instances = pred
            out.append(sample)
        return out

    val_step = test_step


def _run(root, work_dir, hooks, stage='test'):
    pipeline = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale', padding=1.25),
                dict(type='TopdownAffine', input_size=(24, 32)), dict(type='PackPoseInputs')]
    runner = Runner(
        model=NoisyTruthModel(), work_dir=str(work_dir), default_scope='customkpt',
        **{f'{stage}_dataloader': dict(
            batch_size=8, num_workers=0,
            # Shuffled on purpose: the hook must restore the frame order itself.
            sampler=dict(type='DefaultSampler', shuffle=True, seed=0),
            dataset=dict(type='CocoKeypointDataset', data_root=str(root),
                         ann_file='video_coco_joint.json', data_prefix=dict(img=''),
                         metainfo=dict(SELF5_META), test_mode=True, pipeline=pipeline)),
           f'{stage}_evaluator': [dict(type='PCKAccuracy', thr=0.05, norm_item='bbox',
                                       per_keypoint=False)],
           f'{stage}_cfg': dict()},
        custom_hooks=hooks, log_level='WARNING',
        experiment_name=f'smoothing_{uuid.uuid4().hex[:8]}')
    metrics = runner.test() if stage == 'test' else runner.val()
    return runner, metrics


def test_built_from_config():
    hook = HOOKS.build(dict(type='KeypointSmoothingHook',
                            filter=dict(type='OneEuroFilter', min_cutoff=0.05, beta=0.01),
                            score_thr=0.4))
    assert isinstance(hook, KeypointSmoothingHook)
    assert hook.filter_cfg['type'] == 'OneEuroFilter' and hook.score_thr == 0.4
    with pytest.raises(KeyError):
        HOOKS.build(dict(type='KeypointSmoothingHook', filter=dict(type='NoSuchFilter')))
    with pytest.raises(ValueError, match='stages'):
        KeypointSmoothingHook(stages=('train',))


@pytest.mark.parametrize('filter_cfg', [
    dict(type='SavitzkyGolayFilter', window=7, order=2),
    dict(type='OneEuroFilter', min_cutoff=0.15, beta=0.02),
], ids=['savgol', 'one_euro'])
def test_metrics_improve_when_noisy_predictions_are_smoothed(video_root, tmp_path, filter_cfg):
    _, raw = _run(video_root, tmp_path / 'raw', [])
    hook_cfg = dict(type='KeypointSmoothingHook', filter=filter_cfg, score_thr=0.3)
    runner, smooth = _run(video_root, tmp_path / 'smooth', [hook_cfg])
    # Raw noise: EPE of a 2-D Gaussian with 3 px per axis is ~3.76 px.
    assert raw['EPE'] == pytest.approx(NOISE_PX * np.sqrt(np.pi / 2), rel=0.15)
    assert smooth['EPE'] < 0.8 * raw['EPE'], (raw, smooth)
    assert smooth['PCK'] > raw['PCK'], (raw, smooth)
    hook = next(h for h in runner.hooks if isinstance(h, KeypointSmoothingHook))
    assert hook.last_summary == dict(samples=80, sequences=1, tracks=2, smoothed=True)
    # The loop has its own evaluator back.
    assert not isinstance(runner.test_loop.evaluator, SmoothingEvaluator)


def test_val_stage_only_when_asked(video_root, tmp_path):
    filter_cfg = dict(type='GaussianFilter', window=7, sigma=2.0)
    _, raw = _run(video_root, tmp_path / 'raw', [], stage='val')
    _, test_only = _run(video_root, tmp_path / 'test_only',
                        [dict(type='KeypointSmoothingHook', filter=filter_cfg)], stage='val')
    assert test_only['EPE'] == pytest.approx(raw['EPE'])  # default stages=('test',)
    runner, smooth = _run(video_root, tmp_path / 'val',
                          [dict(type='KeypointSmoothingHook', filter=filter_cfg,
                                stages=('test', 'val'))], stage='val')
    assert smooth['EPE'] < 0.6 * raw['EPE'], (raw, smooth)
    assert not isinstance(runner.val_loop.evaluator, SmoothingEvaluator)


def _sample(img_id, ann_id, path, kpts, **meta):
    return dict(img_id=img_id, id=ann_id, img_path=path,
                pred_instances=dict(keypoints=np.asarray(kpts, np.float32)[None],
                                    keypoint_scores=np.ones((1, len(kpts)), np.float32)),
                **meta)


def test_groups_by_video_orders_by_frame_and_separates_tracks():
    hook = KeypointSmoothingHook(filter=dict(type='EMAFilter', alpha=0.5))
    # Two videos, two tracks in video 1; given out of order.
    rows = [
        (3, 30, 'v/a.jpg', [[40, 0]], dict(video_id=1, frame_id=2, track_id=1)),
        (1, 10, 'v/c.jpg', [[0, 0]], dict(video_id=1, frame_id=0, track_id=1)),
        (2, 20, 'v/b.jpg', [[20, 0]], dict(video_id=1, frame_id=1, track_id=1)),
        (1, 11, 'v/c.jpg', [[500, 0]], dict(video_id=1, frame_id=0, track_id=2)),
        (2, 21, 'v/b.jpg', [[600, 0]], dict(video_id=1, frame_id=1, track_id=2)),
        (9, 90, 'w/x.jpg', [[1000, 0]], dict(video_id=2, frame_id=0, track_id=1)),
        (8, 80, 'w/y.jpg', [[2000, 0]], dict(video_id=2, frame_id=5, track_id=1)),
    ]
    samples = [_sample(i, a, p, k, **m) for i, a, p, k, m in rows]
    out = hook.smooth_samples(samples)
    got = [float(s['pred_instances']['keypoints'][0, 0, 0]) for s in out]
    # Track (1, 1): 0 -> 0, 20 -> 10, 40 -> 25. Track (1, 2): 500, 550. Video 2: 1000, 1500
    # (frame ids 0 and 5 are consecutive frames of that video).
    assert got == [25.0, 0.0, 10.0, 500.0, 550.0, 1000.0, 1500.0]
    assert hook.last_summary == dict(samples=7, sequences=2, tracks=3, smoothed=True)


def test_annotation_file_supplies_video_frame_and_track(tmp_path):
    ann = dict(images=[dict(id=1, file_name='f0.jpg', frame_id=0, video_id=3),
                       dict(id=2, file_name='f1.jpg', frame_id=1, video_id=3)],
               annotations=[dict(id=5, image_id=1, track_id=4), dict(id=6, image_id=2, track_id=4),
                            dict(id=7, image_id=2, track_id=8)])
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(ann))

    class FakeDataset:
        ann_file = str(path)

    hook = KeypointSmoothingHook(filter=dict(type='EMAFilter', alpha=0.5))
    hook._read_annotations(FakeDataset())
    samples = [_sample(2, 6, 'f1.jpg', [[10, 10]]), _sample(1, 5, 'f0.jpg', [[0, 0]]),
               _sample(2, 7, 'f1.jpg', [[90, 90]])]
    out = hook.smooth_samples(samples)
    got = [s['pred_instances']['keypoints'][0, 0].tolist() for s in out]
    assert got == [[5.0, 5.0], [0.0, 0.0], [90.0, 90.0]]  # track 8 starts fresh


def test_not_video_left_alone_unless_asked():
    # Folder of still images, no video or frame ids: the instance position is the track.
    rows = [(1, 1, 'imgs/0001.jpg', [[0, 0]]), (2, 2, 'imgs/0002.jpg', [[10, 0]])]
    hook = KeypointSmoothingHook(filter=dict(type='EMAFilter', alpha=0.5))
    out = hook.smooth_samples([_sample(*r) for r in rows])
    assert out[1]['pred_instances']['keypoints'][0, 0, 0] == 10.0
    assert hook.last_summary['smoothed'] is False
    hook = KeypointSmoothingHook(filter=dict(type='EMAFilter', alpha=0.5), require_video=False)
    out = hook.smooth_samples([_sample(*r) for r in reversed(rows)])
    assert out[0]['pred_instances']['keypoints'][0, 0, 0] == 5.0  # ordered by file name


def test_missing_predictions_named():
    hook = KeypointSmoothingHook()
    with pytest.raises(KeyError, match='img_id 4'):
        hook.smooth_samples([dict(img_id=4, id=1, img_path='a.jpg', pred_instances=dict())])
