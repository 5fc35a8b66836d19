"""PipelineSwitchHook: the new pipeline from the switch epoch on, also in
persistent data-loader workers."""
import pytest

from customkpt.engine import pipeline_switch
from customkpt.engine.pipeline_switch import PipelineSwitchHook, pipeline_datasets
from customkpt.registry import HOOKS

from .runner_kit import Recorder, TaggedDataset, build_runner, loader

STAGE1 = [dict(type='TestStageTag', stage=1)]
STAGE2 = [dict(type='TestStageTag', stage=2)]


def _train(tmp_path, num_workers, persistent, switch_epoch=2, max_epochs=4):
    model = Recorder()
    hook = dict(type='PipelineSwitchHook', switch_epoch=switch_epoch, switch_pipeline=STAGE2)
    runner = build_runner(tmp_path, model, loader(STAGE1, num_workers, persistent), max_epochs,
                          [hook])
    runner.train()
    iters = len(runner.train_dataloader)
    return [model.stages[e * iters:(e + 1) * iters] for e in range(max_epochs)]


@pytest.mark.parametrize('num_workers,persistent', [(0, False), (2, False), (2, True)])
def test_switches_at_the_switch_epoch(tmp_path, num_workers, persistent):
    epochs = _train(tmp_path, num_workers, persistent)
    assert epochs == [[[1], [1]], [[1], [1]], [[2], [2]], [[2], [2]]]


def test_without_the_restart_persistent_workers_keep_the_old_pipeline(tmp_path, monkeypatch):
    # Why the hook restarts the workers: they hold their own dataset copy.
    monkeypatch.setattr(pipeline_switch, 'restart_workers', lambda loader: False)
    epochs = _train(tmp_path, 2, True)
    assert epochs[3] == [[1], [1]]


def test_a_run_resumed_past_the_switch_epoch_switches_at_once(tmp_path):
    _train(tmp_path, 0, False, switch_epoch=1, max_epochs=2)
    model = Recorder()
    hook = dict(type='PipelineSwitchHook', switch_epoch=1, switch_pipeline=STAGE2)
    runner = build_runner(tmp_path, model, loader(STAGE1), 3, [hook], resume=True,
                          load_from=str(tmp_path / 'epoch_2.pth'))
    runner.train()
    assert model.stages == [[2], [2]]      # only epoch 3 ran, with the new pipeline


def test_builds_from_a_config_dict_and_checks_its_arguments():
    hook = HOOKS.build(dict(type='PipelineSwitchHook', switch_epoch=5, switch_pipeline=STAGE2))
    assert isinstance(hook, PipelineSwitchHook) and hook.switch_epoch == 5
    with pytest.raises(ValueError, match='switch_epoch'):
        PipelineSwitchHook(-1, STAGE2)
    with pytest.raises(ValueError, match='empty'):
        PipelineSwitchHook(3, [])


def test_finds_the_pipelines_inside_dataset_wrappers():
    from mmengine.dataset import ConcatDataset, RepeatDataset
    a, b = TaggedDataset(pipeline=STAGE1), TaggedDataset(pipeline=STAGE1)
    assert list(pipeline_datasets(ConcatDataset([a, b]))) == [a, b]
    assert list(pipeline_datasets(RepeatDataset(a, times=2))) == [a]
    assert list(pipeline_datasets(object())) == []
