"""Checkpoints load with weights_only semantics; code-running pickles are refused."""
import json
import os
import pickle
import pickletools  # noqa: F401  (documents that the crafted bytes are plain pickle)

import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

import customkpt  # noqa: F401  (installs the safe loader)
from customkpt.checkpoint import UnsafeCheckpointError, safe_load


class _Line(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.fc(torch.stack(inputs)).squeeze(1)
        if mode == 'loss':
            return dict(loss=((out - torch.stack(labels)) ** 2).mean())
        return [dict(pred=p) for p in out]


class _Points(torch.utils.data.Dataset):
    metainfo = dict(keypoint_names=['a'], sigmas=[0.1])

    def __len__(self):
        return 16

    def __getitem__(self, i):
        return dict(inputs=torch.tensor([i / 16, 1.0]), labels=torch.tensor(0.5 * i / 16))


class _Count(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.extend(float(s['pred']) for s in data_samples)

    def compute_metrics(self, results):
        return dict(mean_pred=sum(results) / len(results))


class _Interrupted(Exception):
    pass


class _StopAfterFirstEpoch(Hook):
    priority = 'LOWEST'  # after the checkpoint of that epoch was written

    def after_train_epoch(self, runner):
        if runner.epoch == 0:
            raise _Interrupted


def _runner(work_dir, max_epochs, **kwargs):
    torch.manual_seed(0)  # the model is built before the Runner seeds
    init_default_scope('mmengine')  # a plain mmengine project, no customkpt config
    return Runner(
        model=_Line(), work_dir=str(work_dir), experiment_name=f'x{max_epochs}{len(kwargs)}',
        train_dataloader=dict(dataset=_Points(), batch_size=4, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=True)),
        val_dataloader=dict(dataset=_Points(), batch_size=4, num_workers=0,
                            sampler=dict(type='DefaultSampler', shuffle=False)),
        val_evaluator=[_Count()],
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs, val_interval=1), val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.01)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1]),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        randomness=dict(seed=3), **kwargs)


def test_runner_checkpoint_loads_and_resumes_to_same_weights(tmp_path):
    full = _runner(tmp_path / 'full', 2)
    full.train()
    ckpt = _load_checkpoint(str(tmp_path / 'full' / 'epoch_2.pth'))
    assert ckpt['meta']['epoch'] == 2
    assert ckpt['meta']['dataset_meta'] == _Points.metainfo
    assert 'train/loss' in ckpt['message_hub']['log_scalars']

    # A run killed after its first epoch, resumed, ends where the full run ended.
    with pytest.raises(_Interrupted):
        _runner(tmp_path / 'part', 2, custom_hooks=[_StopAfterFirstEpoch()]).train()
    resumed = _runner(tmp_path / 'part', 2, resume=True,
                      load_from=str(tmp_path / 'part' / 'epoch_1.pth'))
    resumed.train()
    assert resumed.epoch == 2
    for k, v in full.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[k], v)


class _RunsCode:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def test_code_running_pickle_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'x': _RunsCode(marker)}, path)
    with pytest.raises(UnsafeCheckpointError, match=r'evil\.pth.*system'):
        _load_checkpoint(str(path))
    with pytest.raises(UnsafeCheckpointError):
        safe_load(path)
    assert not marker.exists()


def test_getattr_escape_is_refused(tmp_path):
    # getattr(os-free object, '__init__') -> a route to function globals; only
    # HistoryBuffer statistics may be looked up.
    path = tmp_path / 'getattr.pth'
    payload = (b'\x80\x02c__builtin__\ngetattr\nq\x00cnumpy\nndarray\nX\x08\x00\x00\x00'
               b'__init__\x86R.')
    with open(path, 'wb') as f:
        f.write(payload)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    with pytest.raises(UnsafeCheckpointError, match='getattr'):
        safe_load(path)


def test_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        safe_load(tmp_path / 'nope.pth')


def test_init_model_reads_a_published_safetensors(tmp_path):
    """mmengine's local loader (so init_model and load_from) reads .safetensors
    with the keypoint meta from its header."""
    pytest.importorskip('safetensors')
    from safetensors.torch import save_file

    from customkpt.apis import init_model
    from customkpt.checkpoint import SAFETENSORS_META_KEY

    model = init_model('configs/hrnet_self5_cpu.py')
    meta = dict(model.dataset_meta, keypoint_names=['p', 'q', 'r', 's', 't'])
    path = tmp_path / 'm.safetensors'
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path),
              metadata={SAFETENSORS_META_KEY: json.dumps(dict(dataset_meta=meta))})
    loaded = init_model('configs/hrnet_self5_cpu.py', path)
    assert loaded.dataset_meta['keypoint_names'] == ['p', 'q', 'r', 's', 't']
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
