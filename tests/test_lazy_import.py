"""The numpy-only parts of customkpt import without torch and mmengine."""
from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCK = "import sys\nsys.modules['torch'] = None\nsys.modules['mmengine'] = None\n"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', BLOCK + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120)


def test_light_packages_import_without_torch_or_mmengine():
    res = _run("""
        import customkpt
        import customkpt.core, customkpt.codecs, customkpt.deploy
        import customkpt.converters, customkpt.meta
        from customkpt.deploy import OnnxPredictor
        print(customkpt.__version__, OnnxPredictor.__name__)
    """)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'OnnxPredictor' in res.stdout


def test_codec_builds_and_encodes_without_torch():
    res = _run("""
        import numpy as np
        import customkpt.codecs
        codec = customkpt.codecs.build_codec(dict(type='MSRAHeatmap', input_size=(48, 64),
                                                  heatmap_size=(12, 16), sigma=2.0))
        enc = codec.encode(np.array([[[24.0, 32.0]]], np.float32), np.ones((1, 1), np.float32))
        print(type(codec).__name__, enc['heatmaps'].shape, codec.to_dict()['type'])
    """)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'MSRAHeatmap (1, 16, 12) MSRAHeatmap' in res.stdout


def test_package_attributes_load_on_first_use():
    res = _run("""
        import customkpt
        assert 'customkpt.converters' not in sys.modules
        module = customkpt.converters
        assert module is sys.modules['customkpt.converters']
        assert 'converters' in dir(customkpt)
        try:
            customkpt.no_such_thing
        except AttributeError as exc:
            print('AttributeError', exc)
    """)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "AttributeError module 'customkpt' has no attribute 'no_such_thing'" in res.stdout


def test_light_commands_start_without_torch():
    res = _run("""
        import customkpt.cli
        from customkpt.cli import convert
        try:
            customkpt.cli.main(['--help'])
        except SystemExit as exc:
            assert exc.code == 0
        print('torch' in sys.modules and sys.modules['torch'] is not None)
    """)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().endswith('False')


def test_registry_installs_the_safe_checkpoint_loader():
    code = """
        import sys
        import customkpt
        from mmengine.runner.checkpoint import CheckpointLoader
        assert 'customkpt.registry' not in sys.modules
        before = CheckpointLoader._schemes.get('')
        import customkpt.registry
        from customkpt.checkpoint import load_local
        print(before is load_local, CheckpointLoader._schemes[''] is load_local)
    """
    res = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.split() == ['False', 'True']
