"""Objects (boxes, classes, keypoints) from an exported one-stage model with
onnxruntime, without torch.

:func:`customkpt.deploy.onestage_export.export_onestage_onnx` writes
``<name>.onnx`` and a sidecar ``<name>.json`` whose ``model_kind`` is
``'onestage'``. Its fields (sizes are (w, h)):

- ``format``, ``format_version`` (as every customkpt sidecar), ``model_kind``;
- ``input_name``, ``output_names`` (the codec's outputs: ``centre_heatmap``,
  ``box_size``, ``centre_offset``; for keypoint models ``keypoint_offsets``,
  ``keypoint_scores`` and, with the codec's ``keypoint_heatmaps``,
  ``keypoint_heatmap`` and ``keypoint_heatmap_offset``; heatmaps and scores
  already passed through the sigmoid);
- ``input_size``, ``mean``, ``std`` (3 floats, network channel order),
  ``color_order`` ('rgb' or 'bgr');
- ``codec``: the :class:`~customkpt.codecs.CentreLabel` ``to_dict()``
  (a codec without ``keypoint_heatmaps``, as older exports wrote it, builds
  with it off and decodes the regressed points alone);
- ``category_ids``: the COCO category of each class index;
- ``flip_test_baked``, ``flip_test``, ``dynamic_batch``, ``opset``;
- ``meta``: the keypoint definition (``flip_indices``, ``sigmas``, ...).

The image is letterboxed onto the input exactly as the training pipeline's
``ImageAffine`` does (:func:`customkpt.codecs.centre.letterbox_region`), and
the decoded objects are mapped back by the codec's
:meth:`~customkpt.codecs.CentreLabel.to_image`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..codecs import build_codec
from ..codecs.centre import letterbox_region
from ..core.geometry import crop_regions
from .predictor import OnnxPredictor
from .sidecar import SIDECAR_FORMAT, sidecar_path

__all__ = ['ONESTAGE_KIND', 'ONESTAGE_FIELDS', 'OnnxOneStagePredictor', 'read_onestage_sidecar',
           'is_onestage_export']

ONESTAGE_KIND = 'onestage'
ONESTAGE_FIELDS = ('input_name', 'output_names', 'input_size', 'mean', 'std', 'color_order',
                   'codec', 'category_ids', 'flip_test_baked', 'flip_test', 'meta')


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding='utf-8'))
    except (OSError, ValueError) as err:
        raise ValueError(f'sidecar {str(path)!r} cannot be read as JSON: {err}') from err


def is_onestage_export(model_path: str | os.PathLike) -> bool:
    """Whether ``model_path`` has a one-stage sidecar next to it."""
    path = sidecar_path(model_path)
    if not path.is_file():
        return False
    data = _load(path)
    return isinstance(data, dict) and data.get('model_kind') == ONESTAGE_KIND


def read_onestage_sidecar(path: str | os.PathLike) -> dict[str, Any]:
    """Load and check a one-stage sidecar (see the module docs).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not JSON, not a one-stage customkpt sidecar, a missing
            field or a codec that does not build (the message names the
            file and the field).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'sidecar {str(path)!r} not found: export_onestage_onnx writes '
                                'it next to the model')
    data = _load(path)
    if not isinstance(data, dict) or data.get('format') != SIDECAR_FORMAT:
        raise ValueError(f"sidecar {str(path)!r}: field 'format' must be {SIDECAR_FORMAT!r}")
    if data.get('model_kind') != ONESTAGE_KIND:
        raise ValueError(f"sidecar {str(path)!r}: field 'model_kind' is "
                         f"{data.get('model_kind')!r}, not {ONESTAGE_KIND!r} (a top-down "
                         'export is run by customkpt.deploy.OnnxPredictor)')
    missing = [key for key in ONESTAGE_FIELDS if key not in data]
    if missing:
        raise ValueError(f'sidecar {str(path)!r} lacks field(s) {missing}')
    try:
        codec = build_codec(data['codec'])
    except ValueError as err:
        raise ValueError(f"sidecar {str(path)!r}: field 'codec': {err}") from err
    if list(codec.output_names) != list(data['output_names']):
        raise ValueError(f"sidecar {str(path)!r}: field 'output_names' {data['output_names']} "
                         f'differs from the codec outputs {list(codec.output_names)}')
    if len(data['category_ids']) != codec.num_classes:
        raise ValueError(f"sidecar {str(path)!r}: field 'category_ids' has "
                         f"{len(data['category_ids'])} ids for {codec.num_classes} classes")
    return data


class OnnxOneStagePredictor:
    """A whole image in, every object out, on onnxruntime.

    Args:
        onnx_path: the exported model; its one-stage sidecar lies next to it.
        providers: onnxruntime execution providers (CUDA when available,
            then CPU, by default).
        flip_test: average with the mirrored image's outputs; ``None``:
            the training config's setting. Ignored when the export has the
            flip in its graph.
        session_options: an ``onnxruntime.SessionOptions``.

    Attributes:
        info: the sidecar; meta: the keypoint definition; codec: the
        decoder; category_ids: COCO category per class index.
    """

    def __init__(self, onnx_path: str | os.PathLike, providers: Sequence[str] | None = None,
                 flip_test: bool | None = None, session_options: Any = None) -> None:
        import onnxruntime as ort
        path = Path(onnx_path)
        if not path.is_file():
            raise FileNotFoundError(f'OnnxOneStagePredictor: model file {str(path)!r} not found')
        self.info = read_onestage_sidecar(sidecar_path(path))
        self.meta = dict(self.info['meta'])
        self.codec = build_codec(self.info['codec'])
        self.category_ids = np.asarray(self.info['category_ids'], np.int64)
        if providers is None:
            providers = [p for p in ('CUDAExecutionProvider', 'CPUExecutionProvider')
                         if p in ort.get_available_providers()]
        self.session = ort.InferenceSession(str(path), sess_options=session_options,
                                            providers=list(providers))
        self.input_size = tuple(int(v) for v in self.info['input_size'])
        self.flip_test = (bool(self.info['flip_test']) if flip_test is None
                          else bool(flip_test)) and not self.info['flip_test_baked']
        self._mean = np.asarray(self.info['mean'], np.float32).reshape(1, 3, 1, 1)
        self._std = np.asarray(self.info['std'], np.float32).reshape(1, 3, 1, 1)

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """uint8 (h, w, 3) BGR -> the (1, 3, h, w) float32 input, and the
        letterbox region's centre (2,) and size (2,)."""
        h, w = image.shape[:2]
        centre, size = letterbox_region(w, h, self.input_size)
        crop = crop_regions(image, centre[None], size[None], self.input_size)
        x = crop.transpose(0, 3, 1, 2)
        if self.info['color_order'] == 'rgb':
            x = x[:, ::-1]
        blob = (x.astype(np.float32) - self._mean) / self._std
        return np.ascontiguousarray(blob), centre, size

    def predict_outputs(self, inputs: np.ndarray) -> dict[str, np.ndarray]:
        """The graph outputs of (B, 3, h, w) inputs by name, flip-averaged
        (:meth:`customkpt.codecs.CentreLabel.flip_back`) when
        :attr:`flip_test`."""
        names = list(self.info['output_names'])
        feed = {self.info['input_name']: inputs}
        outputs = dict(zip(names, self.session.run(names, feed)))
        if self.flip_test:
            mirrored = {self.info['input_name']: np.ascontiguousarray(inputs[..., ::-1])}
            back = self.codec.flip_back(dict(zip(names, self.session.run(names, mirrored))),
                                        self.meta.get('flip_indices'))
            outputs = {n: 0.5 * (outputs[n] + back[n]) for n in names}
        return outputs

    def __call__(self, img: np.ndarray | str | os.PathLike) -> dict[str, np.ndarray]:
        """Objects of one image, best first: ``bboxes`` float32 (N, 4) xyxy
        image pixels, ``scores`` (N,), ``labels`` (N,), ``category_ids``
        (N,) and, for keypoint models, ``keypoints`` (N, K, 2) image pixels
        and ``keypoint_scores`` (N, K)."""
        image = OnnxPredictor._read_image(img)
        blob, centre, size = self.preprocess(image)
        pred = self.codec.batch_decode(**self.predict_outputs(blob),
                                       sigmas=self.meta.get('sigmas'))[0]
        out = self.codec.to_image(pred, centre, size, image.shape)
        out['category_ids'] = self.category_ids[pred['labels']]
        return out
