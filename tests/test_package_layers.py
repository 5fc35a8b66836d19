"""The package's layers: what each subpackage may import (docs/architecture.md).

Imports are read from the source (AST), so the rules hold for every module,
not only for the ones a test happens to import.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'customkpt'
HEAVY = {'torch', 'mmengine', 'mmcv'}

# Subpackage -> the customkpt subpackages / modules it may import.
FOUNDATION = {'core', 'codecs', 'meta', 'registry', 'structures', 'checkpoint', 'errors',
              'checkpoint_remote', 'version'}
ALLOWED = {
    'core': set(),
    'codecs': {'core'},
    'meta': {'core'},
    'converters': {'core', 'meta'},
    'demo': {'core'},
    'deploy': {'core', 'codecs'},
    'datasets': FOUNDATION,
    'models': FOUNDATION,
    'evaluation': FOUNDATION,
    'smoothing': FOUNDATION,
    'visualization': FOUNDATION,
    'engine': FOUNDATION | {'visualization', 'models'},
    'apis': FOUNDATION | {'deploy', 'converters', 'engine', 'smoothing', 'visualization',
             'models'},
}
# Layers that must import without torch / mmengine: no module-level heavy import
# (a function may import one lazily, e.g. the ONNX exporter or the registry glue).
LIGHT = {'core', 'codecs', 'meta', 'converters', 'demo', 'deploy'}
# Modules of light layers that exist to bridge to the heavy side: the codecs'
# registry entries, and the ONNX exporters (deploy/__init__.py loads them on use).
BRIDGES = {'codecs/registration.py', 'deploy/export.py', 'deploy/onestage_export.py'}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(absolute module name, at module level?) of every import in ``path``."""
    rel = path.relative_to(PACKAGE.parent).with_suffix('').parts
    package = rel if path.name == '__init__.py' else rel[:-1]
    tree = ast.parse(path.read_text(encoding='utf-8'))
    top = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[:len(package) - node.level + 1])
                name = '.'.join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ''
            out.append((name, id(node) in top))
    return out


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob('*.py'))


def _layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


@pytest.mark.parametrize('layer', sorted(ALLOWED))
def test_a_layer_imports_only_the_layers_below_it(layer):
    bad = []
    for path in _modules():
        if _layer(path) != layer or str(path.relative_to(PACKAGE)) in BRIDGES:
            continue
        for name, _ in _imports(path):
            parts = name.split('.')
            if parts[0] != 'customkpt' or len(parts) < 2 or parts[1] == layer:
                continue
            if parts[1] not in ALLOWED[layer]:
                bad.append(f'{path.relative_to(PACKAGE)} imports {name}')
    assert not bad, '\n'.join(bad)


@pytest.mark.parametrize('layer', sorted(LIGHT))
def test_light_layers_import_no_torch_or_mmengine_at_module_level(layer):
    bad = []
    for path in _modules():
        if _layer(path) != layer or str(path.relative_to(PACKAGE)) in BRIDGES:
            continue
        for name, top_level in _imports(path):
            if top_level and name.split('.')[0] in HEAVY:
                bad.append(f'{path.relative_to(PACKAGE)} imports {name}')
    assert not bad, '\n'.join(bad)


def test_only_the_command_line_imports_cli():
    bad = [f'{p.relative_to(PACKAGE)} imports {name}' for p in _modules()
           if _layer(p) != 'cli'
           for name, _ in _imports(p) if name.startswith('customkpt.cli')]
    assert not bad, '\n'.join(bad)
