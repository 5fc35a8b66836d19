"""One error path for every command line: a user's error is one line on
stderr and exit status 2; ``--debug`` shows the traceback; bugs keep theirs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from customkpt import cli
from customkpt.errors import USER_ERRORS, UserError

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / 'configs' / 'hrnet_self5_cpu.py')


def _error_lines(capsys) -> list[str]:
    captured = capsys.readouterr()
    return [line for line in captured.err.splitlines() if line.strip()]


@pytest.mark.parametrize('command, args', [
    ('train', []), ('test', ['x.pth']), ('browse', []), ('export', ['x.pth'])])
def test_a_missing_config_is_one_line(command, args, tmp_path, capsys):
    nope = str(tmp_path / 'nope.py')
    assert cli.main([command, nope, *args]) == 2
    lines = _error_lines(capsys)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f'customkpt {command}: error: ')
    assert 'config file' in lines[0] and nope in lines[0] and 'does not exist' in lines[0]


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    nope = str(tmp_path / 'nope.py')
    with pytest.raises(FileNotFoundError, match='nope.py'):
        cli.main(['--debug', 'train', nope])
    with pytest.raises(FileNotFoundError, match='nope.py'):
        cli.run('train', [nope, '--debug'])
    monkeypatch.setenv('CUSTOMKPT_DEBUG', '1')
    with pytest.raises(FileNotFoundError, match='nope.py'):
        cli.main(['train', nope])


def test_a_bug_keeps_its_traceback_and_a_user_error_does_not(monkeypatch, capsys):
    from customkpt.cli import plot

    def broken(argv):
        raise RuntimeError('a bug')
    monkeypatch.setattr(plot, 'main', broken)
    with pytest.raises(RuntimeError, match='a bug'):
        cli.main(['plot', 'x'])

    def refusing(argv):
        raise UserError('the value is wrong\nsecond line kept')
    monkeypatch.setattr(plot, 'main', refusing)
    assert cli.main(['plot', 'x']) == 2
    assert _error_lines(capsys) == ['customkpt plot: error: the value is wrong',
                                    'second line kept']


def test_every_listed_error_class_exists():
    import importlib
    for module, name in USER_ERRORS:
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, BaseException), (module, name)


def _checkpoint(path: Path, cfg_path: str = CONFIG) -> Path:
    from customkpt.engine.config import load_config
    from customkpt.engine.model_fit import build_bare_model
    model = build_bare_model(load_config(cfg_path))
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return path


def test_test_checks_the_checkpoint_before_the_runner(tmp_path, capsys):
    assert cli.main(['test', CONFIG, str(tmp_path / 'missing.pth')]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == (f'customkpt test: error: checkpoint not found: '
                                    f'{tmp_path / "missing.pth"}')
    assert captured.out == ''  # no environment, no config dump
    good = _checkpoint(tmp_path / 'good.pth')
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(good.read_bytes()[:4000])
    assert cli.main(['test', CONFIG, str(cut)]) == 2
    lines = _error_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith('customkpt test: error: cannot read '
                                                   f'checkpoint {cut}: truncated')


def test_an_unsafe_checkpoint_is_one_line(tmp_path, capsys):
    evil = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, hook=print), evil)  # a global that is not data
    assert cli.main(['export', CONFIG, str(evil)]) == 2
    lines = _error_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(
        f'customkpt export: error: refusing to load checkpoint {evil}')


def test_tools_script_goes_through_the_same_path(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / 'tools' / 'test.py'), CONFIG,
                          str(tmp_path / 'missing.pth')], capture_output=True, text=True,
                         timeout=300, cwd=str(ROOT))
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        f'customkpt test: error: checkpoint not found: {tmp_path / "missing.pth"}']


def test_positionals_of_test_and_export_have_help(capsys):
    from customkpt.cli import export, test
    for module in (test, export):
        with pytest.raises(SystemExit):
            module.parse_args(['--help'])
        text = capsys.readouterr().out
        positional = text[text.index('positional arguments:'):text.index('options:')]
        assert 'config file' in positional and 'the checkpoint to' in positional
