"""The ready configs built from the _base_ files: their resolved values, knobs
that reach every dependent dict, and models that build."""
from pathlib import Path

import pytest
from mmengine.config import Config

from customkpt.engine.config import check_conventions, iter_pipelines, load_config
from customkpt.registry import MODELS

ROOT = Path(__file__).resolve().parents[2] / 'configs'
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
TRAIN = ['LoadImage', 'GetBBoxCenterScale', 'RandomFlip', 'RandomHalfBody',
         'RandomBBoxTransform', 'TopdownAffine', 'GenerateTarget', 'PackPoseInputs']
MOUSE_TRAIN = [t for t in TRAIN if t != 'RandomHalfBody']
VAL = ['LoadImage', 'GetBBoxCenterScale', 'TopdownAffine', 'PackPoseInputs']
OCCLUSION = ['RandomOccluder', 'KeypointInfoDrop']


def _occluded(steps):
    at = steps.index('TopdownAffine') + 1
    return steps[:at] + OCCLUSION + steps[at:]


def _expect(**changes):
    """The self5 recipe (HRNet-W32 256x192, Adam 5e-4, 210 epochs) with changes."""
    want = dict(size=(192, 256), heatmap=(48, 64), joints=5, arch='w32', width=32, sigma=2.0,
                codec='MSRAHeatmap', unbiased=None, lr=5e-4, epochs=210, val_interval=10,
                warmup=(500, 0.001), decay=('MultiStepLR', 'milestones', [170, 200]),
                batch=64, train=TRAIN, metrics=['CocoKeypointMetric', 'PCKAccuracy'],
                best='coco/AP', dataset='CocoKeypointDataset')
    want.update(changes)
    return want


SELF5_CPU = dict(size=(96, 128), heatmap=(24, 32), arch='tiny', width=16, lr=2e-3, epochs=20,
                 val_interval=5, warmup=(100, 0.01),
                 decay=('CosineAnnealingLR', 'eta_min', 2e-3 * 0.01), batch=32)
MOUSE = dict(joints=4, unbiased=True, lr=1e-3, epochs=30, val_interval=5, warmup=(30, 0.01),
             decay=('CosineAnnealingLR', 'eta_min', 1e-3 * 0.01), batch=8, train=MOUSE_TRAIN,
             metrics=['PCKAccuracy', 'CocoKeypointMetric'], best='AUC')
EXPECTED = {
    'hrnet_self5.py': _expect(),
    'hrnet_self5_cpu.py': _expect(**SELF5_CPU),
    'hrnet_self5_cpu_occlusion.py': _expect(**dict(SELF5_CPU, train=_occluded(TRAIN))),
    'hrnet_self5_finetune.py': _expect(lr=2e-4, epochs=60, val_interval=5, warmup=(200, 0.01),
                                       decay=('MultiStepLR', 'milestones', [40, 55])),
    'hrnet_w32_coco_256x192.py': _expect(joints=17),
    'coco_aic_merge.py': _expect(joints=17, dataset='MergedKeypointDataset'),
    'openfield_mouse.py': _expect(**MOUSE),
    'openfield_mouse_cpu.py': _expect(**dict(MOUSE, arch='tiny', width=16)),
    'openfield_mouse_occlusion.py': _expect(**dict(MOUSE, train=_occluded(MOUSE_TRAIN))),
    'my_dataset_example.py': _expect(joints=4, arch='w18', width=18, epochs=100,
                                     val_interval=10, decay=('MultiStepLR', 'milestones',
                                                             [80, 95])),
}


def _walk(value, path=''):
    """(path, value) of every leaf and container in a plain config dict."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f'{path}.{key}')
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk(item, f'{path}[{i}]')


def _steps(cfg, kind):
    return [step for loader in LOADERS for _, pipeline in iter_pipelines(cfg[loader], loader)
            for step in pipeline if step['type'] == kind]


def test_every_config_file_is_covered():
    # The RTMPose configs are covered by test_rtmpose_configs.py, the
    # semi-supervised one by test_openfield_mouse_semi_config.py, the one-stage
    # ones by test_onestage_configs.py.
    assert sorted(p.name for p in ROOT.glob('*.py')
                  if not p.name.startswith('rtmpose_')
                  and p.name not in ('openfield_mouse_semi.py', 'onestage_self5_cpu.py',
                                     'detector_self5_cpu.py')) == sorted(EXPECTED)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_resolved_values(name):
    want = EXPECTED[name]
    cfg = load_config(ROOT / name)
    assert not [p for p, v in _walk(cfg.to_dict()) if isinstance(v, str) and '${' in v]
    check_conventions(cfg)
    head = cfg.model.head
    codec = dict(type=want['codec'], input_size=want['size'], heatmap_size=want['heatmap'],
                 sigma=want['sigma'])
    if want['unbiased'] is not None:
        codec['unbiased'] = want['unbiased']
    assert head.decoder == codec and _steps(cfg, 'GenerateTarget')[0].encoder == codec
    assert (head.out_channels, head.in_channels) == (want['joints'], want['width'])
    assert cfg.model.backbone.arch == want['arch']
    affines = _steps(cfg, 'TopdownAffine')
    assert len(affines) == 3
    assert all(a.input_size == want['size'] and a.use_udp is False for a in affines)
    assert [t.type for t in cfg.train_dataloader.dataset.pipeline] == want['train']
    for loader in ('val_dataloader', 'test_dataloader'):
        assert [t.type for t in cfg[loader].dataset.pipeline] == VAL
        assert cfg[loader].batch_size == 32 and cfg[loader].dataset.test_mode
    assert cfg.train_dataloader.batch_size == want['batch']
    assert cfg.train_dataloader.dataset.type == want['dataset']
    assert [m.type for m in cfg.val_evaluator] == want['metrics']
    assert cfg.test_evaluator == cfg.val_evaluator
    assert cfg.default_hooks.checkpoint.save_best == want['best']
    # schedule
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=want['lr'])
    assert cfg.train_cfg == dict(by_epoch=True, max_epochs=want['epochs'],
                                 val_interval=want['val_interval'])
    warmup, decay = cfg.param_scheduler
    assert warmup == dict(type='LinearLR', begin=0, end=want['warmup'][0],
                          start_factor=want['warmup'][1], by_epoch=False)
    kind, key, value = want['decay']
    assert (decay.type, decay.begin, decay.end, decay[key]) == (kind, 0, want['epochs'], value)
    assert cfg.auto_scale_lr == dict(base_batch_size=512)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_model_builds(name):
    cfg = load_config(ROOT / name, {'arch': 'tiny'})   # same wiring, quicker to build
    model = MODELS.build(cfg.model)
    assert model.head.final_layer.out_channels == EXPECTED[name]['joints']


def test_data_paths_of_the_ready_configs():
    self5 = load_config(ROOT / 'hrnet_self5.py')
    assert self5.train_dataloader.dataset.data_root == 'data/self5/'
    assert self5.train_dataloader.dataset.ann_file == 'train_coco_joint.json'
    assert self5.val_dataloader.dataset.data_prefix == dict(img='images/')
    assert self5.val_evaluator[0].ann_file == 'data/self5/val_coco_joint.json'
    assert self5.train_dataloader.dataset.metainfo == dict(
        num_joints=5, dataset_name='self5',
        keypoint_names=['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot'],
        flip_pairs=[[1, 2], [3, 4]], skeleton=[[0, 1], [0, 2], [0, 3], [0, 4]],
        sigmas=[0.026, 0.062, 0.062, 0.089, 0.089])
    coco = load_config(ROOT / 'hrnet_w32_coco_256x192.py')
    assert coco.train_dataloader.dataset.data_prefix == dict(img='train2017/')
    assert coco.val_dataloader.dataset.bbox_file == (
        'data/coco/person_detection_results/COCO_val2017_detections_AP_H_56_person.json')
    assert coco.val_dataloader.dataset.metainfo == dict(
        num_joints=17, preset='coco')
    mouse = load_config(ROOT / 'openfield_mouse.py')
    assert mouse.train_dataloader.dataset.pipeline[0] == dict(type='LoadImage', cache='memory')
    assert mouse.val_evaluator[1].ann_file == 'data/openfield_mouse/val.json'
    assert mouse.val_dataloader.dataset.data_prefix == dict(img='../shared/data/openfield-mouse/')
    finetune = load_config(ROOT / 'hrnet_self5_finetune.py')
    assert finetune.model.backbone == dict(type='HRNet', arch='w32', frozen_stages=1,
                                           norm_eval=False)
    assert finetune.optim_wrapper.paramwise_cfg == dict(
        custom_keys={'backbone': dict(lr_mult=0.1)})
    merge = load_config(ROOT / 'coco_aic_merge.py')
    assert merge.val_dataloader.dataset.bbox_file is None
    assert merge.val_dataloader.dataset.ann_file == 'test_coco.json'
    sources = merge.train_dataloader.dataset.datasets
    assert [s.ann_file for s in sources] == ['test_coco.json', 'test_aic.json']
    assert sources[1].data_root.endswith('mmpose-samples/aic/')


KNOBS = dict(train_size=(64, 96), num_joints=3, sigma=3.0, max_epochs=40, arch='w18', lr=1e-3,
             batch_size=4)


def _assert_knobs_reached_everything(cfg):
    codec = dict(type='MSRAHeatmap', input_size=(64, 96), heatmap_size=(16, 24), sigma=3.0)
    assert cfg.model.head.decoder == codec
    assert all(step.encoder == codec for step in _steps(cfg, 'GenerateTarget'))
    assert all(step.input_size == (64, 96) for step in _steps(cfg, 'TopdownAffine'))
    assert (cfg.model.head.out_channels, cfg.model.head.in_channels) == (3, 18)
    assert all(cfg[loader].dataset.metainfo.num_joints == 3 for loader in LOADERS)
    assert cfg.train_cfg.max_epochs == 40 == cfg.param_scheduler[-1]['end']
    assert cfg.param_scheduler[-1]['milestones'] == [32, 38]
    assert cfg.optim_wrapper.optimizer.lr == 1e-3 and cfg.train_dataloader.batch_size == 4
    check_conventions(cfg)


def test_knobs_at_the_top_of_a_child_reach_every_dependent_dict(tmp_path):
    child = tmp_path / 'child.py'
    lines = [f"_base_ = [{str(ROOT / 'hrnet_self5.py')!r}]"]
    lines += [f'{key} = {value!r}' for key, value in KNOBS.items()]
    child.write_text('\n'.join(lines) + '\n')
    _assert_knobs_reached_everything(load_config(child))


def test_knobs_given_as_options_reach_every_dependent_dict():
    _assert_knobs_reached_everything(load_config(ROOT / 'hrnet_self5.py', KNOBS))


def test_a_child_changing_the_codec_type_changes_the_crops(tmp_path):
    child = tmp_path / 'udp.py'
    child.write_text(f"_base_ = [{str(ROOT / 'hrnet_self5_cpu.py')!r}]\n"
                     "codec = dict(type='UDPHeatmap')\n"
                     "lr_policy = 'step'\n")
    cfg = load_config(child)
    assert cfg.model.head.decoder.type == 'UDPHeatmap'
    assert all(step.use_udp for step in _steps(cfg, 'TopdownAffine'))
    assert cfg.param_scheduler[-1]['milestones'] == [16, 19]      # 17/21 and 20/21 of 20
    check_conventions(cfg)


def test_a_bad_reference_in_a_child_names_the_key(tmp_path):
    child = tmp_path / 'typo.py'
    child.write_text(f"_base_ = [{str(ROOT / 'hrnet_self5.py')!r}]\n"
                     "model = dict(head=dict(out_channels='${num_joint}'))\n")
    with pytest.raises(ValueError, match=r"model\.head\.out_channels = '\$\{num_joint\}'"):
        load_config(child)


def test_a_config_without_num_joints_says_so(tmp_path):
    child = tmp_path / 'bare.py'
    child.write_text(f"_base_ = [{str(ROOT / '_base_' / 'models' / 'hrnet_topdown.py')!r}]\n")
    with pytest.raises(ValueError, match=r"model\.head\.out_channels = '\$\{num_joints\}': "
                                         r"'num_joints' is not a top-level key"):
        load_config(child)


def test_the_raw_files_hold_references_not_copies():
    raw = Config.fromfile(str(ROOT / 'hrnet_self5_cpu.py'))
    assert raw.model.head.decoder == '${codec}' and raw.train_cfg.max_epochs == '${max_epochs}'
