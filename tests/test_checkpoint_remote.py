"""Checkpoints given by address (http(s)://, model-zoo names, pavi://, s3://)
are read with the same weights-only rules as local files.

A small HTTP server on 127.0.0.1 (a random port) serves a temporary folder;
torch's hub folder points into the test's tmp_path.
"""
import functools
import http.server
import os
import re
import socket
import sys
import threading
import types

import pytest
import torch
import torch.nn as nn
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModel, BaseModule
from mmengine.runner import Runner, load_checkpoint
from mmengine.runner import checkpoint as mm_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

import customkpt.registry  # noqa: F401  (installs the safe loaders)
from customkpt.checkpoint import (CheckpointReadError, UnsafeCheckpointError,
                                  install_mmengine_loader)
from customkpt.checkpoint_remote import (REMOTE_LOADERS, CheckpointDownloadError,
                                         UnsupportedCheckpointScheme)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """Serves the folder; ``/cut-off.pth`` promises 1000 bytes and sends 10."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path != '/cut-off.pth':
            return super().do_GET()
        self.send_response(200)
        self.send_header('Content-Length', '1000')
        self.end_headers()
        self.wfile.write(b'PK\x03\x04' + b'\x00' * 6)
        self.close_connection = True


@pytest.fixture
def served(tmp_path):
    """``(folder, base_url)``: files put in ``folder`` are served at ``base_url``."""
    folder = tmp_path / 'www'
    folder.mkdir()
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def hub_dir(tmp_path, monkeypatch):
    """torch's hub folder (the download cache) inside tmp_path; mmengine's
    own unsafe download path made to fail loudly if anything still uses it."""
    hub = tmp_path / 'hub'
    monkeypatch.setattr(torch.hub, '_hub_dir', str(hub))

    def unsafe(*args, **kwargs):
        raise AssertionError('mmengine/torch.hub unsafe URL loading was used')

    monkeypatch.setattr(mm_checkpoint, 'load_url', unsafe)
    monkeypatch.setattr(torch.hub, 'load_state_dict_from_url', unsafe)
    return hub


class _Net(BaseModule):

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.fc = nn.Linear(3, 2)


def _benign(path):
    """A Runner-style checkpoint: state dict, meta, HistoryBuffer log scalars."""
    torch.manual_seed(1)
    state = _Net().state_dict()
    buffer = HistoryBuffer()
    for v in (1.0, 2.0, 4.0):
        buffer.update(v)
    torch.save({'state_dict': state, 'meta': {'epoch': 3},
                'message_hub': {'log_scalars': {'train/loss': buffer}}}, path)
    return state


class _Payload:
    """Pickles as a call that leaves ``marker`` behind."""

    def __init__(self, how, marker):
        self.how, self.marker = how, str(marker)

    def __reduce__(self):
        if self.how == 'system':
            return os.system, (f'touch {self.marker}',)
        if self.how == 'exec':
            return exec, (f'open({self.marker!r}, "w").close()',)
        return open, (self.marker, 'w')


def _malicious(path, how, marker):
    torch.save({'state_dict': {'fc.weight': torch.zeros(2, 3)}, 'x': _Payload(how, marker)},
               path)


def test_every_mmengine_scheme_is_replaced():
    for prefix in ('', 'http://', 'https://', 'torchvision://', 'modelzoo://', 'open-mmlab://',
                   'openmmlab://', 'mmcls://', 'pavi://', r'(\S+\:)?s3://',
                   r'(\S+\:)?petrel://'):
        loader = CheckpointLoader._schemes[prefix]
        assert loader.__module__.startswith('customkpt.checkpoint'), (prefix, loader)
    for prefix, loader in CheckpointLoader._schemes.items():
        assert loader.__module__ != 'mmengine.runner.checkpoint', prefix


def test_http_checkpoint_loads_through_mmengine(served, hub_dir):
    folder, base = served
    state = _benign(folder / 'good.pth')
    ckpt = CheckpointLoader.load_checkpoint(f'{base}/good.pth', map_location='cpu')
    for key, value in state.items():
        assert torch.equal(ckpt['state_dict'][key], value)
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert buffer.current() == 4.0 and buffer.min() == 1.0
    assert (hub_dir / 'checkpoints' / 'good.pth').is_file()
    assert os.listdir(hub_dir / 'checkpoints') == ['good.pth']  # no temp file left

    # The cached copy is reused: it loads while the server no longer has it.
    (folder / 'good.pth').unlink()
    again = CheckpointLoader.load_checkpoint(f'{base}/good.pth?token=1', map_location='cpu')
    assert torch.equal(again['state_dict']['fc.weight'], state['fc.weight'])


def test_load_checkpoint_into_a_model_from_url(served):
    folder, base = served
    state = _benign(folder / 'good.pth')
    model = _Net()
    load_checkpoint(model, f'{base}/good.pth', map_location='cpu')
    for key, value in state.items():
        assert torch.equal(model.state_dict()[key], value)


@pytest.mark.parametrize('how', ['system', 'exec', 'open'])
def test_code_running_url_is_refused(served, tmp_path, how):
    folder, base = served
    marker = tmp_path / 'pwned'
    _malicious(folder / 'evil.pth', how, marker)
    url = f'{base}/evil.pth'
    with pytest.raises(UnsafeCheckpointError, match=re.escape(url)):
        CheckpointLoader.load_checkpoint(url)
    with pytest.raises(UnsafeCheckpointError, match=re.escape(url)):
        load_checkpoint(_Net(), url)
    assert not marker.exists()


def test_pretrained_init_cfg_reads_url_safely(served, tmp_path):
    folder, base = served
    state = _benign(folder / 'good.pth')
    net = _Net(init_cfg=dict(type='Pretrained', checkpoint=f'{base}/good.pth'))
    net.init_weights()
    assert torch.equal(net.fc.weight.detach(), state['fc.weight'])

    marker = tmp_path / 'pwned'
    _malicious(folder / 'evil.pth', 'system', marker)
    net = _Net(init_cfg=dict(type='Pretrained', checkpoint=f'{base}/evil.pth'))
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        net.init_weights()
    assert not marker.exists()


class _Model(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, *args, **kwargs):
        return {}


@pytest.mark.parametrize('resume', [False, True])
def test_runner_load_from_url_is_refused(served, tmp_path, resume):
    folder, base = served
    marker = tmp_path / 'pwned'
    _malicious(folder / 'evil.pth', 'exec', marker)
    runner = Runner(model=_Model(), work_dir=str(tmp_path / 'work'),
                    load_from=f'{base}/evil.pth', resume=resume)
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        runner.load_or_resume()
    assert not marker.exists()


def test_safetensors_url_is_read(served):
    pytest.importorskip('safetensors')
    from safetensors.torch import save_file
    folder, base = served
    save_file({'w': torch.arange(3.0)}, str(folder / 'm.safetensors'))
    ckpt = CheckpointLoader.load_checkpoint(f'{base}/m.safetensors')
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(3.0))
    assert ckpt['meta'] == {}


def test_broken_download_names_url_and_cache(served, hub_dir):
    folder, base = served
    (folder / 'cut.pth').write_bytes(b'PK\x03\x04 not much more')
    with pytest.raises(CheckpointReadError, match=re.escape(f'{base}/cut.pth') + '.*delete'):
        CheckpointLoader.load_checkpoint(f'{base}/cut.pth')


def _closed_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_download_failure_names_the_url(served, hub_dir):
    _, base = served
    for url in (f'{base}/missing.pth', f'{base}/cut-off.pth',
                f'http://127.0.0.1:{_closed_port()}/x.pth'):
        with pytest.raises(CheckpointDownloadError, match=re.escape(url)):
            CheckpointLoader.load_checkpoint(url)
    leftovers = os.listdir(hub_dir / 'checkpoints') if (hub_dir / 'checkpoints').exists() else []
    assert leftovers == []


def test_model_zoo_names_resolve_to_safe_downloads(served, tmp_path, monkeypatch):
    folder, base = served
    state = _benign(folder / 'good.pth')
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in state.items()}, 'head.x': 1},
               folder / 'cls.pth')
    _malicious(folder / 'evil.pth', 'system', tmp_path / 'pwned')
    home = tmp_path / 'mmhome'
    (home / 'zoo').mkdir(parents=True)
    _benign(home / 'zoo' / 'local.pth')
    monkeypatch.setenv('MMENGINE_HOME', str(home))
    monkeypatch.setattr(mm_checkpoint, 'get_torchvision_models',
                        lambda: {'net': f'{base}/good.pth', 'bad': f'{base}/evil.pth'})
    monkeypatch.setattr(mm_checkpoint, 'get_external_models',
                        lambda: {'net': f'{base}/good.pth', 'local': 'zoo/local.pth'})
    monkeypatch.setattr(mm_checkpoint, 'get_deprecated_model_names', lambda: {'old': 'net'})
    monkeypatch.setattr(mm_checkpoint, 'get_mmcls_models', lambda: {'cls': f'{base}/cls.pth'})

    for name in ('torchvision://net', 'modelzoo://net', 'open-mmlab://net', 'openmmlab://old',
                 'open-mmlab://local'):
        ckpt = CheckpointLoader.load_checkpoint(name)
        assert torch.equal(ckpt['state_dict']['fc.weight'], state['fc.weight']), name
    ckpt = CheckpointLoader.load_checkpoint('mmcls://cls')
    assert sorted(ckpt['state_dict']) == sorted(state)
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        CheckpointLoader.load_checkpoint('torchvision://bad')
    with pytest.raises(KeyError, match='nope'):
        CheckpointLoader.load_checkpoint('torchvision://nope')
    assert not (tmp_path / 'pwned').exists()


def test_pavi_and_s3_bytes_are_read_safely(tmp_path, monkeypatch):
    good, evil, marker = tmp_path / 'good.pth', tmp_path / 'evil.pth', tmp_path / 'pwned'
    state = _benign(good)
    _malicious(evil, 'system', marker)

    class Model:

        def __init__(self, path):
            self.name, self.path = path.name, path

        def download(self, target):
            with open(target, 'wb') as f:
                f.write(self.path.read_bytes())

    files = {'good': good, 'evil': evil}
    modelcloud = types.SimpleNamespace(get=lambda key: Model(files[key]))
    monkeypatch.setitem(sys.modules, 'pavi', types.SimpleNamespace(modelcloud=modelcloud))
    backend = types.SimpleNamespace(
        get=lambda url: files[url.rsplit('/', 1)[1][:-len('.pth')]].read_bytes())
    monkeypatch.setattr('mmengine.fileio.get_file_backend', lambda *a, **k: backend)

    for good_name, evil_name in (('pavi://good', 'pavi://evil'),
                                 ('s3://bucket/good.pth', 'open-mmlab:s3://bucket/evil.pth')):
        ckpt = CheckpointLoader.load_checkpoint(good_name)
        assert torch.equal(ckpt['state_dict']['fc.weight'], state['fc.weight'])
        with pytest.raises(UnsafeCheckpointError, match=re.escape(evil_name)):
            CheckpointLoader.load_checkpoint(evil_name)
    assert not marker.exists()


def test_unknown_scheme_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(CheckpointLoader, '_schemes', dict(CheckpointLoader._schemes))

    def load_from_weird(filename, map_location=None):
        return torch.load(filename[len('weird://'):], weights_only=False)

    CheckpointLoader.register_scheme(prefixes='weird://', loader=load_from_weird)
    install_mmengine_loader()
    marker = tmp_path / 'pwned'
    _malicious(tmp_path / 'evil.pth', 'system', marker)
    with pytest.raises(UnsupportedCheckpointScheme, match='weird://'):
        CheckpointLoader.load_checkpoint(f'weird://{tmp_path}/evil.pth')
    assert not marker.exists()
    assert set(REMOTE_LOADERS) <= set(CheckpointLoader._schemes)
