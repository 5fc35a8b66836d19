"""Checkpoints load with weights_only semantics; code-running pickles are refused."""
import json
import logging
import os
import pickle
import re
import zipfile
import pickletools  # noqa: F401  (documents that the crafted bytes are plain pickle)

import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.model import BaseModel
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

import customkpt.registry  # noqa: F401  (installs the safe loader)
from customkpt.checkpoint import (CheckpointReadError, UnsafeCheckpointError, checkpoint_meta,
                                  read_safetensors, safe_load)


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


# ------------------------------------------------------------ broken files
def _torch_file(path, obj=None, **kwargs):
    torch.save({'state_dict': {'w': torch.arange(100.0)}} if obj is None else obj, path,
               **kwargs)
    return path.read_bytes()


def _huge_storage_zip(tmp_path):
    """A valid torch zip whose pickle declares a storage of 10**12 floats
    while the archive holds 100."""
    small = tmp_path / 'small.pth'
    _torch_file(small, {'w': torch.zeros(100)})
    src = zipfile.ZipFile(small)
    path = tmp_path / 'huge.pth'
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith('data.pkl'):
                # The storage key's numel (BININT1 100 after the 'cpu' location)
                # becomes LONG1 10**12.
                old = b'X\x03\x00\x00\x00cpuq\x06K\x64'
                assert old in data
                huge = b'\x8a\x06' + (10 ** 12).to_bytes(6, 'little')
                data = data.replace(old, old[:-2] + huge)
            out.writestr(info.filename, data)
    return path


def _broken(kind, tmp_path):
    good = _torch_file(tmp_path / 'good.pth')
    path = tmp_path / f'{kind}.pth'
    if kind == 'truncated':
        path.write_bytes(good[:len(good) // 2])
    elif kind == 'tail_cut':
        path.write_bytes(good[:-30])
    elif kind == 'empty':
        path.write_bytes(b'')
    elif kind == 'text':
        path.write_text('hello, this is not a checkpoint\n')
    elif kind == 'legacy_truncated':
        legacy = _torch_file(tmp_path / 'legacy.pth', _use_new_zipfile_serialization=False)
        path.write_bytes(legacy[:-10])
    elif kind == 'huge_storage':
        path = _huge_storage_zip(tmp_path)
    return path


@pytest.mark.parametrize('kind, reason', [
    ('truncated', 'central directory'), ('tail_cut', 'central directory'),
    ('empty', 'empty'), ('text', 'neither a zip archive nor a pickle'),
    ('legacy_truncated', 'cut short'), ('huge_storage', 'declares more data')])
def test_broken_checkpoint_raises_one_clear_error(tmp_path, kind, reason):
    path = _broken(kind, tmp_path)
    with pytest.raises(CheckpointReadError, match=reason) as info:
        safe_load(path)
    assert str(path) in str(info.value)
    assert 'truncated, corrupted or not a torch checkpoint' in str(info.value)
    assert not isinstance(info.value, UnsafeCheckpointError)
    # mmengine's loading (load_from, --resume, init_model) raises the same.
    with pytest.raises(CheckpointReadError, match=re.escape(str(path))):
        _load_checkpoint(str(path))


def _safetensors_bytes():
    pytest.importorskip('safetensors')
    from safetensors.torch import save
    return save({'w': torch.arange(4.0)})


@pytest.mark.parametrize('kind', ['header_too_long', 'bad_json', 'too_small', 'cut_data'])
def test_malformed_safetensors_raises_one_clear_error(tmp_path, kind):
    good = _safetensors_bytes()
    body = {'header_too_long': (10 ** 9).to_bytes(8, 'little') + b'{}',
            'bad_json': (7).to_bytes(8, 'little') + b'{nope: ',
            'too_small': b'abc',
            'cut_data': good[:-5]}[kind]
    path = tmp_path / 'm.safetensors'
    path.write_bytes(body)
    with pytest.raises(CheckpointReadError, match=r'm\.safetensors.*not a safetensors file'):
        read_safetensors(path)
    with pytest.raises(CheckpointReadError, match=r'm\.safetensors'):
        _load_checkpoint(str(path))


def test_safetensors_with_malformed_meta_names_the_file(tmp_path):
    pytest.importorskip('safetensors')
    from safetensors.torch import save_file

    from customkpt.checkpoint import SAFETENSORS_META_KEY
    path = tmp_path / 'm.safetensors'
    save_file({'w': torch.zeros(2)}, str(path), metadata={SAFETENSORS_META_KEY: '{not json'})
    with pytest.raises(CheckpointReadError, match=r'm\.safetensors.*not valid JSON'):
        read_safetensors(path)


def test_unreadable_file_does_not_hide_a_refused_global(tmp_path):
    # A code-running pickle stays an UnsafeCheckpointError, not a read error.
    path = tmp_path / 'evil.pth'
    torch.save({'x': _RunsCode(tmp_path / 'pwned')}, path)
    with pytest.raises(UnsafeCheckpointError):
        safe_load(path)
    assert not (tmp_path / 'pwned').exists()


# ------------------------------------------------------- meta is only data
def _metainfo_script(tmp_path):
    """A metainfo .py that leaves a marker file when it is executed."""
    marker = tmp_path / 'executed'
    script = tmp_path / 'evil_meta.py'
    script.write_text(f'open({str(marker)!r}, "w").close()\n'
                      "keypoint_names = ['a', 'b']\n")
    return script, marker


class _Collect(logging.Handler):

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_checkpoint_meta_drops_file_references(tmp_path):
    from customkpt.meta import KeypointMeta
    script, marker = _metainfo_script(tmp_path)
    dataset_meta = dict(keypoint_names=['p', 'q'], from_file=str(script),
                        ann_file=str(tmp_path / 'a.json'), img_root='/data', sigmas=[0.1, 0.2])
    ckpt = {'state_dict': {}, 'meta': {'dataset_meta': dataset_meta}}

    # What the guard prevents: resolving the raw meta runs the named file.
    KeypointMeta.resolve(dict(keypoint_names=['p', 'q'], from_file=str(script)))
    assert marker.exists()
    marker.unlink()

    logger, handler = MMLogger.get_current_instance(), _Collect()
    logger.addHandler(handler)
    try:
        meta = checkpoint_meta(ckpt, str(tmp_path / 'ckpt.pth'))
    finally:
        logger.removeHandler(handler)
    assert meta == dict(keypoint_names=['p', 'q'], sigmas=[0.1, 0.2])
    assert any(str(tmp_path / 'ckpt.pth') in m and 'from_file' in m and 'ann_file' in m
               and 'img_root' in m for m in handler.messages), handler.messages
    assert KeypointMeta.resolve(meta).keypoint_names == ['p', 'q']
    assert not marker.exists()
    meta['sigmas'].append(1.0)  # a copy, not the checkpoint's own lists
    assert dataset_meta['sigmas'] == [0.1, 0.2]


def test_checkpoint_meta_of_a_loaded_file_never_runs_its_reference(tmp_path):
    from customkpt.meta import KeypointMeta
    script, marker = _metainfo_script(tmp_path)
    path = tmp_path / 'c.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)},
                'meta': {'dataset_meta': {'from_file': str(script)}}}, path)
    meta = checkpoint_meta(_load_checkpoint(str(path)), str(path))
    assert meta == {}
    with pytest.raises(Exception, match='no keypoint definition'):
        KeypointMeta.resolve(meta, source=str(path))
    assert not marker.exists()


@pytest.mark.parametrize('ckpt', [
    {'state_dict': {}}, {'meta': None}, {'meta': {'epoch': 3}}, [1, 2],
    {'meta': {'dataset_meta': '/some/metainfo.py'}}])
def test_checkpoint_meta_without_a_dict_is_empty(ckpt):
    assert checkpoint_meta(ckpt, 'x.pth') == {}
