"""Keypoints from an exported ONNX model with onnxruntime, without torch.

:class:`OnnxPredictor` has the call of :class:`customkpt.apis.TopdownPredictor`:
an image and boxes in, keypoints in image pixels out. It reads the sidecar
JSON written next to the model by :func:`customkpt.deploy.export_onnx` and
uses only numpy, OpenCV and onnxruntime (with :mod:`customkpt.core` and
:mod:`customkpt.codecs`): the heatmaps decode with the codec the sidecar's
``codec`` entry builds, whatever its kind (heatmaps or SimCC vectors).

Shapes: N boxes, K keypoints; keypoints (N, K, 2) float32 image pixels;
boxes (N, 4) xyxy float32.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from ..codecs import build_codec
from ..core.flip import flip_heatmaps, flip_vectors
from ..core.geometry import boxes_to_regions, crop_regions, crop_to_image
from ..core.image import read_image
from .sidecar import read_sidecar, sidecar_path

__all__ = ['OnnxPredictor']


def _default_providers(available: Sequence[str]) -> list[str]:
    return [p for p in ('CUDAExecutionProvider', 'CPUExecutionProvider') if p in available]


class OnnxPredictor:
    """Image + boxes in, keypoints in image pixels out, on onnxruntime.

    Args:
        onnx_path: the exported model; its sidecar ``<name>.json`` must lie
            next to it.
        providers: onnxruntime execution providers (CUDA when available,
            then CPU, by default).
        batch_size: most boxes per run (all at once by default; a model
            exported without a dynamic batch runs its fixed batch).
        flip_test: average with the mirrored crops' outputs. ``None`` takes
            the training config's setting. Ignored when the flip is already
            in the graph (``sidecar['flip_test_baked']``).
        session_options: an ``onnxruntime.SessionOptions`` (threads etc.).

    Attributes:
        meta: the keypoint definition (``KeypointMeta.to_dict()`` form:
            ``keypoint_names``, ``skeleton``, ``flip_indices``, ...).
        info: the whole sidecar.
        codec: the decoder built from ``info['codec']``.

    Raises:
        FileNotFoundError: the model or its sidecar is missing.
        ValueError: the sidecar is malformed (including a codec that
            :func:`customkpt.codecs.build_codec` cannot build), or flip
            test is asked for without ``flip_indices`` in the sidecar's meta.
    """

    def __init__(self, onnx_path: str | os.PathLike, providers: Sequence[str] | None = None,
                 batch_size: int | None = None, flip_test: bool | None = None,
                 session_options: Any = None) -> None:
        import onnxruntime as ort
        path = Path(onnx_path)
        if not path.is_file():
            raise FileNotFoundError(f'OnnxPredictor: model file {str(path)!r} not found')
        self.info = read_sidecar(sidecar_path(path))
        self.meta = dict(self.info['meta'])
        try:
            self.codec = build_codec(self.info['codec'])
        except ValueError as err:
            raise ValueError(f"sidecar {str(sidecar_path(path))!r}: field 'codec': {err}"
                             ) from err
        if batch_size is not None and int(batch_size) < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        self.batch_size = None if batch_size is None else int(batch_size)
        if providers is None:
            providers = _default_providers(ort.get_available_providers())
        self.session = ort.InferenceSession(str(path), sess_options=session_options,
                                            providers=list(providers))
        self.input_size = tuple(int(v) for v in self.info['input_size'])
        self.input_name = self.info['input_name']
        self.output_names = list(self.info['output_names'])
        names = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        if self.input_name not in names or not set(self.output_names) <= set(outputs):
            raise ValueError(f'{str(path)!r}: the sidecar names input {self.input_name!r} and '
                             f'outputs {self.output_names} but the graph has {names} and '
                             f'{outputs}')
        batch_dim = self.session.get_inputs()[0].shape[0]
        self.fixed_batch = batch_dim if isinstance(batch_dim, int) and batch_dim > 0 else None
        self.flip_test = (bool(self.info['flip_test']) if flip_test is None
                          else bool(flip_test)) and not self.info['flip_test_baked']
        if self.flip_test and self.meta.get('flip_indices') is None:
            raise ValueError(f"sidecar {str(sidecar_path(path))!r}: flip test needs "
                             "'meta.flip_indices'")
        channels = 3
        self._mean = np.asarray(self.info['mean'], np.float32).reshape(1, channels, 1, 1)
        self._std = np.asarray(self.info['std'], np.float32).reshape(1, channels, 1, 1)

    # ------------------------------------------------------------ pieces
    @staticmethod
    def _read_image(img: np.ndarray | str | os.PathLike) -> np.ndarray:
        if isinstance(img, np.ndarray):
            if img.dtype != np.uint8 or img.ndim not in (2, 3) or (
                    img.ndim == 3 and img.shape[2] not in (1, 3)):
                raise ValueError(f'OnnxPredictor: image must be uint8 (h, w, 3) BGR, got '
                                 f'{img.dtype} {img.shape}')
        else:
            img = read_image(img, 'OnnxPredictor')
        if img.ndim == 2 or img.shape[2] == 1:
            img = cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
        return img

    def preprocess(self, crops: np.ndarray) -> np.ndarray:
        """uint8 (N, h, w, 3) BGR crops -> float32 (N, 3, h, w) network input."""
        x = crops.transpose(0, 3, 1, 2)
        if self.info['color_order'] == 'rgb':
            x = x[:, ::-1]
        return np.ascontiguousarray((x.astype(np.float32) - self._mean) / self._std)

    def _run(self, inputs: np.ndarray) -> list[np.ndarray]:
        """The graph outputs of (B, 3, h, w) inputs (in the sidecar's
        ``output_names`` order), in runs of the allowed batch."""
        step = self.fixed_batch or self.batch_size or len(inputs)
        runs = []
        for start in range(0, len(inputs), step):
            chunk = inputs[start:start + step]
            n = len(chunk)
            if self.fixed_batch and n < self.fixed_batch:  # pad a static batch
                pad = np.zeros((self.fixed_batch - n, *chunk.shape[1:]), chunk.dtype)
                chunk = np.concatenate([chunk, pad])
            runs.append([out[:n] for out in self.session.run(self.output_names,
                                                              {self.input_name: chunk})])
        return [np.concatenate(parts).astype(np.float32, copy=False) for parts in zip(*runs)]

    def predict_outputs(self, inputs: np.ndarray) -> list[np.ndarray]:
        """The outputs of (N, 3, h, w) inputs, flip-averaged when
        :attr:`flip_test`: ``[heatmaps (N, K, H, W)]`` or ``[simcc_x (N, K,
        Wx), simcc_y (N, K, Wy)]``."""
        outputs = self._run(inputs)
        if self.flip_test:
            flipped = self._run(np.ascontiguousarray(inputs[..., ::-1]))
            table = self.meta['flip_indices']
            if len(flipped) == 1:
                flipped = [flip_heatmaps(flipped[0], table, bool(self.info['shift_heatmap']))]
            else:
                flipped = list(flip_vectors(*flipped, table))
            outputs = [0.5 * (out + back) for out, back in zip(outputs, flipped)]
        return outputs

    # -------------------------------------------------------------- call
    def __call__(self, img: np.ndarray | str | os.PathLike,
                 bboxes: np.ndarray | Sequence[Sequence[float]] | None = None,
                 bbox_scores: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Keypoints of every box in one image.

        Args:
            img: image path or uint8 (h, w, 3) BGR array.
            bboxes: (N, 4) xyxy boxes in image pixels; ``None`` or empty
                means the whole image.
            bbox_scores: (N,) detector scores (1 when not given).

        Returns:
            ``keypoints`` float32 (N, K, 2) image pixels, ``keypoint_scores``
            (N, K), ``bboxes`` (N, 4), ``bbox_scores`` (N,).
        """
        image = self._read_image(img)
        h, w = image.shape[:2]
        if bboxes is None or len(bboxes) == 0:
            boxes = np.array([[0, 0, w, h]], np.float32)
        else:
            boxes = np.asarray(bboxes, np.float32).reshape(-1, 4)
        scores = (np.ones(len(boxes), np.float32) if bbox_scores is None
                  else np.asarray(bbox_scores, np.float32).reshape(-1))
        if bboxes is not None and len(bboxes) == 0 and len(scores) == 0:
            scores = np.ones(1, np.float32)  # no boxes and no scores: the whole image
        if len(scores) != len(boxes):
            raise ValueError(f'bbox_scores has {len(scores)} entries for {len(boxes)} boxes')
        centers, sizes = boxes_to_regions(boxes, self.info['bbox_padding'], self.input_size)
        crops = crop_regions(image, centers, sizes, self.input_size,
                             bool(self.info['crop_use_udp']))
        outputs = self.predict_outputs(self.preprocess(crops))
        keypoints, keypoint_scores = self.codec.batch_decode(*outputs)
        keypoints = crop_to_image(keypoints, self.input_size, centers, sizes,
                                  bool(self.info['use_udp']))
        return dict(keypoints=keypoints, keypoint_scores=keypoint_scores, bboxes=boxes,
                    bbox_scores=scores)
