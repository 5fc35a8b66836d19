"""``train --data``: the config written for each model, on a tiny COCO file
and a tiny DeepLabCut project."""
from __future__ import annotations

import pytest

from customkpt.apis.quickstart import RECIPES, prepare_run, recipes
from customkpt.engine.config import check_conventions, load_config
from customkpt.engine.model_fit import build_bare_model
from customkpt.registry import DATASETS

from . import quickstart_kit as kit

pytestmark = pytest.mark.filterwarnings("ignore::customkpt.meta.errors.KeypointMetaWarning")


@pytest.fixture(scope='module')
def datasets(tmp_path_factory):
    root = tmp_path_factory.mktemp('quickstart')
    return dict(coco=kit.coco(root / 'coco', 12), dlc=kit.dlc_project(root / 'dlc', 12))


def _hook(cfg, kind):
    return [h for h in cfg.custom_hooks if h['type'] == kind]


def _check_schedule(cfg, plan):
    s = plan.schedule
    assert cfg.train_size == s.input_size == (min(cfg.train_size), max(cfg.train_size))
    assert cfg.train_dataloader.batch_size == s.batch_size
    assert cfg.train_cfg.max_epochs == s.epochs and cfg.train_cfg.val_interval == s.val_interval
    assert cfg.param_scheduler[0].end == s.warmup_iters
    assert cfg.optim_wrapper.optimizer.lr == s.lr
    assert cfg.default_hooks.checkpoint.save_best == 'AUC'
    assert cfg.default_hooks.checkpoint.interval == s.val_interval


@pytest.mark.parametrize('model', sorted(RECIPES))
@pytest.mark.parametrize('kind', ['coco', 'dlc'])
def test_each_model_gets_a_config_that_loads_builds_and_reads_the_data(datasets, model, kind,
                                                                       tmp_path):
    plan = prepare_run(datasets[kind], model=model, work_dir=tmp_path / 'w',
                       memory=kit.no_memory_limit)
    assert plan.config == (tmp_path / 'w' / 'config.py').resolve()
    text = plan.config.read_text()
    assert 'self5' not in text and '_base_' not in text  # the recipe's data is all replaced
    cfg = load_config(str(plan.config))
    check_conventions(cfg)
    assert cfg.work_dir == str(plan.work_dir)
    _check_schedule(cfg, plan)
    assert cfg.model.head.out_channels == 4
    if model.startswith('rtmpose'):
        switch, = _hook(cfg, 'PipelineSwitchHook')
        assert switch.switch_epoch == cfg.max_epochs - cfg.stage2_num_epochs < cfg.max_epochs
        assert _hook(cfg, 'EMAHook')
    steps = [s for s in cfg.param_scheduler if s['type'] == 'MultiStepLR']
    if model == 'hrnet-w32':     # its recipe steps: once, at 4/5 of the run
        assert [s['milestones'] for s in steps] == [[cfg.max_epochs * 4 // 5]]
        assert "milestones = '${[max_epochs * 4 // 5]}'" in text
    else:                        # cosine recipes get no milestones
        assert not steps and 'max_epochs * 4 // 5' not in text
    ds_cfg = cfg.train_dataloader.dataset.copy()
    ds_cfg.pipeline = []
    dataset = DATASETS.build(ds_cfg)
    assert len(dataset) == plan.facts.num_instances
    assert dataset.metainfo['keypoint_names'] == kit.NAMES
    assert dataset.metainfo['flip_pairs'] == [[1, 2]]
    assert dataset.metainfo['skeleton'] == [[0, 3]]
    if kind == 'coco':
        assert build_bare_model(cfg).head.out_channels == 4


def test_the_config_inherits_the_recipe_so_a_retuned_recipe_reaches_it(datasets, tmp_path,
                                                                       monkeypatch):
    retuned = tmp_path / 'retuned.py'
    retuned.write_text(f"_base_ = [{str(RECIPES['rtmpose-t'].path)!r}]\n"
                       "lr = 0.5\nweight_decay = 0.01\nmax_epochs = 100\n"
                       "stage2_num_epochs = 50\n")
    monkeypatch.setitem(RECIPES, 'rtmpose-t', recipes.Recipe(str(retuned), 40 * 1024 ** 2, 'x',
                                                             scratch_iterations=6000))
    plan = prepare_run(datasets['coco'], model='rtmpose-t', work_dir=tmp_path / 'w', epochs=20,
                       memory=kit.no_memory_limit)
    cfg = load_config(str(plan.config))
    batch = cfg.train_dataloader.batch_size
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(0.5 * (batch / 64) ** 0.5, rel=1e-2)
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.01   # not set by us: inherited
    assert cfg.stage2_num_epochs == 10                        # the recipe's half of the run
    iters = cfg.train_cfg.max_epochs * plan.schedule.iters_per_epoch
    assert plan.schedule.iterations == iters
    assert any(line.startswith('note: RTMPose from random weights needs thousands')
               and f'this run has {iters} (the sizing rule aims at 6000)' in line
               for line in plan.lines)
    with_start = prepare_run(datasets['coco'], model='rtmpose-t', work_dir=tmp_path / 'w2',
                             epochs=20, memory=kit.no_memory_limit,
                             cfg_options={'load_from': str(tmp_path / 'start.pth')})
    assert not any(line.startswith('note: RTMPose') for line in with_start.lines)


@pytest.mark.parametrize('options, epochs', [
    (None, 1000),                # from random weights: 6000 iterations, capped at MAX_EPOCHS
    ({'load_from': 'start.pth'}, 400),                 # from a checkpoint: 2000 iterations
    ({'model.pretrained.checkpoint': 'start.pth'}, 400),
])
def test_rtmpose_from_random_weights_is_sized_to_its_own_longer_run(datasets, tmp_path,
                                                                     options, epochs):
    plan = prepare_run(datasets['coco'], model='rtmpose-s', work_dir=tmp_path / 'w',
                       cfg_options=options, memory=kit.no_memory_limit)
    assert plan.schedule.iters_per_epoch == 5                   # 10 instances at batch 2
    assert plan.schedule.epochs == epochs
    short = [line for line in plan.lines if line.startswith('note: RTMPose')]
    assert len(short) == (options is None)      # 5000 < 6000: the cap made it shorter
    hrnet = prepare_run(datasets['coco'], model='hrnet-cpu', work_dir=tmp_path / 'h',
                        memory=kit.no_memory_limit)
    assert hrnet.schedule.epochs == 400


def test_a_batch_given_in_cfg_options_sizes_the_schedule(datasets, tmp_path):
    plan = prepare_run(datasets['coco'], model='hrnet-cpu', work_dir=tmp_path / 'w',
                       cfg_options={'batch_size': 5}, memory=kit.no_memory_limit)
    cfg = load_config(str(plan.config))
    assert cfg.train_dataloader.batch_size == plan.schedule.batch_size == 5
    assert plan.schedule.iters_per_epoch == 2 and cfg.train_cfg.max_epochs == 1000
    assert cfg.param_scheduler[0].end == plan.schedule.warmup_iters == 50


def test_cfg_options_set_knobs_before_they_are_resolved(datasets, tmp_path):
    plan = prepare_run(datasets['coco'], model='hrnet-cpu', work_dir=tmp_path / 'w',
                       cfg_options={'train_size': (64, 64), 'max_epochs': 7},
                       memory=kit.no_memory_limit)
    cfg = load_config(str(plan.config))
    assert cfg.model.head.decoder.input_size == (64, 64)
    assert cfg.model.head.decoder.heatmap_size == (16, 16)
    affine = [t for t in cfg.val_dataloader.dataset.pipeline if t['type'] == 'TopdownAffine']
    assert affine[0].input_size == (64, 64)
    assert cfg.train_cfg.max_epochs == 7 and cfg.param_scheduler[1].end == 7
    assert '--cfg-options over these: train_size=(64, 64), max_epochs=7' in plan.lines


@pytest.mark.parametrize('key', ['max_epochs', 'train_cfg.max_epochs'])
def test_epochs_in_cfg_options_size_the_schedule(datasets, tmp_path, key):
    plan = prepare_run(datasets['coco'], model='hrnet-cpu', work_dir=tmp_path / 'w',
                       cfg_options={key: 7}, memory=kit.no_memory_limit)
    s = plan.schedule
    assert s.epochs == 7 and s.val_interval == 1
    assert s.warmup_iters == max(1, s.iters_per_epoch * 7 // 4)     # a quarter of the run
    assert f'{7 * s.iters_per_epoch} iterations (--cfg-options {key})' in '\n'.join(plan.lines)
    cfg = load_config(str(plan.config))
    assert cfg.train_cfg.max_epochs == 7 and cfg.train_cfg.val_interval == 1
    assert cfg.param_scheduler[0].end == s.warmup_iters


def test_epochs_given_twice_differently_are_refused(datasets, tmp_path):
    from customkpt.errors import UserError
    with pytest.raises(UserError, match='--epochs 5, max_epochs 7'):
        prepare_run(datasets['coco'], model='hrnet-cpu', work_dir=tmp_path / 'w', epochs=5,
                    cfg_options={'max_epochs': 7}, memory=kit.no_memory_limit)
    plan = prepare_run(datasets['coco'], model='hrnet-cpu', work_dir=tmp_path / 'w', epochs=7,
                       cfg_options={'max_epochs': 7}, memory=kit.no_memory_limit)
    assert plan.schedule.epochs == 7


def test_a_knob_edited_in_the_written_config_reaches_what_refers_to_it(datasets, tmp_path):
    plan = prepare_run(datasets['coco'], model='hrnet-cpu', work_dir=tmp_path / 'w',
                       cfg_options={'max_epochs': 7}, memory=kit.no_memory_limit)
    with open(plan.config, 'a') as fh:                   # the user edits two knobs
        fh.write('train_size = (64, 64)\nlr = 0.123\n')
    cfg = load_config(str(plan.config))
    assert cfg.model.head.decoder.input_size == (64, 64)
    assert cfg.model.head.decoder.heatmap_size == (16, 16)
    affine = [t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'TopdownAffine']
    assert affine[0].input_size == (64, 64)
    assert cfg.optim_wrapper.optimizer.lr == 0.123
    assert cfg.train_cfg.max_epochs == 7            # the option given at preparation stays


def test_the_report_says_what_was_decided(datasets, tmp_path):
    plan = prepare_run(datasets['dlc'], model='hrnet-cpu', work_dir=tmp_path / 'w',
                       memory=kit.no_memory_limit)
    text = '\n'.join(plan.lines)
    assert 'converted the dlc data in' in text
    assert 'keypoints (4): snout, leftear, rightear, tailbase; flip pairs: leftear<->rightear' in text
    assert 'input 96x128 (w x h): boxes are taller than wide' in text
    assert 'note: for more accuracy at about ten times the time, --model rtmpose-s' in text
    assert f'config: {plan.config}' in text
    assert plan.source.name == 'dlc'


def test_an_unknown_model_is_refused(datasets, tmp_path):
    from customkpt.errors import UserError
    with pytest.raises(UserError, match="--model 'resnet': choose one of"):
        prepare_run(datasets['coco'], model='resnet', work_dir=tmp_path)


def test_the_report_warns_of_sided_points_without_a_flip_pair(datasets, tmp_path):
    unpaired = kit.coco(tmp_path / 'nopairs', 12, flip_pairs=[])
    plan = prepare_run(unpaired, model='hrnet-cpu', work_dir=tmp_path / 'w',
                       memory=kit.no_memory_limit)
    notes = [line for line in plan.lines if line.startswith('note: 2 names mark a side')]
    assert len(notes) == 1
    assert "horizontal flip keeps their labels: ['leftear', 'rightear']" in notes[0]
    assert notes[0].endswith(f'set flip_pairs in {plan.config} (the knob at its top): '
                             'leftear<->rightear = [[1, 2]]')
    paired = prepare_run(datasets['coco'], model='hrnet-cpu', work_dir=tmp_path / 'w2',
                         memory=kit.no_memory_limit)
    assert not any('mark a side' in line for line in paired.lines)


@pytest.mark.parametrize('model', ['hrnet-cpu', 'rtmpose-t'])
def test_sided_points_without_a_flip_pair_turn_the_flips_off(datasets, tmp_path, model):
    unpaired = kit.coco(tmp_path / 'nopairs', 12, flip_pairs=[])
    plan = prepare_run(unpaired, model=model, work_dir=tmp_path / 'w',
                       memory=kit.no_memory_limit)
    text = plan.config.read_text()
    assert 'flip_prob = 0.0' in text and 'flip_test = False' in text
    cfg = load_config(str(plan.config))
    flips = [t for key in ('train_pipeline', 'train_pipeline_stage2') for t in cfg.get(key, [])
             if t['type'] == 'RandomFlip']
    assert flips and all(t['prob'] == 0.0 for t in flips)
    assert cfg.model.test_cfg.flip_test is False
    assert any(line.startswith('no horizontal flips, in training or in the test')
               for line in plan.lines)


def test_paired_sides_keep_the_flips_and_pairs_given_as_options_count(datasets, tmp_path):
    for data, options in ((datasets['coco'], None),
                          (kit.coco(tmp_path / 'nopairs', 12, flip_pairs=[]),
                           {'flip_pairs': [[1, 2]]})):
        plan = prepare_run(data, model='hrnet-cpu', work_dir=tmp_path / 'w',
                           cfg_options=options, memory=kit.no_memory_limit)
        cfg = load_config(str(plan.config))
        flip, = [t for t in cfg.train_pipeline if t['type'] == 'RandomFlip']
        assert flip['prob'] == 0.5 and cfg.model.test_cfg.flip_test is True
        assert cfg.metainfo.flip_pairs == [[1, 2]]
        assert not any(line.startswith('no horizontal flips') for line in plan.lines)
