"""User-facing inference: load a model from config + checkpoint, run it on
images and boxes; box providers and the video pipeline.

The names below load their module on first use (``from customkpt.apis import
init_model``), so that a light submodule (``customkpt.apis.quickstart``,
``customkpt.apis.outlier_scores``) imports without torch. The box providers
register in ``customkpt.registry.BOX_PROVIDERS`` when their modules load,
which the registry does the first time it builds one."""
from __future__ import annotations

import importlib
from typing import Any

#: name -> the submodule that defines it.
_EXPORTS = {
    'init_model': 'inference', 'inference_topdown': 'inference',
    'stack_predictions': 'inference', 'test_pipeline_of': 'inference',
    'TopdownPredictor': 'inference', 'FullFrameBoxes': 'boxes', 'BoxFileBoxes': 'boxes',
    'KeypointTrackingBoxes': 'boxes', 'build_box_provider': 'boxes',
    'OnnxDetectorBoxes': 'detector', 'OneStageDetectorBoxes': 'onestage',
    'OneStagePredictor': 'onestage', 'VideoPoseEstimator': 'video',
    'VideoOutputs': 'pipeline', 'VideoRunSummary': 'pipeline', 'run_video': 'pipeline',
    'FrameSource': 'sources', 'open_source': 'sources', 'PoseVideoWriter': 'writers',
    'PoseJsonWriter': 'writers', 'DlcCsvWriter': 'writers', 'read_pose_jsonl': 'writers',
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load an exported name, or a submodule (``customkpt.apis.boxes``), on first use."""
    if name.startswith('_'):
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f'{__name__}.{_EXPORTS[name]}'), name)
        globals()[name] = value
        return value
    try:
        return importlib.import_module(f'{__name__}.{name}')
    except ModuleNotFoundError as exc:
        if exc.name != f'{__name__}.{name}':
            raise
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}') from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
