"""configs/openfield_mouse_semi.py: the CPU-sized mouse config plus the
project's unlabelled video, every setting a knob."""
from pathlib import Path

from customkpt.engine.config import load_config, load_run_config

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'


def test_it_is_the_cpu_mouse_config_plus_the_video_stream():
    plain = load_config(CONFIGS / 'openfield_mouse_cpu.py').to_dict()
    semi = load_run_config(str(CONFIGS / 'openfield_mouse_semi.py')).to_dict()
    loader = semi['train_dataloader']
    assert loader['dataset']['dataset'] == plain['train_dataloader']['dataset']
    clips = loader['dataset']['clips']
    assert clips['videos'] == ['../shared/data/openfield-mouse/videos/*.mp4']
    assert (clips['clip_length'], clips['num_clips'], clips['boxes']) == (3, 200, None)
    assert clips['pipeline'] == plain['val_dataloader']['dataset']['pipeline']
    assert loader['dataset']['clips_per_sample'] == 0.5
    assert semi['model'].pop('semi_supervised')['losses'] == dict(   # pca, flip, augment: 0
        temporal=dict(type='TemporalDifferenceLoss', dead_zone=8.0, loss_weight=0.0002),
        shape=dict(type='HeatmapShapeLoss', loss_weight=0.1))
    assert semi['model'] == plain['model'] and semi['model']['backbone']['arch'] == 'tiny'
    assert semi['custom_hooks'][-1] == dict(type='SemiSupervisedHook', ramp_epochs=10)
    skip = {'train_dataloader', 'custom_hooks', 'model', 'semi_supervised', 'launcher',
            'work_dir'}
    knobs = {'unlabelled_videos', 'unlabelled_boxes', 'clip_length', 'num_clips',
             'clips_per_sample', 'temporal_weight', 'dead_zone', 'pca_weight', 'shape_weight',
             'flip_weight', 'augment_weight', 'ramp_epochs'}
    assert {k: v for k, v in semi.items() if k not in skip | knobs} == {
        k: v for k, v in plain.items() if k not in skip}


def test_its_knobs_reach_the_switch():
    options = {'unlabelled_boxes': 'track/{stem}_pose.json', 'temporal_weight': 0,
               'pca_weight': 0.01, 'clip_length': 5, 'flip_weight': 2.0,
               'augment_weight': 0.5}
    cfg = load_run_config(str(CONFIGS / 'openfield_mouse_semi.py'), options)
    clips = cfg.train_dataloader.dataset.clips
    assert (clips.boxes, clips.clip_length) == ('track/{stem}_pose.json', 5)
    losses = cfg.model.semi_supervised.losses
    assert sorted(losses) == ['augment', 'flip', 'pca', 'shape']    # temporal off
    assert losses.flip.loss_weight == 2.0
    assert losses.augment == dict(type='AugmentedPseudoLabelLoss', loss_weight=0.5)
