"""customkpt publish: weights + meta only, hashed names, safetensors."""
import hashlib
import json
from pathlib import Path

import pytest
import torch
from mmengine.logging import HistoryBuffer

from customkpt.apis import init_model
from customkpt.checkpoint import safe_load
from customkpt.cli import publish
from customkpt.meta import KeypointMeta
from customkpt.models.pretrained import load_pretrained, read_checkpoint
from customkpt.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
CPU_CONFIG = ROOT / 'configs' / 'hrnet_self5_cpu.py'
NAMES = ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot']
META = KeypointMeta.from_config(dict(keypoint_names=NAMES, flip_pairs=[[1, 2], [3, 4]],
                                     sigmas=[0.026, 0.062, 0.062, 0.089, 0.089])).to_dict()


@pytest.fixture
def run_ckpt(tmp_path):
    """A checkpoint shaped like the Runner's, for the CPU self5 model."""
    torch.manual_seed(0)
    model = MODELS.build(dict(type='TopdownEstimator', backbone=dict(type='HRNet', arch='tiny'),
                              head=dict(type='HeatmapHead', in_channels=16, out_channels=5)))
    model.init_weights()
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.zeros(1, 3, 64, 48)).sum().backward()
    optim.step()
    buf = HistoryBuffer()
    buf.update(0.5)
    ckpt = dict(
        meta=dict(dataset_meta=META, epoch=3, iter=30, seed=1,
                  hook_msgs=dict(last_ckpt='/x/epoch_3.pth')),
        state_dict=model.state_dict(), optimizer=optim.state_dict(),
        param_schedulers=[dict(last_epoch=3)], message_hub=dict(log_scalars={'loss': buf}))
    path = tmp_path / 'epoch_3.pth'
    torch.save(ckpt, path)
    return path, model


def test_publish_strips_and_hashes(tmp_path, run_ckpt, capsys):
    path, model = run_ckpt
    out_dir = tmp_path / 'release'
    out_dir.mkdir()
    assert publish.main([str(path), str(out_dir)]) == 0
    printed = capsys.readouterr().out.split()
    assert len(printed) == 1
    published = Path(printed[0])
    digest = hashlib.sha256(published.read_bytes()).hexdigest()
    assert published.name == f'epoch_3-{digest[:8]}.pth'
    assert published.parent == out_dir
    ckpt = safe_load(published)
    assert set(ckpt) == {'state_dict', 'meta'}
    assert ckpt['meta'] == dict(dataset_meta=META, epoch=3, iter=30, seed=1)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in ckpt['state_dict'].items())
    assert published.stat().st_size < path.stat().st_size
    # init_model reads it, with the keypoint names from the checkpoint
    restored = init_model(str(CPU_CONFIG), str(published))
    assert restored.dataset_meta['keypoint_names'] == NAMES
    assert torch.equal(restored.head.final_layer.weight, model.head.final_layer.weight)


def test_publish_with_prefix_and_safetensors(tmp_path, run_ckpt, capsys):
    pytest.importorskip('safetensors')
    path, model = run_ckpt
    written = publish.publish(str(path), str(tmp_path / 'rel' / 'self5_tiny.pth'),
                                             safetensors=True)
    pth, st, sidecar = written
    assert pth.name.startswith('self5_tiny-') and pth.suffix == '.pth'
    digest = hashlib.sha256(st.read_bytes()).hexdigest()
    assert st.name == f'self5_tiny-{digest[:8]}.safetensors'
    assert sidecar.name == f'self5_tiny-{digest[:8]}.meta.json'
    assert json.loads(sidecar.read_text())['dataset_meta']['keypoint_names'] == NAMES
    state, meta = read_checkpoint(st)
    assert meta['epoch'] == 3 and meta['dataset_meta']['keypoint_names'] == NAMES
    for key, value in model.state_dict().items():
        assert torch.equal(state[key], value), key
    # the meta also comes from the sidecar alone when the header has none
    from safetensors.torch import save_file
    bare = tmp_path / 'rel' / 'bare.safetensors'
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(bare))
    (tmp_path / 'rel' / 'bare.meta.json').write_text(json.dumps(dict(dataset_meta=dict(
        keypoint_names=NAMES))))
    _, meta = read_checkpoint(bare)
    assert meta['dataset_meta']['keypoint_names'] == NAMES
    # and fine-tuning starts from it by name
    target = MODELS.build(dict(type='TopdownEstimator', backbone=dict(type='HRNet', arch='tiny'),
                               head=dict(type='HeatmapHead', in_channels=16, out_channels=2),
                               metainfo=dict(keypoint_names=['right_foot', 'HEAD'])))
    report = load_pretrained(target, str(st))
    assert [r[:2] for r in report.remapped] == [(0, 4), (1, 0)]
    assert torch.equal(target.head.final_layer.weight[0], model.head.final_layer.weight[4])


def test_publish_refuses_bad_input(tmp_path):
    empty = tmp_path / 'odd.pth'
    torch.save(dict(meta={}, optimizer={}), empty)
    with pytest.raises(ValueError, match='odd.pth: no state_dict'):
        publish.publish(str(empty), str(tmp_path))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        publish.publish(str(tmp_path / 'missing.pth'), str(tmp_path))


def test_publish_names_a_broken_safetensors_file_and_drops_file_references(tmp_path):
    from customkpt.checkpoint import CheckpointReadError
    bad = tmp_path / 'bad.safetensors'
    bad.write_bytes((10**9).to_bytes(8, 'little') + b'{}')  # declares a 1 GB header
    with pytest.raises(CheckpointReadError, match='bad.safetensors'):
        publish.publish(str(bad), str(tmp_path / 'out'))
    src = tmp_path / 'refers.pth'
    torch.save(dict(state_dict={'w': torch.zeros(2)},
                    meta=dict(dataset_meta=dict(keypoint_names=['a', 'b'],
                                                from_file='/somewhere/evil.py'))), src)
    (written,) = publish.publish(str(src), str(tmp_path / 'out'))
    released = safe_load(written)['meta']['dataset_meta']
    assert released == dict(keypoint_names=['a', 'b'])
