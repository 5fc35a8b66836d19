"""A YOLO-style object detector exported to ONNX as a box provider
(:class:`OnnxDetectorBoxes`, registered in
:data:`customkpt.registry.BOX_PROVIDERS`), with its letterbox
preprocessing. See :mod:`customkpt.apis.boxes` for the provider contract.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from customkpt.core.boxes import DEFAULT_CLASS_IDS, nms
from customkpt.registry import BOX_PROVIDERS

from .boxes import Boxes, clip_to_frame, empty_boxes

__all__ = ['OnnxDetectorBoxes', 'letterbox']


def letterbox(img: np.ndarray, size: tuple[int, int], fill: int = 114
              ) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize keeping the aspect ratio and pad to ``size`` (w, h), the image
    centred.

    Returns:
        The (h, w, 3) padded image, the scale (new / old) and the (x, y)
        padding added on the left / top: ``orig = (letterboxed - pad) / scale``.
    """
    out_w, out_h = size
    h, w = img.shape[:2]
    scale = min(out_w / w, out_h / h)
    new_w, new_h = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    resized = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_LINEAR) \
        if (new_w, new_h) != (w, h) else img
    pad_x, pad_y = (out_w - new_w) / 2, (out_h - new_h) / 2
    left, top = int(round(pad_x - 0.1)), int(round(pad_y - 0.1))
    canvas = np.full((out_h, out_w, 3), fill, np.uint8)
    canvas[top:top + new_h, left:left + new_w] = resized
    return canvas, scale, (float(left), float(top))


@BOX_PROVIDERS.register_module()
class OnnxDetectorBoxes:
    """A YOLO-style object detector exported to ONNX, run by onnxruntime.

    Preprocessing: letterbox to ``input_size`` (grey 114 padding), BGR to
    RGB, scale to [0, 1], NCHW float32. Outputs understood (boxes as
    centre x, centre y, width, height in input pixels):

    * ``'v8'``: (1, 4 + C, A), class scores without objectness (YOLOv8 and
      later, ``yolo export format=onnx``);
    * ``'v5'``: (1, A, 5 + C), objectness then class scores (YOLOv5/v7);
      a box's score is objectness x class score.

    ``output_format='auto'`` picks ``'v8'`` when the second axis is the
    shorter one (A, the number of anchors, is always the larger), else
    ``'v5'``. Boxes of the wanted classes above ``score_thr`` go through a
    per-class NMS, at most ``max_det`` are kept, and they are mapped back to
    frame pixels.

    Args:
        onnx_path: the exported detector.
        input_size: network input (w, h); ignored when the model's input has
            a fixed size (the model's own size is used).
        score_thr: lowest box score kept.
        nms_thr: NMS IoU threshold.
        class_ids: classes to keep (0 is "person" in COCO-trained models);
            ``None`` keeps all.
        max_det: most boxes per frame.
        output_format: 'auto', 'v8' or 'v5'.
        providers: onnxruntime execution providers (CPU by default).
    """

    FORMATS = ('auto', 'v8', 'v5')

    def __init__(self, onnx_path: str | Path, input_size: Sequence[int] = (640, 640),
                 score_thr: float = 0.25, nms_thr: float = 0.45,
                 class_ids: Sequence[int] | None = DEFAULT_CLASS_IDS, max_det: int = 100,
                 output_format: str = 'auto', providers: Sequence[str] | None = None) -> None:
        import onnxruntime as ort
        if output_format not in self.FORMATS:
            raise ValueError(f'OnnxDetectorBoxes: output_format must be one of {self.FORMATS}, '
                             f'got {output_format!r}')
        path = Path(onnx_path)
        if not path.is_file():
            raise FileNotFoundError(f'detector model {str(path)!r} not found')
        self.session = ort.InferenceSession(str(path),
                                            providers=list(providers or ['CPUExecutionProvider']))
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        dims = list(inp.shape)
        size = (int(input_size[0]), int(input_size[1]))
        if len(dims) == 4 and isinstance(dims[2], int) and isinstance(dims[3], int):
            size = (dims[3], dims[2])  # a fixed-size export decides
        self.input_size = size
        self.score_thr = float(score_thr)
        self.nms_thr = float(nms_thr)
        self.class_ids = None if class_ids is None else [int(c) for c in class_ids]
        self.max_det = int(max_det)
        self.output_format = output_format
        self.path = path

    def preprocess(self, frame: np.ndarray) -> tuple[np.ndarray, float, tuple[float, float]]:
        """The network input (1, 3, h, w) float32 and the letterbox scale and
        padding."""
        img, scale, pad = letterbox(frame, self.input_size)
        blob = img[..., ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        return np.ascontiguousarray(blob), scale, pad

    def decode(self, output: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw output -> boxes (M, 4) xyxy in input pixels, scores (M,),
        class ids (M,), after the score and class filter (before NMS)."""
        out = np.asarray(output, np.float32)
        if out.ndim == 3:
            out = out[0]
        if out.ndim != 2:
            raise ValueError(f'{self.path}: expected a (1, 4 + C, A) or (1, A, 5 + C) output, '
                             f'got shape {np.shape(output)}')
        fmt = self.output_format
        if fmt == 'auto':
            fmt = 'v8' if out.shape[0] <= out.shape[1] else 'v5'
        if fmt == 'v8':
            rows = out.T
            if rows.shape[1] < 5:
                raise ValueError(f'{self.path}: v8 output needs 4 + C >= 5 rows, got '
                                 f'shape {np.shape(output)}')
            cls_scores = rows[:, 4:]
        else:
            rows = out
            if rows.shape[1] < 6:
                raise ValueError(f'{self.path}: v5 output needs 5 + C >= 6 columns, got '
                                 f'shape {np.shape(output)}')
            cls_scores = rows[:, 5:] * rows[:, 4:5]
        classes = cls_scores.argmax(1)
        scores = cls_scores[np.arange(len(rows)), classes]
        keep = scores >= self.score_thr
        if self.class_ids is not None:
            keep &= np.isin(classes, self.class_ids)
        cxcywh = rows[keep, :4]
        boxes = np.concatenate([cxcywh[:, :2] - cxcywh[:, 2:] / 2,
                                cxcywh[:, :2] + cxcywh[:, 2:] / 2], axis=1)
        return boxes.astype(np.float32), scores[keep].astype(np.float32), classes[keep]

    def __call__(self, frame: np.ndarray, frame_idx: int,
                 previous: Mapping[str, Any] | None = None) -> Boxes:
        blob, scale, (pad_x, pad_y) = self.preprocess(frame)
        output = self.session.run(None, {self.input_name: blob})[0]
        boxes, scores, classes = self.decode(output)
        if not len(boxes):
            return empty_boxes()
        keep = nms(boxes, scores, self.nms_thr, classes)[:self.max_det]
        boxes, scores = boxes[keep], scores[keep]
        boxes = (boxes - np.array([pad_x, pad_y, pad_x, pad_y], np.float32)) / scale
        boxes = clip_to_frame(boxes, frame.shape)
        good = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        return boxes[good], scores[good].astype(np.float32)
