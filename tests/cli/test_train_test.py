"""customkpt train and customkpt test turn their options into the right config."""
from pathlib import Path

import pytest
import torch

from customkpt.cli import test, train

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / 'configs' / 'hrnet_self5.py')


def test_train_options(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = train.build_config(train.parse_args([CONFIG]))
    assert cfg.work_dir.endswith('work_dirs/hrnet_self5') and cfg.resume is False
    cfg = train.build_config(train.parse_args([
        CONFIG, '--work-dir', 'w', '--amp', '--auto-scale-lr', '--skip-invalid', '--resume',
        '--cfg-options', 'train_cfg.max_epochs=3']))
    assert cfg.work_dir == 'w' and cfg.train_cfg.max_epochs == 3
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.auto_scale_lr.enable
    assert cfg.resume is True and cfg.load_from is None  # newest checkpoint in the work dir
    assert cfg.train_dataloader.dataset.skip_invalid and cfg.val_dataloader.dataset.skip_invalid
    cfg = train.build_config(train.parse_args([CONFIG, '--resume', 'x/epoch_3.pth']))
    assert cfg.resume is True and cfg.load_from == 'x/epoch_3.pth'


def test_amp_without_gpu_is_bf16(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = train.build_config(train.parse_args([CONFIG, '--amp']))
    assert cfg.optim_wrapper.type == 'BF16OptimWrapper' and 'loss_scale' not in cfg.optim_wrapper


def test_auto_scale_lr_needs_a_base_batch(tmp_path):
    bare = tmp_path / 'bare.py'
    bare.write_text('optim_wrapper = dict(optimizer=dict(type="Adam", lr=1e-3))\n')
    with pytest.raises(SystemExit, match='base_batch_size'):
        train.build_config(train.parse_args([str(bare), '--auto-scale-lr']))


def test_test_options_out_and_show_dir(tmp_path):
    cfg = test.build_config(test.parse_args([CONFIG, 'ck.pth', '--out', 'p.json',
                                             '--show-dir', 'o', '--show-num', '5']))
    assert cfg.load_from == 'ck.pth' and cfg.resume is False
    coco = [m for m in cfg.test_evaluator if m.type == 'CocoKeypointMetric']
    assert coco[0].outfile == 'p.json'
    assert dict(type='PredictionDrawingHook', out_dir='o', max_images=5) in cfg.custom_hooks
    # A config without a COCO metric gets a format-only one for --out.
    pck_only = tmp_path / 'pck_only.py'
    pck_only.write_text(f"_base_ = [{CONFIG!r}]\ntest_evaluator = [dict(type='PCKAccuracy')]\n")
    cfg = test.build_config(test.parse_args([str(pck_only), 'ck.pth', '--out', 'p.json']))
    types = [(m.type, m.get('format_only', False)) for m in cfg.test_evaluator]
    assert types == [('PCKAccuracy', False), ('CocoKeypointMetric', True)]
