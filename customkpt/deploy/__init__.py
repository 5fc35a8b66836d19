"""Deployment: ONNX export and the onnxruntime predictors (top-down:
``OnnxPredictor``; one-stage models: ``OnnxOneStagePredictor``; a detector
and a top-down model together: ``OnnxPosePipeline``).

``export_onnx`` and ``export_onestage_onnx`` need torch and are imported on
first use, so that ``from customkpt.deploy import OnnxPredictor`` loads no
torch and no mmengine: only numpy, OpenCV, onnxruntime, :mod:`customkpt.core` and
:mod:`customkpt.codecs`.
"""
from .onestage import OnnxOneStagePredictor, is_onestage_export
from .pipeline import OnnxPosePipeline, read_pipeline, write_pipeline
from .predictor import OnnxPredictor
from .sidecar import read_sidecar, sidecar_path

__all__ = ['OnnxPredictor', 'OnnxOneStagePredictor', 'OnnxPosePipeline', 'export_onnx',
           'export_onestage_onnx', 'is_onestage_export', 'read_pipeline', 'write_pipeline',
           'read_sidecar', 'sidecar_path']


def __getattr__(name: str):
    if name == 'export_onnx':
        from .export import export_onnx
        return export_onnx
    if name == 'export_onestage_onnx':
        from .onestage_export import export_onestage_onnx
        return export_onestage_onnx
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
