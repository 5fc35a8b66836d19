"""``customkpt.apis`` loads its names on first use: a light submodule imports
without torch, every exported name still resolves, and the box providers are
found by the registry without importing the package first."""
from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    res = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout.split()


def test_quickstart_and_outlier_scores_import_without_torch():
    said = _run("""
        import sys
        import customkpt.apis.quickstart, customkpt.apis.outlier_scores
        print(sorted(customkpt.apis.quickstart.RECIPES)[0], 'torch' in sys.modules)
    """)
    assert said[-1] == 'False'


def test_every_exported_name_resolves_to_its_module():
    said = _run("""
        import customkpt.apis as apis
        for name in apis.__all__:
            value = getattr(apis, name)
            assert value.__module__.startswith('customkpt.apis.'), (name, value.__module__)
            assert name in dir(apis)
        assert apis.boxes.FullFrameBoxes is apis.FullFrameBoxes  # submodules as attributes
        try:
            apis.no_such_name
        except AttributeError as exc:
            print('AttributeError', 'no_such_name' in str(exc))
    """)
    assert said == ['AttributeError', 'True']


def test_the_registry_finds_every_box_provider_by_itself():
    said = _run("""
        import sys
        from customkpt.registry import BOX_PROVIDERS
        assert 'customkpt.apis.boxes' not in sys.modules
        for name in ('FullFrameBoxes', 'BoxFileBoxes', 'KeypointTrackingBoxes',
                     'OnnxDetectorBoxes', 'OneStageDetectorBoxes'):
            print(BOX_PROVIDERS.get(name).__name__)
        print(type(BOX_PROVIDERS.build(dict(type='FullFrameBoxes'))).__name__)
    """)
    assert said == ['FullFrameBoxes', 'BoxFileBoxes', 'KeypointTrackingBoxes',
                    'OnnxDetectorBoxes', 'OneStageDetectorBoxes', 'FullFrameBoxes']
