"""customkpt export: writes the ONNX model and sidecar; names missing files."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from customkpt.apis import init_model
from customkpt.cli import export
from customkpt.deploy import OnnxPredictor
from customkpt.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / 'configs' / 'hrnet_self5_cpu.py')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    model = init_model(CONFIG)
    path = tmp_path_factory.mktemp('ckpt') / 'tiny.pth'
    meta = dict(model.dataset_meta, keypoint_names=['a', 'b', 'c', 'd', 'e'])
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=meta)), path)
    return path


def test_export_with_options(checkpoint, tmp_path, capsys):
    result = export.main([CONFIG, str(checkpoint), '--out', str(tmp_path), '--flip-test',
                           '--torchscript', '--input-size', '64', '96', '--opset', '16'])
    printed = capsys.readouterr().out
    for key in ('onnx', 'sidecar', 'torchscript'):
        assert Path(result[key]).is_file() and f'wrote {result[key]}' in printed
    assert result['onnx'] == str(tmp_path / 'hrnet_self5_cpu.onnx')
    side = json.loads((tmp_path / 'hrnet_self5_cpu.json').read_text())
    assert side['input_size'] == [64, 96] and side['opset'] == 16
    assert side['flip_test_baked'] is True
    # the checkpoint's keypoint definition wins over the config's
    assert side['meta']['keypoint_names'] == ['a', 'b', 'c', 'd', 'e']
    assert OnnxPredictor(result['onnx'])(np.zeros((60, 80, 3), np.uint8))['keypoints'].shape \
        == (1, 5, 2)


def test_default_out_is_the_checkpoint_folder(checkpoint):
    result = export.main([CONFIG, str(checkpoint), '--static-batch', '--name', 'fixed'])
    assert result['onnx'] == str(checkpoint.parent / 'fixed.onnx')
    assert result['torchscript'] is None and result['info']['dynamic_batch'] is False


def test_missing_files_named(checkpoint, tmp_path):
    with pytest.raises(UserError, match='config file .*nope.py'):
        export.main([str(tmp_path / 'nope.py'), str(checkpoint)])
    with pytest.raises(UserError, match='checkpoint file .*nope.pth'):
        export.main([CONFIG, str(tmp_path / 'nope.pth')])


def test_command_line(checkpoint, tmp_path):
    run = subprocess.run([sys.executable, '-m', 'customkpt.cli', 'export', CONFIG,
                          str(checkpoint), '--out', str(tmp_path)],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert f"wrote {tmp_path / 'hrnet_self5_cpu.onnx'}" in run.stdout
