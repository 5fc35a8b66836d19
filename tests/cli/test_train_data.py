"""``customkpt train --data``: the options, the written config that trains
again, and one whole run on the demo data."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from customkpt import cli
from customkpt.cli import train
from customkpt.demo import make_self5_dataset
from customkpt.engine.config import load_config

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / 'configs' / 'hrnet_self5_cpu.py')
pytestmark = pytest.mark.filterwarnings('ignore::customkpt.meta.errors.KeypointMetaWarning')


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    return make_self5_dataset(tmp_path_factory.mktemp('demo') / 'self5', num_train=8, num_val=3,
                              with_video=False, progress=False)


@pytest.mark.parametrize('argv, message', [
    ([], 'one of the arguments config --data is required'),
    ([CONFIG, '--data', 'x'], 'argument --data: not allowed with argument config'),
    ([CONFIG, '--model', 'hrnet-cpu', '--epochs', '3'],
     '--model, --epochs only go with --data'),
    (['--data', 'x', '--launcher', 'pytorch'], '--data runs in one process'),
    (['--data', 'x', '--epochs', '0'], '--epochs must be at least 1, got 0'),
    (['--data', 'x', '--model', 'resnet'], "invalid choice: 'resnet'"),
])
def test_config_and_data_exclude_each_other_and_data_options_need_data(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        train.parse_args(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_config_alone_still_trains_as_before():
    args = train.parse_args([CONFIG])
    assert (args.config, args.data) == (CONFIG, None)
    assert train.build_config(args).work_dir.endswith('work_dirs/hrnet_self5_cpu')


def test_bad_data_is_one_error_line(tmp_path, capsys):
    assert cli.main(['train', '--data', str(tmp_path / 'nothing')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f'customkpt train: error: --data {tmp_path / "nothing"}: no such file or '
                   'folder']


def test_prepare_only_writes_a_config_that_customkpt_train_takes_again(demo, tmp_path, capsys):
    work = tmp_path / 'run'
    assert cli.main(['train', '--data', str(demo), '--model', 'rtmpose-t', '--work-dir',
                     str(work), '--prepare-only', '--cfg-options', 'val_interval=2']) == 0
    out = capsys.readouterr().out
    assert f'[train --data] config: {work / "config.py"}' in out
    assert f'prepared; train with: customkpt train {work / "config.py"}' in out
    assert not list(work.glob('*.pth'))
    again = train.build_config(train.parse_args([str(work / 'config.py')]))
    assert again.work_dir == str(work) and again.train_cfg.val_interval == 2
    assert again.train_dataloader.dataset.ann_file == str(demo.resolve() / 'train_coco_joint.json')


def test_one_command_trains_and_evaluates_the_demo_data(demo, tmp_path):
    """Through the script, in its own process and one thread."""
    work = tmp_path / 'run'
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, str(ROOT / 'tools' / 'train.py'), '--data', str(demo),
                          '--model', 'hrnet-cpu', '--epochs', '1', '--work-dir', str(work)],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads((work / 'metrics.json').read_text())
    assert Path(summary['checkpoint']) == work / 'best_AUC_epoch_1.pth'
    assert {'PCK', 'coco/AP', 'EPE'} <= set(summary['metrics'])
    assert 0 <= summary['metrics']['PCK'] <= 1
    said = out.stdout
    assert f'[train --data] config:      {work / "config.py"}  (again: customkpt train ' in said
    assert f'[train --data] checkpoints: {work} (best: best_AUC_epoch_1.pth)' in said
    assert f'[train --data] metrics:     {work / "metrics.json"}  (PCK ' in said
    assert f'[train --data] logs:        {work}/' in said
    cfg = load_config(str(work / 'config.py'))
    assert cfg.train_cfg.max_epochs == 1 and cfg.work_dir == str(work)
    # the Runner's resolved dump went beside it, not over the editable file
    assert "flip_pairs='${flip_pairs}'" in (work / 'config.py').read_text()
    snapshots = [p for p in work.glob('*.py') if p.name != 'config.py']
    assert len(snapshots) == 1 and '${' not in snapshots[0].read_text()
    assert list((work / 'eval').glob('*/*.log'))  # the evaluation logged apart
