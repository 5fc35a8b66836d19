"""Export a one-stage model (:class:`~customkpt.models.OneStageEstimator`)
to ONNX with its sidecar (fields: :mod:`customkpt.deploy.onestage`).

The graph takes float32 (B, 3, h, w) letterboxed, normalised images
("input") and returns the codec's outputs by name, heatmap and keypoint
scores after the sigmoid, so that
:class:`~customkpt.deploy.onestage.OnnxOneStagePredictor` decodes them with
the numpy codec alone. Needs torch; loaded on use.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator, Sequence

import torch
import torch.nn as nn

from .export import INPUT_NAME, _check_out_path, _flip_test_on, _normalisation, _write_onnx
from .onestage import ONESTAGE_KIND
from .sidecar import sidecar_path, write_sidecar

__all__ = ['OneStageGraph', 'onestage_settings', 'export_onestage_onnx']


class OneStageGraph(nn.Module):
    """Normalised images -> the activated outputs, in the codec's order; with
    ``flip_test`` the model's own flip-test average (the mirrored input's
    outputs brought back by the codec's ``flip_back``)."""

    def __init__(self, model: nn.Module, flip_test: bool = False) -> None:
        super().__init__()
        self.model = model
        self.flip_test = bool(flip_test)
        self.names = list(model.head.decoder.output_names)

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.flip_test:
            with _flip_test_on(self.model):
                outputs = self.model.predict_outputs(inputs)
        else:
            outputs = self.model.head.predict_outputs(self.model.extract_feat(inputs))
        return tuple(outputs[name] for name in self.names)


def onestage_settings(model: nn.Module, input_size: Sequence[int] | None = None
                      ) -> dict[str, Any]:
    """The sidecar fields that come from the model.

    Raises:
        ValueError: not a one-stage model, no ``dataset_meta``, or an
            ``input_size`` other than the codec's (the grid is built for it).
    """
    codec = getattr(getattr(model, 'head', None), 'decoder', None)
    if not callable(getattr(codec, 'flip_back', None)) or not hasattr(model, 'category_ids'):
        raise ValueError(f'export: {type(model).__name__} is not a one-stage model '
                         '(OneStageEstimator with a CentreLabel codec)')
    meta = getattr(model, 'dataset_meta', None)
    if not meta:
        raise ValueError('export: model.dataset_meta (the keypoint definition) is missing; build '
                         'the model with customkpt.apis.init_model')
    if input_size is not None and tuple(int(v) for v in input_size) != codec.input_size:
        raise ValueError(f'export: this one-stage model decodes a {list(codec.input_size)} input; '
                         f'to export at {list(input_size)}, set the config input_size and train '
                         'or build the model for it')
    mean, std, order = _normalisation(model)
    return dict(model_kind=ONESTAGE_KIND, input_name=INPUT_NAME,
                output_names=list(codec.output_names), input_size=list(codec.input_size),
                mean=mean, std=std, color_order=order, codec=codec.to_dict(),
                category_ids=list(model.category_ids),
                flip_test=bool(model.test_cfg.get('flip_test', False)), meta=dict(meta))


@contextlib.contextmanager
def _in_eval_mode(model: nn.Module) -> Iterator[None]:
    """``model`` in eval mode while the block runs, then as it was."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


@torch.no_grad()
def export_onestage_onnx(model: nn.Module, out_path: str | os.PathLike,
                         input_size: Sequence[int] | None = None, opset: int = 17,
                         dynamic_batch: bool = True, flip_test: bool = False) -> dict[str, Any]:
    """Export a one-stage model from :func:`customkpt.apis.init_model`.

    Args:
        model: an ``OneStageEstimator`` with ``dataset_meta``.
        out_path: the ``.onnx`` file; the sidecar goes to ``<name>.json``.
        input_size: must be the codec's when given.
        opset: ONNX opset.
        dynamic_batch: a dynamic batch axis (else fixed to 1).
        flip_test: bake the flip-test average into the graph.

    Returns:
        dict with the ``onnx`` and ``sidecar`` paths and ``info`` (the
        sidecar's content).
    """
    info = onestage_settings(model, input_size)
    if flip_test and info['meta'].get('flip_indices') is None:
        raise ValueError("export: flip_test needs model.dataset_meta['flip_indices']")
    out = _check_out_path(out_path)
    w, h = info['input_size']
    with _in_eval_mode(model):
        _write_onnx(OneStageGraph(model, flip_test).eval(),
                    torch.randn(1, 3, h, w, device=next(model.parameters()).device), out,
                    opset, dynamic_batch, info['output_names'])
    info.update(flip_test_baked=bool(flip_test), dynamic_batch=bool(dynamic_batch),
                opset=int(opset), onnx_file=out.name)
    side = write_sidecar(sidecar_path(out), info)
    return dict(onnx=str(out), sidecar=str(side), info=info)
