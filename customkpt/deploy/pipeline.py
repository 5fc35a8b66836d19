"""A detector and a top-down keypoint model, exported, as one pipeline.

``customkpt export POSE_CONFIG POSE_CKPT --detector DET_CONFIG DET_CKPT``
writes both ONNX files with their sidecars and ``<name>_pipeline.json``,
which says how they work together. :class:`OnnxPosePipeline` runs it on an
image (boxes from the detector, keypoints in each box) and
``customkpt video --pipeline`` on a video. Like the predictors, this module
needs numpy, OpenCV and onnxruntime only: no torch, no mmengine.

Pipeline file fields (paths relative to the file's folder):

- ``format`` ('customkpt-pipeline'), ``format_version`` (1);
- ``pose``: the top-down export (``.onnx``, its sidecar next to it);
- ``detector``: the one-stage export whose boxes it crops;
- ``box_score_thr``: the lowest box score kept (0.25 by default);
- ``class_ids``: the detector's class indices kept (``[0]``: the first of
  its ``category_ids``; ``null``: all);
- ``max_detections``: most boxes per image, best first.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..core.boxes import DEFAULT_CLASS_IDS, select_detections
from .onestage import OnnxOneStagePredictor, is_onestage_export
from .predictor import OnnxPredictor
from .sidecar import read_sidecar, sidecar_path

__all__ = ['PIPELINE_FORMAT', 'PIPELINE_VERSION', 'pipeline_path', 'write_pipeline',
           'read_pipeline', 'OnnxPosePipeline']

PIPELINE_FORMAT = 'customkpt-pipeline'
PIPELINE_VERSION = 1


def pipeline_path(pose_onnx: str | os.PathLike) -> Path:
    """``<name>_pipeline.json`` next to the pose model ``<name>.onnx``."""
    pose_onnx = Path(pose_onnx)
    return pose_onnx.with_name(f'{pose_onnx.stem}_pipeline.json')


def _check_roles(where: str, pose: Path, detector: Path) -> None:
    """Both exports exist, ``pose`` is a top-down one and ``detector`` a one-stage one."""
    for field, path in (('pose', pose), ('detector', detector)):
        if not path.is_file():
            raise FileNotFoundError(f'{where}: field {field!r}: {str(path)!r} not found')
        if not sidecar_path(path).is_file():
            raise FileNotFoundError(f'{where}: field {field!r}: {str(path)!r} has no sidecar '
                                    f'{str(sidecar_path(path))!r} (export it with customkpt '
                                    'export)')
    if is_onestage_export(pose):
        raise ValueError(f'{where}: field \'pose\': {str(pose)!r} is a one-stage export; the '
                         'pose model must be a top-down one')
    if not is_onestage_export(detector):
        raise ValueError(f'{where}: field \'detector\': {str(detector)!r} is not a one-stage '
                         'export (customkpt export of a detector or one-stage config)')
    read_sidecar(sidecar_path(pose))        # a readable top-down sidecar


def _check_settings(where: str, thr: Any, class_ids: Any, max_det: Any) -> None:
    if isinstance(thr, bool) or not isinstance(thr, (int, float)) or not math.isfinite(thr) \
            or not 0 <= thr <= 1:
        raise ValueError(f"{where}: field 'box_score_thr' must be a number in [0, 1], "
                         f'got {thr!r}')
    if class_ids is not None and not (
            isinstance(class_ids, list)
            and all(isinstance(c, int) and not isinstance(c, bool) and c >= 0
                    for c in class_ids)):
        raise ValueError(f"{where}: field 'class_ids' must be null or a list of class "
                         f'indices >= 0, got {class_ids!r}')
    if isinstance(max_det, bool) or not isinstance(max_det, int) or max_det < 1:
        raise ValueError(f"{where}: field 'max_detections' must be an integer >= 1, "
                         f'got {max_det!r}')


def write_pipeline(path: str | os.PathLike, pose_onnx: str | os.PathLike,
                   detector_onnx: str | os.PathLike, box_score_thr: float = 0.25,
                   class_ids: Sequence[int] | None = DEFAULT_CLASS_IDS,
                   max_detections: int = 100) -> Path:
    """Write the pipeline file ``path`` for two exports (checked first)."""
    path = Path(path)
    pose, detector = Path(pose_onnx).resolve(), Path(detector_onnx).resolve()
    _check_roles(f'pipeline {str(path)!r}', pose, detector)
    ids = None if class_ids is None else [int(c) for c in class_ids]
    _check_settings(f'pipeline {str(path)!r}', float(box_score_thr), ids, int(max_detections))
    root = path.resolve().parent
    data = dict(format=PIPELINE_FORMAT, format_version=PIPELINE_VERSION,
                pose=os.path.relpath(pose, root), detector=os.path.relpath(detector, root),
                box_score_thr=float(box_score_thr), class_ids=ids,
                max_detections=int(max_detections))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + '\n', encoding='utf-8')
    return path


def read_pipeline(path: str | os.PathLike) -> dict[str, Any]:
    """The checked pipeline file, with ``pose`` and ``detector`` as absolute paths.

    Raises:
        FileNotFoundError: the file, or an export it names, is missing.
        ValueError: not a pipeline file, or a field is wrong (the message
            names the file and the field).
    """
    path = Path(path)
    where = f'pipeline {str(path)!r}'
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        raise FileNotFoundError(f'{where} not found') from None
    except (OSError, ValueError) as err:
        raise ValueError(f'{where}: cannot read it as json ({err})') from err
    if not isinstance(data, dict) or data.get('format') != PIPELINE_FORMAT:
        raise ValueError(f"{where}: field 'format' must be {PIPELINE_FORMAT!r} (not a "
                         'customkpt pipeline file)')
    if data.get('format_version') != PIPELINE_VERSION:
        raise ValueError(f"{where}: field 'format_version' {data.get('format_version')!r}: "
                         f'this customkpt reads version {PIPELINE_VERSION}')
    missing = [k for k in ('pose', 'detector') if not isinstance(data.get(k), str)]
    if missing:
        raise ValueError(f'{where}: field {missing[0]!r} must be the path of an export')
    out = {'box_score_thr': 0.25, 'class_ids': [0], 'max_detections': 100, **data}
    _check_settings(where, out['box_score_thr'], out['class_ids'], out['max_detections'])
    root = path.resolve().parent
    out['pose'], out['detector'] = (str((root / data[k]).resolve()) for k in ('pose', 'detector'))
    _check_roles(where, Path(out['pose']), Path(out['detector']))
    return out


class OnnxPosePipeline:
    """Boxes from the exported detector, keypoints from the exported top-down
    model, on onnxruntime.

    Args:
        path: the pipeline file (:func:`write_pipeline`).
        providers, session_options: for both onnxruntime sessions.

    Attributes:
        info: the checked pipeline file (:func:`read_pipeline`);
        detector: the :class:`OnnxOneStagePredictor`; pose: the
        :class:`OnnxPredictor`; meta: the pose model's keypoint definition.
    """

    def __init__(self, path: str | os.PathLike, providers: Sequence[str] | None = None,
                 session_options: Any = None) -> None:
        self.info = read_pipeline(path)
        self.detector = OnnxOneStagePredictor(self.info['detector'], providers=providers,
                                              session_options=session_options)
        self.pose = OnnxPredictor(self.info['pose'], providers=providers,
                                  session_options=session_options)
        self.meta = self.pose.meta

    def boxes(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The detector's kept boxes of ``image``, best first: float32 (N, 4)
        xyxy image pixels and (N,) scores (:func:`customkpt.core.boxes.select_detections`)."""
        det = self.detector(image)
        return select_detections(det['bboxes'], det['scores'], det['labels'], image.shape,
                                 self.info['box_score_thr'], self.info['class_ids'],
                                 max_det=self.info['max_detections'])

    def __call__(self, img: np.ndarray | str | os.PathLike) -> dict[str, np.ndarray]:
        """Every subject of one image (path or uint8 BGR (h, w, 3)), best box
        first: ``bboxes`` (N, 4) xyxy, ``bbox_scores`` (N,), ``keypoints``
        (N, K, 2) image pixels and ``keypoint_scores`` (N, K); N may be 0."""
        image = OnnxPredictor._read_image(img)
        boxes, scores = self.boxes(image)
        if not len(boxes):
            k = len(self.meta['keypoint_names'])
            return dict(bboxes=boxes.reshape(0, 4), bbox_scores=scores,
                        keypoints=np.zeros((0, k, 2), np.float32),
                        keypoint_scores=np.zeros((0, k), np.float32))
        return self.pose(image, boxes, scores)
