"""Resuming reproduces the uninterrupted run (EpochSeedHook); checkpoints are
never left half-written (AtomicCheckpointHook). Both come from the shared
runtime config, as every customkpt config uses them."""
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import LocalBackend
from mmengine.hooks import checkpoint_hook as mm_checkpoint_hook
from mmengine.runner import Runner

from customkpt.checkpoint import safe_load
from customkpt.demo import make_self5_dataset
from customkpt.engine.resume import (EpochClock, EpochSeededPipeline, EpochSeedHook,
                                     epoch_seeds)

from .runner_kit import Recorder, loader

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = Config.fromfile(str(ROOT / 'configs' / '_base_' / 'default_runtime.py'))
CPU_CONFIG = ROOT / 'configs' / 'hrnet_self5_cpu.py'


# ------------------------------------------------------------ resume, end to end
@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('resume')
    return make_self5_dataset(root / 'self5', num_train=16, num_val=4, with_video=False,
                              progress=False)


def _tiny_options(data: Path, num_workers: int) -> list[str]:
    """The CPU self5 config with its random training pipeline, shrunk."""
    return ['--cfg-options', f'data_root={data}/', 'train_size=(48,64)', 'max_epochs=3',
            'batch_size=4', 'val_interval=100', 'warmup_iters=5',
            f'train_dataloader.num_workers={num_workers}',
            f'train_dataloader.persistent_workers={num_workers > 0}',
            'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
            'default_hooks.checkpoint.interval=1', 'default_hooks.checkpoint.save_best=None',
            'default_hooks.logger.interval=1']


def _train(options: list[str], work_dir: Path, *extra: str) -> None:
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    cmd = [sys.executable, '-m', 'customkpt.cli', 'train', str(CPU_CONFIG), '--work-dir',
           str(work_dir), *extra, *options]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]


@pytest.mark.parametrize('num_workers', [0, 2])
def test_resumed_run_reproduces_uninterrupted_weights_exactly(tiny_data, tmp_path, num_workers):
    options = _tiny_options(tiny_data, num_workers)
    _train(options, tmp_path / 'full')
    # The interrupted run: killed during epoch 2, so its newest checkpoint is
    # epoch 1's (the full run's epoch 1 file stands in for it).
    part = tmp_path / 'part'
    part.mkdir()
    (part / 'epoch_1.pth').write_bytes((tmp_path / 'full' / 'epoch_1.pth').read_bytes())
    (part / 'last_checkpoint').write_text(str(part / 'epoch_1.pth'))
    _train(options, part, '--resume')
    full = safe_load(tmp_path / 'full' / 'epoch_3.pth')['state_dict']
    resumed = safe_load(part / 'epoch_3.pth')['state_dict']
    assert full.keys() == resumed.keys()
    unequal = [k for k in full if not torch.equal(full[k], resumed[k])]
    assert unequal == []


# ------------------------------------------------------------ epoch seeding, unit
def test_epoch_seeds_depend_on_every_argument_and_nothing_else():
    base = epoch_seeds(0, 3, 0, 1)
    assert epoch_seeds(0, 3, 0, 1) == base
    others = {epoch_seeds(1, 3, 0, 1), epoch_seeds(0, 4, 0, 1), epoch_seeds(0, 3, 1, 1),
              epoch_seeds(0, 3, 0, 2)}
    assert base not in others and len(others) == 4
    py, np_seed, th = base
    assert 0 <= np_seed < 2**32 and 0 <= py < 2**63 and 0 <= th < 2**63


class _DrawWithMemory:
    """Draws from NumPy's global generator and remembers how often it ran."""

    def __init__(self):
        self.calls = 0

    def __call__(self, results):
        self.calls += 1
        return dict(results, draw=float(np.random.rand()), calls=self.calls)


def test_wrapped_pipeline_draws_depend_on_the_epoch_not_on_history():
    clock = EpochClock(seed=7, rank=0)
    pipeline = EpochSeededPipeline(_DrawWithMemory(), clock)
    runs = {}
    for history in (0, 5):
        for epoch in range(3):
            clock.epoch = epoch
            np.random.rand(history)          # whatever happened before
            runs.setdefault(history, []).append([pipeline({})['draw'] for _ in range(3)])
    assert runs[0] == runs[5]
    assert runs[0][0] != runs[0][1]
    # Transform state starts afresh each epoch (a resumed run has none).
    clock.epoch = 3
    assert [pipeline({})['calls'] for _ in range(2)] == [1, 2]


def test_sampler_takes_the_seed_a_resumed_run_read_from_its_checkpoint():
    # With randomness=dict(seed=None) the sampler is built with a fresh random
    # seed before the checkpoint's seed is restored.
    def runner(**randomness):
        sampler = SimpleNamespace(seed=5)
        return SimpleNamespace(seed=9, _randomness_cfg=dict(seed=9, **randomness),
                               train_dataloader=SimpleNamespace(sampler=sampler))

    same = runner()
    EpochSeedHook().before_train(same)
    assert same.train_dataloader.sampler.seed == 9
    per_rank = runner(diff_rank_seed=True)      # ranks agreed on the sampler's seed
    EpochSeedHook().before_train(per_rank)
    assert per_rank.train_dataloader.sampler.seed == 5


# ------------------------------------------------------------ atomic checkpoints
def _runner(work_dir: Path, max_epochs: int = 2, checkpoint: dict | None = None,
            **kwargs) -> Runner:
    """A tiny Runner whose checkpoint hook is the shared runtime config's."""
    hook = dict(RUNTIME.default_hooks.checkpoint, interval=1, **(checkpoint or {}))
    return Runner(model=Recorder(), work_dir=str(work_dir),
                  experiment_name=f'atomic_{uuid.uuid4().hex[:8]}',
                  train_dataloader=loader([dict(type='TestStageTag', stage=1)]),
                  train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
                  optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                  default_hooks=dict(checkpoint=hook,
                                     logger=dict(type='LoggerHook', interval=100)),
                  default_scope='customkpt', **kwargs)


def test_failed_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    real_put = LocalBackend.put

    def put(backend, obj, filepath):          # epoch 2's bytes: half written, then an error
        if 'epoch_2' not in str(filepath):
            return real_put(backend, obj, filepath)
        with open(filepath, 'wb') as f:
            f.write(obj[:len(obj) // 2])
        raise OSError('disk gone half-way')

    monkeypatch.setattr(LocalBackend, 'put', put)
    with pytest.raises(OSError, match='half-way'):
        _runner(tmp_path, checkpoint=dict(max_keep_ckpts=1)).train()
    names = sorted(os.listdir(tmp_path))
    assert 'epoch_2.pth' not in names and 'epoch_1.pth' in names
    assert not [n for n in names if n.startswith('.')]       # no temporary file left
    assert safe_load(tmp_path / 'epoch_1.pth')['meta']['epoch'] == 1
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'epoch_1.pth')


class _HalfWritingFile:
    """``open(path, 'w')`` whose ``write`` writes half the text and raises."""

    def __init__(self, path, mode='r', *args, **kwargs):
        self._file = open(path, mode, *args, **kwargs)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()

    def write(self, text):
        self._file.write(text[:len(text) // 2])
        raise OSError('disk gone half-way')


def test_failed_pointer_write_keeps_the_previous_pointer(tmp_path, monkeypatch):
    _runner(tmp_path, max_epochs=1).train()
    pointer = (tmp_path / 'last_checkpoint').read_text()
    assert pointer == str(tmp_path / 'epoch_1.pth')
    # mmengine's hook opens the pointer file with the module's `open`.
    monkeypatch.setattr(mm_checkpoint_hook, 'open', _HalfWritingFile, raising=False)
    with pytest.raises(OSError, match='half-way'):
        _runner(tmp_path, max_epochs=2, resume=True).train()     # epoch 2's save fails
    assert (tmp_path / 'last_checkpoint').read_text() == pointer
    assert safe_load(tmp_path / 'epoch_2.pth')['meta']['epoch'] == 2   # complete, if unused


def test_leftovers_of_a_killed_save_go_and_rotation_still_works(tmp_path):
    (tmp_path / '.staging-12345-epoch_1.pth').write_bytes(b'half a checkpoint')
    (tmp_path / '.staging-12345').mkdir()                  # a staged pointer's folder
    _runner(tmp_path, max_epochs=4, checkpoint=dict(max_keep_ckpts=2)).train()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith('.')) == []
    # The newest two stay (the oldest goes only after the newest is written).
    assert sorted(p.name for p in tmp_path.glob('epoch_*.pth')) == ['epoch_3.pth',
                                                                    'epoch_4.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'epoch_4.pth')
    assert safe_load(tmp_path / 'epoch_4.pth')['meta']['epoch'] == 4
