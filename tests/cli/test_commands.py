"""The ``customkpt`` command: dispatch, help of every subcommand, console
script, ``python -m customkpt.cli`` and the ``tools/*.py`` scripts."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from customkpt import cli

ROOT = Path(__file__).resolve().parents[2]
#: tools/<script>.py -> the subcommand it runs.
SCRIPTS = {'train': 'train', 'test': 'test', 'convert_dataset': 'convert',
           'check_dataset': 'check', 'browse_dataset': 'browse', 'demo_video': 'video',
           'export_model': 'export', 'publish_model': 'publish',
           'convert_weights': 'convert-weights', 'make_demo_dataset': 'make-demo',
           'plot_curves': 'plot', 'main_job': 'main-job', 'estimate_sigmas': 'sigmas',
           'coco_to_dlc': 'to-dlc', 'find_outliers': 'outliers',
           'merge_labels': 'merge-labels', 'detect': 'detect'}


def test_every_command_has_a_module_with_main():
    assert set(SCRIPTS.values()) == set(cli.COMMANDS)
    for name, (module, summary) in cli.COMMANDS.items():
        assert callable(importlib.import_module(f'customkpt.cli.{module}').main), name
        assert summary


@pytest.mark.parametrize('command', sorted(cli.COMMANDS))
def test_help_has_description_and_examples(command, capsys):
    module = importlib.import_module(f'customkpt.cli.{cli.COMMANDS[command][0]}')
    with pytest.raises(SystemExit) as info:
        module.parse_args(['--help'])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f'usage: customkpt {command} ')
    usage, description = text.split('\n\n')[:2]
    assert description.strip() and not description.startswith(('positional', 'options'))
    examples = text[text.index('\nexamples:\n'):]
    assert f'  customkpt {command}' in examples or 'tools/' in examples


#: Run in a fresh interpreter: ``customkpt COMMAND --help`` with every import of
#: torch refused and recorded (with the customkpt lines that led to it).
HELP_PROBE = """
import contextlib, io, json, sys, traceback

class NoTorch:
    asked = []

    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] != 'torch':
            return None
        ours = [f'{f.filename.split("/customkpt/")[-1]}:{f.lineno}'
                for f in traceback.extract_stack() if '/customkpt/' in f.filename]
        self.asked.append(' > '.join(ours) or name)
        raise ModuleNotFoundError(f'no torch for --help: {name}')

sys.meta_path.insert(0, NoTorch())
from customkpt import cli
out, code = io.StringIO(), None
with contextlib.redirect_stdout(out):
    try:
        cli.main([sys.argv[1], '--help'])
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:
        code = repr(exc)
print(json.dumps(dict(code=code, usage=out.getvalue()[:80], torch=NoTorch.asked[:1])))
"""


@pytest.mark.parametrize('command', sorted(cli.COMMANDS))
def test_help_loads_no_torch(command):
    res = subprocess.run([sys.executable, '-c', HELP_PROBE, command], capture_output=True,
                         text=True, timeout=120, cwd=str(ROOT))
    assert res.returncode == 0, res.stderr[-3000:]
    said = json.loads(res.stdout.splitlines()[-1])
    assert said['torch'] == [], f'{command} --help imports torch from {said["torch"][0]}'
    assert said['code'] == 0 and said['usage'].startswith(f'usage: customkpt {command} ')


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(['--help'])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for command, (_, summary) in cli.COMMANDS.items():
        assert f'  {command}' in text and summary in text


def test_dispatch_passes_arguments_and_exit_status(tmp_path, capsys):
    log = tmp_path / 'run' / '20240101_000000' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    log.write_text(json.dumps({'loss': 1.0, 'step': 1}) + '\n' +
                   json.dumps({'loss': 0.5, 'step': 2}))
    assert cli.main(['plot', str(tmp_path / 'run'), '--out', str(tmp_path / 'c.png')]) == 0
    assert (tmp_path / 'c.png').is_file() and 'wrote' in capsys.readouterr().out
    assert cli.main(['plot', str(tmp_path / 'run'), '--keys', 'nope']) == 2
    with pytest.raises(SystemExit) as info:
        cli.main(['no-such-command'])
    assert info.value.code == 2
    assert 'no-such-command' in capsys.readouterr().err


def test_console_script_and_module_run():
    script = Path(sys.executable).with_name('customkpt')
    commands = [[sys.executable, '-m', 'customkpt.cli', '--help']]
    if script.is_file():
        commands.append([str(script), '--help'])
    for cmd in commands:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=str(ROOT))
        assert res.returncode == 0, res.stderr
        assert 'convert-weights' in res.stdout and 'main-job' in res.stdout
    res = subprocess.run([sys.executable, '-m', 'customkpt.cli', '--version'],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.startswith('customkpt ')


def test_tools_scripts_run_their_command():
    """``python tools/train.py --help`` as a real script, and every other
    script run as ``__main__`` in one fresh interpreter."""
    res = subprocess.run([sys.executable, str(ROOT / 'tools' / 'train.py'), '--help'],
                         capture_output=True, text=True, timeout=120, cwd=str(ROOT))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith('usage: customkpt train ')
    probe = textwrap.dedent(f"""
        import contextlib, io, runpy, sys
        for script, command in {SCRIPTS!r}.items():
            sys.argv = [script + '.py', '--help']
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                try:
                    runpy.run_path({str(ROOT / 'tools')!r} + '/' + script + '.py',
                                   run_name='__main__')
                except SystemExit as exc:
                    assert exc.code == 0, (script, exc.code)
            assert out.getvalue().startswith('usage: customkpt ' + command + ' '), script
            print('ok', script)
    """)
    res = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True,
                         timeout=300, cwd=str(ROOT))
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.split() == [w for s in SCRIPTS for w in ('ok', s)]


def test_tools_scripts_hold_no_logic():
    for script in SCRIPTS:
        text = (ROOT / 'tools' / f'{script}.py').read_text()
        code = [line for line in text.split('"""')[-1].splitlines() if line.strip()]
        assert 'sys.path' not in text, script
        assert code == ['from customkpt.cli import run', "if __name__ == '__main__':",
                        f'    raise SystemExit(run({SCRIPTS[script]!r}))'], (script, code)
