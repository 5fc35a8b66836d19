"""Export a top-down model to ONNX (and optionally TorchScript) with a
sidecar JSON that holds what inference needs without the config.

The graph takes float32 (B, 3, h, w) crops, already normalised and in the
network's colour order ("input"), and returns the head's outputs: (B, K, H,
W) heatmaps ("heatmaps") for a heatmap head, or SimCC vectors (B, K, Wx)
("simcc_x") and (B, K, Wy) ("simcc_y") for an RTMCC head. See
:mod:`customkpt.deploy.sidecar` for the sidecar fields.
"""
from __future__ import annotations

import contextlib
import inspect
import os
import warnings
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch
import torch.nn as nn

from ..codecs import CODECS
from .sidecar import sidecar_path, write_sidecar

__all__ = ['ExportGraph', 'export_onnx', 'deploy_settings']

INPUT_NAME = 'input'
#: Graph output names by the number of head outputs.
OUTPUT_NAMES = {1: ['heatmaps'], 2: ['simcc_x', 'simcc_y']}
# Test-pipeline steps the sidecar covers; anything else cannot be replayed.
_KNOWN_STEPS = ('LoadImage', 'GetBBoxCenterScale', 'TopdownAffine', 'PackPoseInputs',
                'GenerateTarget')


class ExportGraph(nn.Module):
    """What gets exported: normalised crops -> head outputs (heatmaps, or
    the ``(simcc_x, simcc_y)`` pair).

    With ``flip_test`` it runs the model's own ``predict_outputs`` with flip
    test on: the average with the mirrored input's outputs, flipped back by
    :func:`customkpt.core.flip.flip_heatmaps` (shifted as ``test_cfg``
    says) or :func:`customkpt.core.flip.flip_vectors`, channels swapped by
    ``dataset_meta['flip_indices']``: the functions the ONNX predictor uses
    for its own flip test. Otherwise the plain ``forward(mode='tensor')``.
    """

    def __init__(self, model: nn.Module, flip_test: bool = False) -> None:
        super().__init__()
        self.model = model
        self.flip_test = bool(flip_test)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        if self.flip_test:
            with _flip_test_on(self.model):
                return self.model.predict_outputs(inputs)
        return self.model(inputs, mode='tensor')


@contextlib.contextmanager
def _flip_test_on(model: nn.Module) -> Iterator[None]:
    old = model.test_cfg
    model.test_cfg = dict(old, flip_test=True)
    try:
        yield
    finally:
        model.test_cfg = old


def _cfg_get(obj: Any, key: str, default: Any = None) -> Any:
    if obj is None:
        return default
    getter = getattr(obj, 'get', None)
    return getter(key, default) if getter is not None else getattr(obj, key, default)


def _test_pipeline(cfg: Any) -> list:
    for loader in ('test_dataloader', 'val_dataloader'):
        dataset = _cfg_get(_cfg_get(cfg, loader), 'dataset')
        pipeline = _cfg_get(dataset, 'pipeline')
        if pipeline:
            return list(pipeline)
    return []


def _normalisation(model: nn.Module) -> tuple[list[float], list[float], str]:
    """mean, std (network channel order) and the network's colour order."""
    pre = getattr(model, 'data_preprocessor', None)
    if pre is not None and hasattr(pre, '_channel_conversion'):
        order = 'rgb' if pre._channel_conversion else 'bgr'
        if getattr(pre, '_enable_normalize', False):
            mean = pre.mean.detach().reshape(-1).cpu().tolist()
            std = pre.std.detach().reshape(-1).cpu().tolist()
        else:
            mean, std = [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    else:
        cfg = _cfg_get(_cfg_get(getattr(model, 'cfg', None), 'model'), 'data_preprocessor') or {}
        order = 'rgb' if (_cfg_get(cfg, 'bgr_to_rgb') or _cfg_get(cfg, 'rgb_to_bgr')) else 'bgr'
        mean = list(_cfg_get(cfg, 'mean') or [0.0, 0.0, 0.0])
        std = list(_cfg_get(cfg, 'std') or [1.0, 1.0, 1.0])
    if len(mean) == 1:
        mean, std = mean * 3, std * 3
    return [float(v) for v in mean], [float(v) for v in std], order


def _replayed_pipeline(cfg: Any) -> tuple[float, bool, Sequence[int] | None]:
    """Box padding, crop UDP flag and input size of the test pipeline (its
    ``GetBBoxCenterScale`` and ``TopdownAffine`` steps); warns about steps
    the deployed predictor does not replay."""
    padding, crop_udp, size = 1.25, False, None
    for step in _test_pipeline(cfg):
        kind = str(_cfg_get(step, 'type')).split('.')[-1]
        if kind == 'GetBBoxCenterScale':
            padding = float(_cfg_get(step, 'padding', 1.25))
        elif kind == 'TopdownAffine':
            crop_udp = bool(_cfg_get(step, 'use_udp', False))
            size = _cfg_get(step, 'input_size')
        elif kind not in _KNOWN_STEPS:
            warnings.warn(f'export: test pipeline step {kind!r} is not replayed by the '
                          'deployed predictor')
    return padding, crop_udp, size


def deploy_settings(model: nn.Module, input_size: Sequence[int] | None = None) -> dict[str, Any]:
    """The sidecar fields that come from the model and its config (all but
    the output names and sizes and the export options).

    Raises:
        ValueError: the head has no decoder that
            :func:`customkpt.codecs.build_codec` can rebuild at deploy time,
            ``dataset_meta`` is missing, or a new ``input_size`` is asked of
            a head that is built for one size (SimCC).
    """
    decoder = getattr(getattr(model, 'head', None), 'decoder', None)
    codec_type = type(decoder).__name__
    if decoder is None or CODECS.get(codec_type) is not type(decoder):
        raise ValueError(f'export: the head decoder {codec_type} cannot be replayed at deploy '
                         f'time; supported: {sorted(CODECS)}')
    meta = getattr(model, 'dataset_meta', None)
    if not meta or not meta.get('keypoint_names'):
        raise ValueError('export: model.dataset_meta (the keypoint definition) is missing; build '
                         'the model with customkpt.apis.init_model')
    padding, crop_udp, size = _replayed_pipeline(getattr(model, 'cfg', None))
    codec = decoder.to_dict()
    if input_size is None:
        input_size = size if size is not None else decoder.input_size
    elif [int(v) for v in input_size] != [int(v) for v in decoder.input_size]:
        if 'heatmap_size' not in codec:
            raise ValueError(f'export: {codec_type} heads are built for input_size '
                             f'{list(decoder.input_size)}; to export at {list(input_size)}, '
                             'train (or build) the model for that size')
        # a new input size: decode with its own scale (heatmap size set on export)
        codec['input_size'] = [int(input_size[0]), int(input_size[1])]
    mean, std, order = _normalisation(model)
    return dict(input_name=INPUT_NAME,
                input_size=[int(input_size[0]), int(input_size[1])], mean=mean, std=std,
                color_order=order, bbox_padding=padding, crop_use_udp=crop_udp,
                use_udp=bool(decoder.use_udp), codec=codec,
                flip_test=bool(model.test_cfg.get('flip_test', False)),
                shift_heatmap=bool(model.test_cfg.get('shift_heatmap', True)),
                meta=dict(meta))


def _legacy_export_kwargs() -> dict:
    # The TorchScript-based exporter needs no onnxscript; newer torch defaults
    # to the torch.export one.
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        return dict(dynamo=False)
    return {}


def _check_out_path(out_path: str | os.PathLike) -> Path:
    """The ``.onnx`` path to write, its folder created."""
    out = Path(out_path)
    if out.is_dir():
        raise IsADirectoryError(f'export: out_path {str(out)!r} is a directory; give a file '
                                'name such as model.onnx')
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def _set_output_sizes(info: dict[str, Any], outputs: Any, new_input: bool) -> None:
    """Record the traced graph's output names and sizes in ``info``: the
    heatmap size (also in the codec when the input size was changed), or
    the SimCC vector lengths; warn when they differ from the codec's."""
    outputs = (outputs, ) if isinstance(outputs, torch.Tensor) else tuple(outputs)
    if len(outputs) not in OUTPUT_NAMES:
        raise ValueError(f'export: the model returns {len(outputs)} outputs; expected heatmaps '
                         'or a (simcc_x, simcc_y) pair')
    info['output_names'] = list(OUTPUT_NAMES[len(outputs)])
    codec = info['codec']
    if len(outputs) == 2:
        info['simcc_size'] = [int(outputs[0].shape[-1]), int(outputs[1].shape[-1])]
        split = float(codec['simcc_split_ratio'])
        expected = [int(round(v * split)) for v in codec['input_size']]
        if info['simcc_size'] != expected:
            warnings.warn(f"export: the network outputs {info['simcc_size']} SimCC bins but the "
                          f'decoder expects {expected}')
        return
    hm_h, hm_w = outputs[0].shape[-2:]
    info['heatmap_size'] = [int(hm_w), int(hm_h)]
    if new_input:
        codec['heatmap_size'] = [int(hm_w), int(hm_h)]
    elif codec['heatmap_size'] != info['heatmap_size']:
        warnings.warn(f"export: the network outputs {info['heatmap_size']} heatmaps but the "
                      f"decoder expects {codec['heatmap_size']}")


@contextlib.contextmanager
def _lift_fresh_as_identity(opset: int) -> Iterator[None]:
    """Export ``aten::lift_fresh`` as the identity it is, while the block runs.

    Tracing records a tensor made from a numpy array (the flip tables of
    :mod:`customkpt.core.flip`) as a constant followed by ``lift_fresh``;
    the TorchScript exporter folds that pair away in most graphs but, in
    some (the SimCC flip test), meets it unfolded and has no symbolic for it.
    """
    from torch.onnx import register_custom_op_symbolic, unregister_custom_op_symbolic
    register_custom_op_symbolic('aten::lift_fresh', lambda graph, tensor: tensor, opset)
    try:
        yield
    finally:
        unregister_custom_op_symbolic('aten::lift_fresh', opset)


def _write_onnx(graph: nn.Module, dummy: torch.Tensor, out: Path, opset: int,
                dynamic_batch: bool, output_names: list[str]) -> None:
    """Trace ``graph`` on ``dummy`` to ``out`` and check the written model."""
    import onnx
    names = [INPUT_NAME, *output_names]
    axes = {name: {0: 'batch'} for name in names} if dynamic_batch else None
    with warnings.catch_warnings(), _lift_fresh_as_identity(opset):
        # The trace turns flip indices into constants, as intended.
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(graph, (dummy, ), str(out), input_names=[INPUT_NAME],
                          output_names=list(output_names), dynamic_axes=axes,
                          opset_version=opset, do_constant_folding=True,
                          **_legacy_export_kwargs())
    onnx.checker.check_model(onnx.load(str(out)))


def _write_torchscript(graph: nn.Module, dummy: torch.Tensor, out: Path) -> Path:
    """``torch.jit.trace`` of ``graph`` saved next to ``out``."""
    script_path = out.with_suffix('.torchscript.pt')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        traced = torch.jit.trace(graph, dummy)
    traced.save(str(script_path))
    return script_path


@torch.no_grad()
def export_onnx(model: nn.Module, out_path: str | os.PathLike,
                input_size: Sequence[int] | None = None, opset: int = 17,
                dynamic_batch: bool = True, flip_test: bool = False,
                torchscript: bool = False) -> dict[str, Any]:
    """Export a model from :func:`customkpt.apis.init_model` to ONNX.

    Args:
        model: a ``TopdownEstimator`` with ``dataset_meta`` (and ``cfg``).
        out_path: the ``.onnx`` file to write; the sidecar goes to
            ``<name>.json`` and the TorchScript file to ``<name>.torchscript.pt``.
        input_size: network input (w, h); the test pipeline's by default.
        opset: ONNX opset.
        dynamic_batch: make the batch axis dynamic (else fixed to 1).
        flip_test: bake the flip-test average into the graph.
        torchscript: also write a ``torch.jit.trace`` file.

    Returns:
        dict with ``onnx``, ``sidecar`` and ``torchscript`` (path or None)
        paths and ``info`` (the sidecar's content).

    Raises:
        ValueError: see :func:`deploy_settings`; flip test without
            ``flip_indices``.
    """
    info = deploy_settings(model, input_size)
    if flip_test and info['meta'].get('flip_indices') is None:
        raise ValueError("export: flip_test needs model.dataset_meta['flip_indices']")
    out = _check_out_path(out_path)
    was_training = model.training
    model.eval()
    graph = ExportGraph(model, flip_test).eval()
    w, h = info['input_size']
    dummy = torch.randn(1, 3, h, w, device=next(model.parameters()).device)
    _set_output_sizes(info, graph(dummy), input_size is not None)
    _write_onnx(graph, dummy, out, opset, dynamic_batch, info['output_names'])
    script_path = _write_torchscript(graph, dummy, out) if torchscript else None
    model.train(was_training)
    info.update(flip_test_baked=bool(flip_test), dynamic_batch=bool(dynamic_batch),
                opset=int(opset), onnx_file=out.name)
    side = write_sidecar(sidecar_path(out), info)
    return dict(onnx=str(out), sidecar=str(side),
                torchscript=None if script_path is None else str(script_path), info=info)
