"""PaddleDetection top-down HRNet weights -> customkpt's state-dict names.

A PaddleDetection ``.pdparams`` file is a pickled dict ``{structured name:
numpy array}`` (plus bookkeeping entries such as
``StructuredToParameterName@@``). :func:`read_pdparams` unpickles it with an
allow-list that rebuilds numpy arrays and nothing else, so a file cannot run
code while it is read.

Names. PaddleDetection's ``HRNet`` backbone (``ppdet/modeling/backbones/
hrnet.py``) is built from ``ConvNormLayer`` blocks, each a ``conv``
(``Conv2D``, no bias) and a ``norm`` (``BatchNorm``: ``weight``, ``bias``,
``_mean``, ``_variance``); the ``TopDownHRNet`` architecture adds
``final_conv`` (``weight`` (K, C, 1, 1), ``bias`` (K,)). Conv weights are
(out, in, kh, kw) in both frameworks, so values copy unchanged. Paddle's
indices are 1-based, ours 0-based:

======================================================  ==========================================
PaddleDetection (``backbone.`` prefix)                  customkpt
======================================================  ==========================================
``conv_layer1_1.conv`` / ``.norm``                       ``conv1`` / ``bn1``
``conv_layer1_2.conv`` / ``.norm``                       ``conv2`` / ``bn2``
``la1.block_layer2_{b}.conv{n}``                         ``layer1.{b-1}.conv{n}`` / ``.bn{n}``
``la1.block_layer2_{b}.conv_down``                       ``layer1.{b-1}.downsample.{0,1}``
``tr{t}.transition_tr{t}_layer_{i}`` (existing branch)   ``transition{t}.{i-1}.{0,1}``
``tr{t}.transition_tr{t}_layer_{i}`` (new branch i=t+1)  ``transition{t}.{i-1}.0.{0,1}``
``st{s}.stage_st{s}_{m}.branches_func.``                 ``stage{s}.{m-1}.branches.{b-1}.{k-1}.``
``bb_st{s}_{m}_branch_layer_{b}_{k}.conv{n}``            ``conv{n}`` / ``bn{n}``
``st{s}.stage_st{s}_{m}.fuse_func.``                     ``stage{s}.{m-1}.fuse_layers.{i-1}.{j-1}.``
``residual_st{s}_{m}_layer_{i}_{j}`` (upsample path)     ``{0,1}``
``..._layer_{i}_{j}_{k}`` (downsample path)              ``...{j-1}.{k-1}.{0,1}``
``final_conv``                                           ``head.final_layer``
======================================================  ==========================================

Leaves: ``conv.weight`` -> ``weight``; ``norm.weight``/``bias``/``_mean``/
``_variance`` -> ``weight``/``bias``/``running_mean``/``running_var``.
Keys outside this table are returned as unmapped, never guessed.
"""
from __future__ import annotations

import collections
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch

from customkpt.checkpoint import CheckpointReadError

__all__ = ['PdparamsError', 'PdparamsReadError', 'read_pdparams', 'paddle_key_to_ours', 'ours_key_to_paddle',
           'convert_paddle_state_dict']


class PdparamsError(pickle.UnpicklingError):
    """A ``.pdparams`` file asked for something other than numpy arrays."""


class PdparamsReadError(CheckpointReadError):
    """A ``.pdparams`` file is empty, cut short or not a pickled dict."""


# ------------------------------------------------------------------ reading
def _numpy_reconstruct() -> Callable:
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy 1
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def _latin1_encode(text: Any, encoding: str = 'latin1') -> bytes:
    """``_codecs.encode`` as a protocol-2 pickle uses it: a Python 3 pickler
    writes ``bytes`` (an array's raw data) as ``encode(text, 'latin1')``.
    Any other codec or argument is refused."""
    if not isinstance(text, str) or encoding not in ('latin1', 'latin-1'):
        raise PdparamsError(f'_codecs.encode({type(text).__name__}, {encoding!r}) is not a '
                            'latin-1 byte string')
    return text.encode('latin1')


_ALLOWED = {
    ('_codecs', 'encode'): lambda: _latin1_encode,
    ('numpy.core.multiarray', '_reconstruct'): _numpy_reconstruct,
    ('numpy._core.multiarray', '_reconstruct'): _numpy_reconstruct,
    ('numpy', 'ndarray'): lambda: np.ndarray,
    ('numpy', 'dtype'): lambda: np.dtype,
    ('collections', 'OrderedDict'): lambda: collections.OrderedDict,
}


class _ArrayUnpickler(pickle.Unpickler):
    """Rebuilds dicts, lists, strings, numbers and numpy arrays only."""

    def __init__(self, file, source: str) -> None:
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str):  # noqa: D401
        factory = _ALLOWED.get((module, name))
        if factory is None:
            raise PdparamsError(
                f'refusing to load {self.source}: it asks for {module}.{name}, which is not '
                'part of a plain dict of numpy arrays. Loading it could execute code.')
        return factory()


def read_pdparams(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a ``.pdparams`` file, read without executing code.

    Entries that are not arrays (``StructuredToParameterName@@`` and other
    bookkeeping) are dropped.

    Raises:
        FileNotFoundError: no such file.
        PdparamsError: the pickle asks for anything but numpy arrays.
        PdparamsReadError: (a ValueError) the file is not a pickled dict.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'pdparams file not found: {path}')
    with path.open('rb') as f:
        is_zip = f.read(4) == b'PK\x03\x04'
    if is_zip or zipfile.is_zipfile(path):
        raise PdparamsReadError(f'{path}: a zip archive (a torch checkpoint?), not a pickled '
                                'PaddlePaddle parameter dict')
    with path.open('rb') as f:
        try:
            obj = _ArrayUnpickler(f, str(path)).load()
        except PdparamsError as exc:
            if str(path) in str(exc):
                raise
            raise PdparamsError(f'refusing to load {path}: {exc}') from None
        except Exception as exc:  # noqa: BLE001 - corrupt or foreign file
            reason = ' '.join(str(exc).split())
            raise PdparamsReadError(f'{path}: not a readable pickled parameter dict ({reason})'
                                    ) from None
    if not isinstance(obj, Mapping):
        raise PdparamsReadError(f'{path}: expected a dict of arrays, got {type(obj).__name__}')
    return {str(k): v for k, v in obj.items() if isinstance(v, np.ndarray)}


# ---------------------------------------------------------------- the table
_BN_LEAVES = {'weight': 'weight', 'bias': 'bias', '_mean': 'running_mean',
              '_variance': 'running_var'}


def _transition(m: re.Match) -> tuple[str, str]:
    t, i = int(m['t']), int(m['i']) - 1
    # transition{t} leaves branches 0..t-1 in place and grows branch t.
    base = f'transition{t}.{i}.0' if i >= t else f'transition{t}.{i}'
    return f'{base}.0', f'{base}.1'


def _block_conv(base: str) -> Callable[[re.Match], tuple[str, str]]:
    return lambda m: (f'{base.format(**_zero_based(m))}.conv{m["n"]}',
                      f'{base.format(**_zero_based(m))}.bn{m["n"]}')


def _seq(base: str) -> Callable[[re.Match], tuple[str, str]]:
    return lambda m: (f'{base.format(**_zero_based(m))}.0', f'{base.format(**_zero_based(m))}.1')


def _zero_based(m: re.Match) -> dict[str, int]:
    """Named groups as ints, 1-based indices (not stage numbers) shifted to 0."""
    out = {}
    for key, value in m.groupdict().items():
        out[key] = int(value) if key in ('s', 't', 'n') else int(value) - 1
    return out


# (Paddle module path regex, -> (our conv prefix, our BN prefix)).
_STAGE = r'st(?P<s>\d)\.stage_st(?P=s)_(?P<m>\d+)'
_RULES: list[tuple[re.Pattern, Callable[[re.Match], tuple[str, str]]]] = [
    (re.compile(r'conv_layer1_1'), lambda m: ('conv1', 'bn1')),
    (re.compile(r'conv_layer1_2'), lambda m: ('conv2', 'bn2')),
    (re.compile(r'la1\.block_layer2_(?P<b>\d+)\.conv(?P<n>[123])'), _block_conv('layer1.{b}')),
    (re.compile(r'la1\.block_layer2_(?P<b>\d+)\.conv_down'), _seq('layer1.{b}.downsample')),
    (re.compile(r'tr(?P<t>\d)\.transition_tr(?P=t)_layer_(?P<i>\d+)'), _transition),
    (re.compile(_STAGE + r'\.branches_func\.bb_st(?P=s)_(?P=m)_branch_layer_(?P<b>\d+)_(?P<k>\d+)'
                r'\.conv(?P<n>[12])'),
     _block_conv('stage{s}.{m}.branches.{b}.{k}')),
    (re.compile(_STAGE + r'\.branches_func\.bb_st(?P=s)_(?P=m)_branch_layer_(?P<b>\d+)_(?P<k>\d+)'
                r'\.conv_down'),
     _seq('stage{s}.{m}.branches.{b}.{k}.downsample')),
    (re.compile(_STAGE + r'\.fuse_func\.residual_st(?P=s)_(?P=m)_layer_(?P<i>\d+)_(?P<j>\d+)'
                r'_(?P<k>\d+)'),
     _seq('stage{s}.{m}.fuse_layers.{i}.{j}.{k}')),
    (re.compile(_STAGE + r'\.fuse_func\.residual_st(?P=s)_(?P=m)_layer_(?P<i>\d+)_(?P<j>\d+)'),
     _seq('stage{s}.{m}.fuse_layers.{i}.{j}')),
]
_LEAF = re.compile(r'^(?:backbone\.)?(?P<module>.+)\.(?P<part>conv|norm)\.'
                   r'(?P<leaf>weight|bias|_mean|_variance)$')
_HEAD = {'final_conv.weight': 'head.final_layer.weight',
         'final_conv.bias': 'head.final_layer.bias'}


def _first_rule(rules: Sequence[tuple[re.Pattern, Callable[[re.Match], Any]]],
                module: str) -> Any:
    """What the first rule whose pattern matches all of ``module`` makes of
    it; None when none does."""
    for pattern, target in rules:
        m = pattern.fullmatch(module)
        if m is not None:
            return target(m)
    return None


def paddle_key_to_ours(key: str) -> str | None:
    """Our name for a PaddleDetection HRNet parameter, None if unknown."""
    if key in _HEAD:
        return _HEAD[key]
    leaf = _LEAF.match(key)
    modules = None if leaf is None else _first_rule(_RULES, leaf['module'])
    if modules is None:
        return None
    conv, norm = modules
    if leaf['part'] == 'conv':
        return f'backbone.{conv}.weight' if leaf['leaf'] == 'weight' else None
    return f'backbone.{norm}.{_BN_LEAVES[leaf["leaf"]]}'


# The inverse table, for checking files and writing test fixtures.
_OUR_LEAF = re.compile(r'^backbone\.(?P<module>.+)\.(?P<leaf>weight|bias|running_mean|'
                       r'running_var)$')
_PADDLE_BN = {v: k for k, v in _BN_LEAVES.items()}
_INVERSE: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (re.compile(r'(?P<p>conv|bn)(?P<n>[12])'),
     lambda m: f'conv_layer1_{m["n"]}.{"conv" if m["p"] == "conv" else "norm"}'),
    (re.compile(r'layer1\.(?P<b>\d+)\.(?P<p>conv|bn)(?P<n>[123])'),
     lambda m: f'la1.block_layer2_{int(m["b"]) + 1}.conv{m["n"]}.'
               f'{"conv" if m["p"] == "conv" else "norm"}'),
    (re.compile(r'layer1\.(?P<b>\d+)\.downsample\.(?P<x>[01])'),
     lambda m: f'la1.block_layer2_{int(m["b"]) + 1}.conv_down.{("conv", "norm")[int(m["x"])]}'),
    (re.compile(r'transition(?P<t>\d)\.(?P<i>\d+)(?:\.0)?\.(?P<x>[01])'),
     lambda m: f'tr{m["t"]}.transition_tr{m["t"]}_layer_{int(m["i"]) + 1}.'
               f'{("conv", "norm")[int(m["x"])]}'),
    (re.compile(r'stage(?P<s>\d)\.(?P<m>\d+)\.branches\.(?P<b>\d+)\.(?P<k>\d+)\.'
                r'(?P<p>conv|bn)(?P<n>[12])'),
     lambda m: f'st{m["s"]}.stage_st{m["s"]}_{int(m["m"]) + 1}.branches_func.'
               f'bb_st{m["s"]}_{int(m["m"]) + 1}_branch_layer_{int(m["b"]) + 1}_'
               f'{int(m["k"]) + 1}.conv{m["n"]}.{"conv" if m["p"] == "conv" else "norm"}'),
    (re.compile(r'stage(?P<s>\d)\.(?P<m>\d+)\.fuse_layers\.(?P<i>\d+)\.(?P<j>\d+)'
                r'(?:\.(?P<k>\d+))?\.(?P<x>[01])'),
     lambda m: f'st{m["s"]}.stage_st{m["s"]}_{int(m["m"]) + 1}.fuse_func.'
               f'residual_st{m["s"]}_{int(m["m"]) + 1}_layer_{int(m["i"]) + 1}_'
               f'{int(m["j"]) + 1}' + (f'_{int(m["k"]) + 1}' if m['k'] is not None else '')
               + f'.{("conv", "norm")[int(m["x"])]}'),
]


def ours_key_to_paddle(key: str) -> str | None:
    """PaddleDetection's name for one of our HRNet/head keys, None for keys
    Paddle has no counterpart of (``num_batches_tracked``)."""
    inverse_head = {v: k for k, v in _HEAD.items()}
    if key in inverse_head:
        return inverse_head[key]
    leaf = _OUR_LEAF.match(key)
    path = None if leaf is None else _first_rule(_INVERSE, leaf['module'])
    if path is None:
        return None
    if path.endswith('.conv'):
        return f'backbone.{path}.weight' if leaf['leaf'] == 'weight' else None
    return f'backbone.{path}.{_PADDLE_BN[leaf["leaf"]]}'


def convert_paddle_state_dict(params: Mapping[str, np.ndarray]
                              ) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Rename PaddleDetection HRNet parameters to ours.

    Every BatchNorm also gets ``num_batches_tracked`` = 0, which Paddle does
    not store.

    Returns:
        ``(state_dict, unmapped)``: float tensors under our names, and the
        Paddle keys the table does not cover (left out, never guessed).
    """
    out: dict[str, torch.Tensor] = {}
    unmapped = []
    for key, value in params.items():
        ours = paddle_key_to_ours(key)
        if ours is None:
            unmapped.append(key)
            continue
        out[ours] = torch.from_numpy(np.ascontiguousarray(value))
        if ours.endswith('.running_mean'):
            out[ours[:-len('running_mean')] + 'num_batches_tracked'] = torch.tensor(0)
    return out, unmapped
