"""customkpt train and customkpt test turn their options into the right config."""
from pathlib import Path

import pytest
import torch

from customkpt.cli import export, test, train
from customkpt.engine import optim_wrapper
from customkpt.errors import UserError

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


def _logged(monkeypatch) -> list[str]:
    import mmengine.logging
    lines: list[str] = []
    monkeypatch.setattr(mmengine.logging, 'print_log', lambda msg, **kw: lines.append(msg))
    return lines


def test_amp_without_gpu_is_bf16_on_a_cpu_with_native_bf16(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(torch.backends.cpu, 'get_cpu_capability', lambda: 'AVX512')
    monkeypatch.setattr(optim_wrapper, '_bf16_slowdown', lambda: 1.2)
    optim_wrapper.cpu_bf16_support.cache_clear()
    try:
        cfg = train.build_config(train.parse_args([CONFIG, '--amp']))
    finally:
        optim_wrapper.cpu_bf16_support.cache_clear()
    assert cfg.optim_wrapper.type == 'BF16OptimWrapper' and 'loss_scale' not in cfg.optim_wrapper


def test_amp_on_this_avx2_cpu_trains_in_float32_and_says_why(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    logged = _logged(monkeypatch)
    plain = train.build_config(train.parse_args([CONFIG])).optim_wrapper.get('type')
    cfg = train.build_config(train.parse_args([CONFIG, '--amp']))
    if torch.backends.cpu.get_cpu_capability() != 'AVX2':
        pytest.skip('this CPU is not AVX2-only')
    assert cfg.optim_wrapper.get('type') == plain != 'BF16OptimWrapper'
    assert [m for m in logged if m.startswith('--amp: training in float32 because this CPU '
                                              'has no native bfloat16 (AVX2 only)')]


def test_amp_on_a_cpu_whose_bf16_is_slow_trains_in_float32(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(torch.backends.cpu, 'get_cpu_capability', lambda: 'AVX512')
    monkeypatch.setattr(optim_wrapper, '_bf16_slowdown', lambda: 40.0)
    logged = _logged(monkeypatch)
    optim_wrapper.cpu_bf16_support.cache_clear()
    try:
        cfg = train.build_config(train.parse_args([CONFIG, '--amp']))
    finally:
        optim_wrapper.cpu_bf16_support.cache_clear()
    assert cfg.optim_wrapper.get('type') != 'BF16OptimWrapper'
    assert any('bfloat16 runs 40x slower than float32' in m for m in logged)


def test_auto_scale_lr_needs_a_base_batch(tmp_path):
    bare = tmp_path / 'bare.py'
    bare.write_text('optim_wrapper = dict(optimizer=dict(type="Adam", lr=1e-3))\n')
    with pytest.raises(UserError, match='base_batch_size'):
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


# ------------------------------------------- a checkpoint of another keypoint count
@pytest.fixture(scope='module')
def four_and_five(tmp_path_factory):
    """A four-point config and a five-point checkpoint (self5 head)."""
    from customkpt.engine.config import load_config
    from customkpt.engine.model_fit import build_bare_model
    tmp = tmp_path_factory.mktemp('four')
    base = str(ROOT / 'configs' / 'hrnet_self5_cpu.py')
    config = tmp / 'four.py'
    config.write_text(f"_base_ = [{base!r}]\nnum_joints = 4\n"
                      "keypoint_names = ['head', 'left_hand', 'right_hand', 'left_foot']\n"
                      "flip_pairs = [[1, 2]]\nskeleton = [[0, 1], [0, 2], [0, 3]]\n"
                      "sigmas = [0.026, 0.062, 0.062, 0.089]\n")
    ckpt = tmp / 'five.pth'
    torch.save(dict(state_dict=build_bare_model(load_config(base)).state_dict(), meta={}), ckpt)
    return str(config), str(ckpt)


def test_test_refuses_a_checkpoint_with_another_keypoint_count(four_and_five):
    from customkpt.engine.model_fit import KeypointCountError
    config, ckpt = four_and_five
    with pytest.raises(KeypointCountError, match='head is for 5 keypoints but the model has 4'):
        test.main([config, ckpt])


def test_train_load_from_and_resume_refuse_another_keypoint_count(four_and_five, tmp_path):
    from customkpt.engine.model_fit import KeypointCountError
    config, ckpt = four_and_five
    work = ['--work-dir', str(tmp_path)]
    with pytest.raises(KeypointCountError, match='5 keypoints but the model has 4'):
        train.main([config, *work, '--cfg-options', f'load_from={ckpt}'])
    with pytest.raises(KeypointCountError, match='5 keypoints but the model has 4'):
        train.main([config, *work, '--resume', ckpt])


def test_export_refuses_a_checkpoint_with_another_keypoint_count(four_and_five, tmp_path):
    from customkpt.engine.model_fit import KeypointCountError
    config, ckpt = four_and_five
    with pytest.raises(KeypointCountError, match='5 keypoints but the model has 4'):
        export.main([config, ckpt, '--out', str(tmp_path)])
    assert not list(tmp_path.iterdir())  # no sidecar naming 5 points for 4 heatmaps


def test_a_head_for_other_points_than_the_data_fails_before_the_first_step(tmp_path, capsys):
    """The definition comes from the annotation file (no metainfo in the
    config), so only the built dataset can tell."""
    from customkpt import cli
    from customkpt.demo import make_self5_dataset
    data = make_self5_dataset(tmp_path / 'self5', num_train=4, num_val=2, with_video=False,
                              progress=False)
    status = cli.main(['train', str(ROOT / 'configs' / 'hrnet_self5_cpu.py'), '--work-dir',
                       str(tmp_path / 'work'), '--cfg-options', 'model.head.out_channels=4',
                       'metainfo=None', 'train_cfg.max_epochs=1', f'data_root={data}/'])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == ('customkpt train: error: the model predicts 4 keypoints '
                   '(model.head.out_channels=4) but the train dataset defines 5: set '
                   'model.head.out_channels to 5 (or the num_joints knob)')
    assert not list(tmp_path.rglob('*.pth'))


def test_resume_from_a_weights_only_checkpoint_is_one_clear_error(tmp_path):
    from customkpt.engine.config import load_config
    from customkpt.engine.model_fit import build_bare_model
    from customkpt.errors import UserError
    config = str(ROOT / 'configs' / 'hrnet_self5_cpu.py')
    ckpt = tmp_path / 'weights.pth'
    torch.save(dict(state_dict=build_bare_model(load_config(config)).state_dict(), meta={}), ckpt)
    with pytest.raises(UserError, match="no training progress .*load_from="):
        train.main([config, '--work-dir', str(tmp_path / 'w'), '--resume', str(ckpt)])
