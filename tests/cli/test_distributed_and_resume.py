"""Training through tools/train.py: two processes with torchrun (gloo, CPU),
and a resumed run that ends where an uninterrupted one ends."""
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from customkpt.checkpoint import safe_load
from customkpt.demo import make_self5_dataset

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def small_run(tmp_path_factory):
    """A tiny self5 set and a config that trains on it without randomness
    (so a resumed run can match an uninterrupted one exactly)."""
    root = tmp_path_factory.mktemp('dist')
    data = make_self5_dataset(root / 'data' / 'self5', num_train=16, num_val=6,
                              with_video=False, progress=False)
    cfg = root / 'tiny.py'
    cfg.write_text(textwrap.dedent(f"""
        _base_ = [{str(ROOT / 'configs' / 'hrnet_self5_cpu.py')!r}]
        data_root = {str(data) + '/'!r}
        max_epochs = 2
        plain = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
                 dict(type='TopdownAffine', input_size=(48, 64)),
                 dict(type='GenerateTarget', encoder=dict(
                     type='MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=2)),
                 dict(type='PackPoseInputs')]
        train_size = (48, 64)   # the model's codec: MSRAHeatmap, heatmaps (12, 16)
        sigma = 2
        train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                                dataset=dict(data_root=data_root, pipeline=plain))
        val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                              dataset=dict(data_root=data_root, pipeline=plain[:3] + plain[4:]))
        test_dataloader = val_dataloader
        val_evaluator = [dict(type='CocoKeypointMetric', ann_file=data_root + 'val_coco_joint.json'),
                         dict(type='PCKAccuracy')]
        test_evaluator = val_evaluator
        train_cfg = dict(max_epochs=max_epochs, val_interval=1)
        param_scheduler = [dict(type='MultiStepLR', milestones=[1], gamma=0.5, by_epoch=True)]
        default_hooks = dict(checkpoint=dict(interval=1), logger=dict(interval=1))
    """))
    val = json.loads((data / 'val_coco_joint.json').read_text())
    labelled = sum(v > 0 for a in val['annotations'] for v in a['keypoints'][2::3])
    return cfg, labelled


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _env():
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    env.pop('LOCAL_RANK', None)
    return env


def test_two_process_training_writes_one_run_and_gathers_metrics(small_run, tmp_path):
    cfg, labelled = small_run
    work = tmp_path / 'w'
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
           '--master_addr', '127.0.0.1', '--master_port', str(_free_port()),
           str(ROOT / 'tools' / 'train.py'), str(cfg), '--launcher', 'pytorch',
           '--work-dir', str(work)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=600)
    assert out.returncode == 0, out.stderr[-4000:]
    assert sorted(p.name for p in work.glob('epoch_*.pth')) == ['epoch_1.pth', 'epoch_2.pth']
    assert len(list(work.glob('*/vis_data/scalars.json'))) == 1  # rank 0 logs alone
    log = next(work.glob('*/*.log')).read_text()
    assert 'Distributed training: True' in log and 'GPU number: 2' in log  # 2 processes
    # The metric saw every validation point, gathered from both ranks.
    assert f'(PCK over {labelled} points)' in log


def test_resumed_run_matches_uninterrupted_run(small_run, tmp_path):
    cfg, _ = small_run
    train = [sys.executable, str(ROOT / 'tools' / 'train.py'), str(cfg)]
    full = subprocess.run(train + ['--work-dir', str(tmp_path / 'full')],
                          capture_output=True, text=True, env=_env(), timeout=600)
    assert full.returncode == 0, full.stderr[-3000:]
    # The interrupted run: same config, stopped after its first epoch's
    # checkpoint (a copy of the full run's first epoch stands in for it).
    part = tmp_path / 'part'
    part.mkdir()
    (part / 'epoch_1.pth').write_bytes((tmp_path / 'full' / 'epoch_1.pth').read_bytes())
    (part / 'last_checkpoint').write_text(str(part / 'epoch_1.pth'))
    resumed = subprocess.run(train + ['--work-dir', str(part), '--resume'],
                             capture_output=True, text=True, env=_env(), timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert re.search(r'resumed epoch: 1', resumed.stdout + resumed.stderr)
    a = safe_load(tmp_path / 'full' / 'epoch_2.pth')['state_dict']   # weights_only
    b = safe_load(part / 'epoch_2.pth')['state_dict']
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=1e-4, atol=1e-5)
