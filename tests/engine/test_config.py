"""Reading configs (references, options, the convention check) and the run
adjustments made for the train and test commands."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from customkpt.engine.config import (ConfigConventionError, apply_launcher, check_conventions,
                                     iter_dataset_cfgs, iter_pipelines, load_config,
                                     load_run_config, merge_options, set_skip_invalid)
from customkpt.engine.references import resolve_references

ROOT = Path(__file__).resolve().parents[2]


def _cfg():
    coco = dict(type='CocoKeypointDataset', ann_file='a.json', pipeline=[])
    merged = dict(type='customkpt.MergedKeypointDataset', metainfo={},
                  datasets=[dict(type='CocoKeypointDataset', ann_file='b.json'),
                            dict(type='MpiiDataset', ann_file='c.json')])
    return Config(dict(train_dataloader=dict(dataset=merged), val_dataloader=dict(dataset=coco),
                       test_dataloader=dict(dataset=dict(coco))))


def test_skip_invalid_reaches_every_annotation_dataset_also_inside_a_merge():
    cfg = _cfg()
    assert set_skip_invalid(cfg) == 4
    leaves = [d for d in iter_dataset_cfgs(cfg._cfg_dict.to_dict()) if 'ann_file' in d]
    assert len(leaves) == 4 and all(d['skip_invalid'] for d in leaves)
    assert 'skip_invalid' not in cfg.train_dataloader.dataset  # the merge has no file


def test_launcher_without_gpu_uses_gloo():
    cfg = Config(dict(launcher='pytorch', env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    apply_launcher(cfg)
    want = 'nccl' if torch.cuda.is_available() else 'gloo'
    assert cfg.env_cfg.dist_cfg.backend == want
    plain = Config(dict(launcher='none', env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    apply_launcher(plain)
    assert plain.env_cfg.dist_cfg.backend == 'nccl'


# Reading configs: references, --cfg-options and the convention check.
SELF5 = str(ROOT / 'configs' / 'hrnet_self5.py')


def _affines(cfg):
    """(path, TopdownAffine step) of every pipeline of the three loaders."""
    return [(f'{path}[{i}]', step)
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
            for path, pipeline in iter_pipelines(cfg[loader], loader)
            for i, step in enumerate(pipeline) if step['type'] == 'TopdownAffine']


def test_load_config_resolves_after_the_options():
    cfg = load_config(SELF5, {'train_size': (96, 128), 'num_joints': 3,
                              'model.head.decoder.sigma': 3.0})
    assert cfg.model.head.decoder == dict(type='MSRAHeatmap', input_size=(96, 128),
                                          heatmap_size=(24, 32), sigma=3.0)
    assert cfg.model.head.out_channels == 3 == cfg.train_dataloader.dataset.metainfo.num_joints
    assert len(_affines(cfg)) == 3
    assert all(step.input_size == (96, 128) for _, step in _affines(cfg))
    assert cfg.train_pipeline[-2].encoder.sigma == 2.0   # only the decoder was set


def test_merge_options_then_resolve_a_loaded_config():
    raw = Config.fromfile(SELF5)
    assert raw.model.head.out_channels == '${num_joints}'
    cfg = resolve_references(merge_options(raw, {'arch': 'tiny', 'max_epochs': 12}))
    assert cfg.model.backbone.arch == 'tiny' and cfg.model.head.in_channels == 16
    assert cfg.train_cfg.max_epochs == 12 == cfg.param_scheduler[-1]['end']


def test_the_run_config_checks_the_crop_convention():
    with pytest.raises(ConfigConventionError,
                       match=r'model\.head\.decoder is UDPHeatmap \(UDP crop\) but '
                             r'train_dataloader\.dataset\.pipeline\[5\] TopdownAffine has '
                             r'use_udp=False'):
        load_run_config(SELF5, {'model.head.decoder.type': 'UDPHeatmap'})
    # Changing the codec itself changes the crops with it.
    cfg = load_run_config(SELF5, {'codec.type': 'UDPHeatmap'})
    assert all(step.use_udp for _, step in _affines(cfg))
    assert cfg.model.head.decoder.type == 'UDPHeatmap' == cfg.train_pipeline[-2].encoder.type


@pytest.mark.parametrize('change, match', [
    (lambda c: c.val_dataloader.dataset.pipeline[2].update(use_udp=True),
     r'model\.head\.decoder is MSRAHeatmap \(plain crop\) but '
     r'val_dataloader\.dataset\.pipeline\[2\] TopdownAffine has use_udp=True'),
    (lambda c: c.test_dataloader.dataset.pipeline[2].update(input_size=(96, 128)),
     r'model\.head\.decoder has input_size=\(192, 256\) but '
     r'test_dataloader\.dataset\.pipeline\[2\] TopdownAffine has input_size=\(96, 128\)'),
    (lambda c: c.train_dataloader.dataset.pipeline[6].encoder.update(type='UDPHeatmap'),
     r'model\.head\.decoder is MSRAHeatmap \(plain crop\) but train_dataloader\.dataset\.'
     r'pipeline\[6\] GenerateTarget encodes with UDPHeatmap \(UDP crop\)'),
    (lambda c: c.train_dataloader.dataset.pipeline[6].encoder.update(heatmap_size=(24, 32)),
     r'model\.head\.decoder has heatmap_size=\(48, 64\) but train_dataloader\.dataset\.'
     r'pipeline\[6\] GenerateTarget encoder has heatmap_size=\(24, 32\)'),
    (lambda c: c.model.head.update(out_channels=4),
     r'model\.head\.out_channels=4 but the train_dataloader dataset metainfo has num_joints=5'),
])
def test_convention_check_names_both_settings(change, match):
    cfg = load_config(SELF5)
    check_conventions(cfg)
    change(cfg)
    with pytest.raises(ConfigConventionError, match=match):
        check_conventions(cfg)


def test_convention_check_reads_defaults_and_skips_configs_without_a_codec():
    cfg = load_config(SELF5)
    del cfg.val_dataloader.dataset.pipeline[2]['input_size']    # TopdownAffine's default
    check_conventions(cfg)
    check_conventions(Config(dict(optim_wrapper=dict(optimizer=dict(type='Adam')))))


def test_a_dumped_run_config_loads_again_unchanged(tmp_path):
    cfg = load_run_config(SELF5, {'train_size': (96, 128), 'codec.type': 'UDPHeatmap'})
    cfg.dump(tmp_path / 'dumped.py')
    again = load_run_config(str(tmp_path / 'dumped.py'))
    assert again.to_dict() == cfg.to_dict()
    assert '${' not in (tmp_path / 'dumped.py').read_text()


def test_an_option_on_train_cfg_max_epochs_moves_the_whole_schedule():
    """The schedule base ties train_cfg.max_epochs and the LR policy's end to
    the max_epochs knob; the option on train_cfg sets the knob."""
    cfg = load_config(str(ROOT / 'configs' / 'hrnet_self5_cpu.py'),
                      {'train_cfg.max_epochs': 3})
    assert cfg.train_cfg.max_epochs == 3 == cfg.max_epochs == cfg.param_scheduler[-1]['end']
    step = load_config(SELF5, {'train_cfg.max_epochs': 21, 'lr_policy': 'step'})
    assert step.param_scheduler[-1]['end'] == 21 and step.param_scheduler[-1]['milestones'] == [
        17, 20]
    # Both given: the knob says what the schedule follows, train_cfg what is trained.
    both = load_config(SELF5, {'train_cfg.max_epochs': 5, 'max_epochs': 7})
    assert both.train_cfg.max_epochs == 5 and both.param_scheduler[-1]['end'] == 7


def test_a_scheduler_not_tied_to_max_epochs_is_warned_about(tmp_path, monkeypatch):
    from customkpt.engine import config as config_module
    logged = []
    monkeypatch.setattr(config_module, 'print_log', lambda msg, **kw: logged.append(msg))
    path = tmp_path / 'literal.py'
    path.write_text("train_cfg = dict(by_epoch=True, max_epochs=20)\n"
                    "param_scheduler = [dict(type='LinearLR', end=100, by_epoch=False),\n"
                    "                   dict(type='CosineAnnealingLR', end=20, by_epoch=True)]\n")
    cfg = load_config(str(path), {'train_cfg.max_epochs': 3})
    assert cfg.train_cfg.max_epochs == 3 and cfg.param_scheduler[1]['end'] == 20
    assert logged == ['train_cfg.max_epochs=3 but param_scheduler[1] (CosineAnnealingLR) still '
                      'ends at epoch 20: set its end too (--cfg-options '
                      'param_scheduler.1.end=3)']
    logged.clear()
    load_config(str(path), {'train_cfg.max_epochs': 20})
    assert logged == []


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"config file '.*nope.py' does not exist"):
        load_config(str(tmp_path / 'nope.py'))


def _recorded_warnings(monkeypatch):
    import customkpt.engine.config as config_module
    said = []
    monkeypatch.setattr(config_module, 'print_log', lambda msg, **kw: said.append(msg))
    return said


def test_a_knob_that_a_resolved_config_no_longer_refers_to_is_warned_about(tmp_path, monkeypatch):
    resolved = load_config(str(SELF5))
    resolved.dump(str(tmp_path / 'written.py'))        # as a run writes it into its work dir
    said = _recorded_warnings(monkeypatch)
    cfg = load_config(str(tmp_path / 'written.py'), {'val_bbox_file': '/abs/dets.json'})
    assert cfg.test_dataloader.dataset.bbox_file is None          # the option changed nothing
    assert len(said) == 1 and "refers to 'val_bbox_file'" in said[0] and 'written.py' in said[0]


def test_knobs_the_source_config_refers_to_and_runner_settings_are_not_warned_about(monkeypatch):
    said = _recorded_warnings(monkeypatch)
    cfg = load_config(str(SELF5), {'val_bbox_file': '/abs/dets.json', 'work_dir': '/tmp/w',
                                   'train_dataloader.batch_size': 4, 'custom_hooks': []})
    assert cfg.test_dataloader.dataset.bbox_file == '/abs/dets.json'
    assert said == []
