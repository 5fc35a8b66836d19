"""Deployment: ONNX export and an onnxruntime predictor.

``export_onnx`` needs torch and is imported on first use, so that
``from customkpt.deploy import OnnxPredictor`` loads no torch and no
mmengine: only numpy, OpenCV, onnxruntime, :mod:`customkpt.core` and
:mod:`customkpt.codecs`.
"""
from .predictor import OnnxPredictor
from .sidecar import read_sidecar, sidecar_path

__all__ = ['OnnxPredictor', 'export_onnx', 'read_sidecar', 'sidecar_path']


def __getattr__(name: str):
    if name == 'export_onnx':
        from .export import export_onnx
        return export_onnx
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
