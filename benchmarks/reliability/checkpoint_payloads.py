"""Feed code-running and broken checkpoints to every loader customkpt has.

Builds, in a temporary folder, checkpoints that would leave a marker file if
any of their code ever ran (pickle ``__reduce__`` to ``os.system``,
``builtins.eval`` / ``exec``, a ``getattr`` chain, a torch zip, a
``.pdparams``, a meta that names a ``.py`` or a ``!!python`` YAML file) and
broken ones (malformed safetensors header, a huge declared tensor, a
truncated and an empty file), plus benign controls that must load. Each file
goes to each loader, local and over ``http://127.0.0.1:<port>``; the table
counts the outcomes per loader.

    OMP_NUM_THREADS=1 python benchmarks/reliability/checkpoint_payloads.py [-v]
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import io
import logging
import os
import pickle
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / 'configs' / 'hrnet_self5_cpu.py')
OUTCOMES = ['refused clearly', 'refused unclearly', 'loaded', 'LOADED UNSAFE FILE',
            'CONTROL FAILED', 'CODE RAN', 'raw traceback']


class _RunsCode:
    """Unpickling this runs ``touch <marker>``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def _raw_pickle(calls: bytes) -> bytes:
    """Protocol-2 pickle opcodes around ``calls``."""
    return b'\x80\x02' + calls + b'.'


def _unicode(text: str) -> bytes:
    data = text.encode()
    return b'X' + len(data).to_bytes(4, 'little') + data


def _call(func: bytes, *args: bytes) -> bytes:
    """``func(*args)`` as pickle opcodes (func is already on the stack form)."""
    return func + b'(' + b''.join(args) + b'tR'


def _glob(module: str, name: str) -> bytes:
    return f'c{module}\n{name}\n'.encode()


def _getattr_chain(marker: Path) -> bytes:
    """``getattr(__import__('builtins'), 'eval')("open(marker,'w')")``."""
    builtins_mod = _call(_glob('builtins', '__import__'), _unicode('builtins'))
    evil = _call(_glob('builtins', 'getattr'), builtins_mod, _unicode('eval'))
    return _raw_pickle(_call(evil, _unicode(f'open({str(marker)!r}, "w").close()')))


def _huge_storage(small: Path, path: Path) -> None:
    """A torch zip whose pickle declares 10**12 floats while holding 100."""
    torch.save({'w': torch.zeros(100)}, small)
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith('data.pkl'):
                old = b'X\x03\x00\x00\x00cpuq\x06K\x64'
                if old not in data:
                    raise RuntimeError('unexpected torch pickle layout for the huge tensor')
                data = data.replace(old, old[:-2] + b'\x8a\x06' + (10 ** 12).to_bytes(6, 'little'))
            out.writestr(info.filename, data)


def _benign_pdparams(path: Path, model: torch.nn.Module) -> None:
    from customkpt.models.convert_paddle import ours_key_to_paddle
    params = {ours_key_to_paddle(k): v.numpy().copy() for k, v in model.state_dict().items()
              if ours_key_to_paddle(k) is not None}
    with path.open('wb') as f:
        pickle.dump(params, f, protocol=2)


def build_payloads(folder: Path, markers: Path, model: torch.nn.Module,
                   runner_state: dict) -> dict[str, Path]:
    """``{payload name: file}``; a payload's code would create ``markers/<name>``.
    ``runner_state`` holds what a training checkpoint adds (``message_hub``,
    ``optimizer``) for the control that ``--resume`` must accept."""
    files: dict[str, Path] = {}
    state = {'state_dict': model.state_dict(), 'meta': {'dataset_meta': dict(model.dataset_meta)}}

    def put(name: str, data: bytes) -> None:
        files[name] = folder / name
        files[name].write_bytes(data)

    put('reduce_os_system.pth', pickle.dumps(
        {'state_dict': {'w': torch.zeros(1)}, 'x': _RunsCode(markers / 'reduce_os_system.pth')},
        protocol=2))
    for name in ('eval', 'exec'):
        fname = f'builtins_{name}.pth'
        code = f'open({str(markers / fname)!r}, "w").close()'
        put(fname, _raw_pickle(_call(_glob('builtins', name), _unicode(code))))
    put('getattr_chain.pth', _getattr_chain(markers / 'getattr_chain.pth'))
    files['torch_zip_reduce.pth'] = folder / 'torch_zip_reduce.pth'
    torch.save({'state_dict': model.state_dict(), 'x': _RunsCode(markers / 'torch_zip_reduce.pth')},
               files['torch_zip_reduce.pth'])
    put('evil.pdparams', pickle.dumps({'final_conv.bias': np.zeros(2, np.float32),
                                       'x': _RunsCode(markers / 'evil.pdparams')}, protocol=2))
    put('malformed.safetensors', (10 ** 9).to_bytes(8, 'little') + b'{}')
    files['huge_tensor.pth'] = folder / 'huge_tensor.pth'
    _huge_storage(folder / '_small.bin', files['huge_tensor.pth'])
    good = io.BytesIO()
    torch.save(state, good)
    put('truncated.pth', good.getvalue()[:len(good.getvalue()) // 2])
    put('empty.pth', b'')
    script = folder / 'evil_meta.py'
    script.write_text(f'open({str(markers / "meta_from_py.pth")!r}, "w").close()\n'
                      "keypoint_names = ['a', 'b']\n")
    yaml_meta = folder / 'evil_meta.yaml'
    yaml_meta.write_text('keypoint_names: !!python/object/apply:os.system\n'
                         f'  - touch {markers / "evil_meta.yaml"}\n')
    for name, ref in (('meta_from_py.pth', script), ('meta_from_yaml.pth', yaml_meta)):
        files[name] = folder / name
        meta = dict(model.dataset_meta, from_file=str(ref))
        torch.save({'state_dict': model.state_dict(), 'meta': {'dataset_meta': meta}},
                   files[name])
    files['evil_meta.yaml'] = yaml_meta
    files['benign.pth'] = folder / 'benign.pth'
    torch.save(state, files['benign.pth'])
    files['benign_runner.pth'] = folder / 'benign_runner.pth'
    torch.save(dict(state, meta=dict(state['meta'], epoch=1, iter=10), **runner_state),
               files['benign_runner.pth'])
    files['benign.pdparams'] = folder / 'benign.pdparams'
    _benign_pdparams(files['benign.pdparams'], model)
    return files


# Which (payload, loader) pairs must load: the controls, and the checkpoints
# whose meta only names a file (they load with the reference dropped).
DATA_ONLY = {'meta_from_py.pth', 'meta_from_yaml.pth'}


def must_load(payload: str, loader: str) -> bool:
    if payload == 'benign.pdparams':
        return loader == 'convert-weights'
    if payload == 'benign_runner.pth':
        return loader != 'convert-weights'
    if payload == 'benign.pth':  # weights only: not a training state to resume
        return loader not in ('convert-weights', '--resume (Runner)')
    return False


@contextlib.contextmanager
def serve(folder: Path):
    """``http://127.0.0.1:<port>`` serving ``folder`` from a thread."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Loaders:
    """Every way customkpt reads a checkpoint, each ``fn(path_or_url)``."""

    def __init__(self, tmp: Path) -> None:
        from mmengine.runner import Runner

        from customkpt.apis import init_model
        from customkpt.engine.config import load_run_config
        self.tmp = tmp
        self.model = init_model(CONFIG, None)
        from customkpt.demo import make_self5_dataset
        data = make_self5_dataset(tmp / 'self5', num_train=4, num_val=2, with_video=False,
                                  progress=False)  # the Runner builds its train loop
        cfg = load_run_config(CONFIG, dict(data_root=f'{data}/'), work_dir=str(tmp / 'work'))
        cfg.load_from, cfg.resume = None, False
        cfg.visualizer = None
        cfg.default_hooks = None
        cfg.log_level = 'ERROR'
        self.cfg = cfg
        self.runner = Runner.from_cfg(cfg)
        self.runner.optim_wrapper = self.runner.build_optim_wrapper(self.runner.optim_wrapper)
        self.runner.train_loop  # noqa: B018 - builds the loop resume() writes into
        self.runner_state = dict(message_hub=self.runner.message_hub.state_dict(),
                                 optimizer=self.runner.optim_wrapper.state_dict())

    def _resume(self, path: str) -> None:
        """What ``customkpt train --resume PATH`` does: the up-front check
        (readable, safe, fits the model, holds training progress), then the
        Runner's resume."""
        from customkpt.engine.model_fit import check_checkpoint_fits_config
        check_checkpoint_fits_config(self.cfg, path, resume=True)
        self.runner.resume(path)

    def table(self) -> dict[str, Callable[[str], Any]]:
        from mmengine.runner import load_checkpoint

        from customkpt.apis import init_model
        from customkpt.cli import convert_weights, export, publish
        from customkpt.models.pretrained import load_pretrained
        out = self.tmp / 'out'
        out.mkdir(exist_ok=True)
        return {
            'load_from (Runner)': lambda p: self.runner.load_checkpoint(p, map_location='cpu'),
            '--resume (Runner)': self._resume,
            'load_checkpoint': lambda p: load_checkpoint(self.model, p, map_location='cpu'),
            'init_model': lambda p: init_model(CONFIG, p),
            'model.pretrained=': lambda p: load_pretrained(self.model, p),
            'convert-weights': lambda p: _cli(convert_weights.main, [p, str(out / 'c.pth')]),
            'publish': lambda p: _cli(publish.main, [p, str(out) + '/']),
            'export': lambda p: _cli(export.main, [CONFIG, p, '--out', str(out)]),
        }


URL_LOADERS = ('load_checkpoint', 'init_model', 'model.pretrained=')


def _cli(main: Callable, argv: list[str]) -> Any:
    rc = main(argv)
    if isinstance(rc, int) and rc != 0:
        raise _NonZeroExit(f'exit status {rc}')
    return rc


class _NonZeroExit(Exception):
    pass


def classify(payload: str, loader: str, target: str, fn: Callable, markers: Path
             ) -> tuple[str, str]:
    """``(outcome, message)`` of loading ``target`` with ``fn``."""
    from customkpt.errors import user_error_types
    before = set(markers.iterdir())
    message = ''
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            fn(target)
        outcome = 'loaded'
    except _NonZeroExit as exc:
        outcome, message = 'refused unclearly', str(exc)
    except user_error_types() as exc:
        message = str(exc)
        named = Path(target).name in message or target in message
        outcome = 'refused clearly' if named and '\n' not in message.strip() else \
            'refused unclearly'
    except Exception as exc:  # noqa: BLE001 - what the benchmark measures
        outcome, message = 'raw traceback', f'{type(exc).__name__}: {exc}'
    ran = set(markers.iterdir()) - before
    for marker in ran:
        marker.unlink()
    if ran:
        return 'CODE RAN', ', '.join(sorted(m.name for m in ran))
    if outcome == 'loaded' and not (must_load(payload, loader) or payload in DATA_ONLY):
        outcome = 'LOADED UNSAFE FILE'
    elif must_load(payload, loader) and outcome != 'loaded':
        outcome = 'CONTROL FAILED'
    return outcome, message.splitlines()[0][:160] if message else ''


def run_all(tmp: Path, verbose: bool) -> list[tuple[str, str, str, str, str]]:
    """Every (payload, loader, where) -> outcome; rows of
    ``(payload, loader, where, outcome, message)``."""
    markers = tmp / 'markers'
    markers.mkdir()
    www = tmp / 'www'
    www.mkdir()
    loaders = Loaders(tmp)
    files = build_payloads(www, markers, loaders.model, loaders.runner_state)
    table = loaders.table()
    rows = []
    with serve(www) as base:
        for payload, path in files.items():
            targets = [('local', str(path))]
            targets.append(('http', f'{base}/{payload}'))
            for loader, fn in table.items():
                for where, target in targets:
                    if where == 'http' and loader not in URL_LOADERS:
                        continue
                    outcome, message = classify(payload, loader, target, fn, markers)
                    rows.append((payload, loader, where, outcome, message))
                    if verbose or outcome not in ('refused clearly', 'loaded'):
                        print(f'{payload:22s} {loader:20s} {where:5s} {outcome:18s} {message}')
    return rows


def report(rows: list[tuple[str, str, str, str, str]]) -> str:
    """Markdown table of outcome counts per loader and the total line."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for _, loader, where, outcome, _ in rows:
        counts[f'{loader} ({where})'][outcome] += 1
    used = [o for o in OUTCOMES if any(c[o] for c in counts.values())]
    lines = ['| loader | ' + ' | '.join(used) + ' |', '|---|' + '---|' * len(used)]
    for name, c in counts.items():
        lines.append(f'| {name} | ' + ' | '.join(str(c[o]) for o in used) + ' |')
    lines.append(f'\ncode executions: {sum(c["CODE RAN"] for c in counts.values())}')
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('-v', '--verbose', action='store_true', help='print every outcome')
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    logging.disable(logging.WARNING)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix='ckpt_payloads_') as tmp:
        os.environ['TORCH_HOME'] = str(Path(tmp) / 'torch_home')
        torch.hub.set_dir(str(Path(tmp) / 'hub'))
        rows = run_all(Path(tmp), args.verbose)
    print()
    print(report(rows))
    print(f'{len(rows)} loads in {time.perf_counter() - start:.1f} s')
    return 1 if any(r[3] in ('CODE RAN', 'LOADED UNSAFE FILE') for r in rows) else 0


if __name__ == '__main__':
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
