"""tools/convert_dataset.py end to end, in a fresh interpreter from the repo root."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from customkpt.converters import ConversionError
from customkpt.meta import KeypointMeta

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL = REPO_ROOT / 'tools' / 'convert_dataset.py'


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_mouse_project_val_every_7(mouse_project, tmp_path):
    out = tmp_path / 'mouse'
    proc = _run('dlc', mouse_project, out, '--val-every', '7', '--no-progress')
    assert proc.returncode == 0, proc.stderr
    train = json.loads((out / 'train.json').read_text())
    val = json.loads((out / 'val.json').read_text())
    assert (len(train['images']), len(val['images'])) == (99, 17)
    for split in (train, val):
        meta = KeypointMeta.from_coco_category(split['categories'][0], source='converted')
        assert meta.keypoint_names == ['snout', 'leftear', 'rightear', 'tailbase']
        assert meta.flip_pairs == [[1, 2]] and meta.flip_indices == [0, 2, 1, 3]
        for img in split['images']:
            assert (mouse_project / img['file_name']).is_file()
    assert not (out / 'all.json').exists()
    assert 'train: 99 images' in proc.stdout and 'val: 17 images' in proc.stdout
    assert str(mouse_project.resolve()) in proc.stdout  # the image root is printed
    assert 'leftear   116' in proc.stdout.replace('\t', ' ')


def _tool_module():
    """The tool as a module, for in-process runs of its ``main``."""
    from customkpt.cli import convert
    return convert


def test_cli_no_split_and_errors_in_process(mouse_project, tmp_path, capsys):
    main = _tool_module().main
    assert main(['dlc', str(mouse_project), str(tmp_path / 'all'), '--no-split',
                 '--no-progress']) == 0
    assert len(json.loads((tmp_path / 'all' / 'all.json').read_text())['images']) == 116
    assert 'all: 116 images' in capsys.readouterr().out
    with pytest.raises(ConversionError, match='one folder'):
        main(['dlc', str(mouse_project), str(tmp_path / 'x'), '--split-by', 'folder',
              '--no-progress'])
    with pytest.raises(ConversionError, match='--images-dir is not used by dlc'):
        main(['dlc', str(mouse_project), str(tmp_path / 'x'), '--images-dir', str(tmp_path)])
    with pytest.raises(ConversionError, match='N >= 2'):
        main(['labelme', str(tmp_path), str(tmp_path / 'x'), '--val-every', '1'])
    with pytest.raises(SystemExit) as info:  # mutually exclusive split options
        main(['dlc', str(mouse_project), str(tmp_path / 'x'), '--val-every', '3',
              '--no-split'])
    assert info.value.code == 2
    assert not (tmp_path / 'x').exists()


def test_cli_bad_csv_cell(make_dlc_project, tmp_path):
    proj = make_dlc_project({'v': [('f0.png', {'a': (1.0, 2.0)}), ('f1.png', {'a': (3, 4)})]},
                            ['a'])
    path = proj / 'labeled-data' / 'v' / 'CollectedData_tester.csv'
    path.write_text(path.read_text().replace('4.0', '4.0x'))
    proc = _run('dlc', proj, tmp_path / 'out', '--no-progress')
    assert proc.returncode == 2  # one line on stderr through the commands' error path
    assert f"{path}: line 5, column 3 (a y): '4.0x' is not a number" in proc.stderr
    assert 'Traceback' not in proc.stderr
