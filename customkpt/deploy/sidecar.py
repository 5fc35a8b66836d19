"""The JSON file written next to an exported model (``<name>.json``).

It holds everything inference needs without the config: how to crop and
normalise the input, how to decode the heatmaps and map them back to image
pixels, and the keypoint definition. This module is numpy/json only so that
the onnxruntime predictor can use it without torch.

Fields (sizes are (w, h)):

- ``format`` ('customkpt-onnx'), ``format_version`` (int; 2 since the
  outputs are a list: version 1 files, with one ``output_name``, are read
  as heatmap models).
- ``input_name``, ``output_names``: graph tensor names ('input';
  ['heatmaps'] or, for SimCC, ['simcc_x', 'simcc_y']).
- ``input_size``: network input (w, h); ``heatmap_size``: heatmap output
  (w, h) of a heatmap model; ``simcc_size``: [Wx, Wy] bins of a SimCC model.
- ``mean``, ``std``: 3 floats each, in the channel order of the network
  input; ``color_order``: 'rgb' or 'bgr', the channel order the network
  takes (images are read as BGR).
- ``bbox_padding``: box size factor before cropping (GetBBoxCenterScale).
- ``crop_use_udp``: the crop used the UDP pixel convention (TopdownAffine);
  ``use_udp``: keypoints map back to the image with the UDP convention.
- ``codec``: the decoder's ``to_dict()``, which
  :func:`customkpt.codecs.build_codec` builds again: ``type``
  ('MSRAHeatmap', 'UDPHeatmap' or 'SimCCLabel'), ``input_size``, and the
  codec's own arguments (heatmaps: ``heatmap_size``, ``sigma``, ``unbiased``
  (MSRA: DARK refinement), ``blur_kernel_size``; SimCC: ``sigma``,
  ``simcc_split_ratio``, ``normalize``).
- ``flip_test_baked``: the graph already averages with the mirrored input;
  ``flip_test``: the training config's test-time flip setting;
  ``shift_heatmap``: one-pixel shift of mirrored heatmaps (heatmap models).
- ``dynamic_batch``, ``opset``.
- ``meta``: the keypoint definition (``KeypointMeta.to_dict()`` keys:
  ``keypoint_names``, ``skeleton``, ``flip_pairs``, ``flip_indices``,
  ``sigmas``, ...).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ['SIDECAR_FORMAT', 'SIDECAR_VERSION', 'REQUIRED_FIELDS', 'sidecar_path',
           'write_sidecar', 'read_sidecar']

SIDECAR_FORMAT = 'customkpt-onnx'
SIDECAR_VERSION = 2
REQUIRED_FIELDS = ('input_name', 'output_names', 'input_size', 'mean', 'std', 'color_order',
                   'bbox_padding', 'crop_use_udp', 'use_udp', 'codec', 'flip_test_baked',
                   'flip_test', 'shift_heatmap', 'meta')
CODEC_FIELDS = ('type', 'input_size')
#: Fields (``codec.<name>`` inside the codec) by the number of outputs.
OUTPUT_FIELDS = {1: ('heatmap_size', 'codec.heatmap_size'), 2: ('simcc_size', )}


def sidecar_path(model_path: str | os.PathLike) -> Path:
    """``<dir>/<name>.json`` for ``<dir>/<name>.onnx`` (or any suffix)."""
    return Path(model_path).with_suffix('.json')


def write_sidecar(path: str | os.PathLike, info: dict[str, Any]) -> Path:
    """Write ``info`` (plus ``format``/``format_version``) as indented JSON."""
    data = dict(format=SIDECAR_FORMAT, format_version=SIDECAR_VERSION)
    data.update(info)
    path = Path(path)
    path.write_text(json.dumps(data, indent=2) + '\n')
    return path


def read_sidecar(path: str | os.PathLike) -> dict[str, Any]:
    """Load and check a sidecar file.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: it is not JSON, not a customkpt sidecar, or lacks a field
            (the message names the file and the field).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'sidecar {str(path)!r} not found: it is written next to the '
                                'model by tools/export_model.py (customkpt.deploy.export_onnx)')
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f'sidecar {str(path)!r} is not valid JSON: {err}') from err
    if not isinstance(data, dict) or data.get('format') != SIDECAR_FORMAT:
        raise ValueError(f"sidecar {str(path)!r}: field 'format' must be {SIDECAR_FORMAT!r}")
    if data.get('format_version') == 1 and 'output_name' in data:
        data['output_names'] = [data.pop('output_name')]
    missing = [key for key in REQUIRED_FIELDS if key not in data]
    if missing:
        raise ValueError(f'sidecar {str(path)!r} lacks field(s) {missing}')
    codec = data['codec']
    if not isinstance(codec, dict):
        raise ValueError(f"sidecar {str(path)!r}: field 'codec' must be an object")
    names = data['output_names']
    if not (isinstance(names, list) and len(names) in OUTPUT_FIELDS):
        raise ValueError(f"sidecar {str(path)!r}: field 'output_names' must list 1 (heatmaps) "
                         f'or 2 (SimCC x, y) names, got {names!r}')
    missing = [f'codec.{key}' for key in CODEC_FIELDS if key not in codec]
    missing += [key for key in OUTPUT_FIELDS[len(names)]
                if (codec if key.startswith('codec.') else data).get(key.split('.')[-1]) is None]
    if missing:
        raise ValueError(f'sidecar {str(path)!r} lacks field(s) {missing}')
    for key in ('input_size', OUTPUT_FIELDS[len(names)][0]):
        value = data[key]
        if not (isinstance(value, list) and len(value) == 2 and all(int(v) > 0 for v in value)):
            raise ValueError(f'sidecar {str(path)!r}: field {key!r} must be [w, h], got {value!r}')
    for key in ('mean', 'std'):
        if not (isinstance(data[key], list) and len(data[key]) == 3):
            raise ValueError(f'sidecar {str(path)!r}: field {key!r} must hold 3 numbers, '
                             f'got {data[key]!r}')
    if data['color_order'] not in ('rgb', 'bgr'):
        raise ValueError(f"sidecar {str(path)!r}: field 'color_order' must be 'rgb' or 'bgr', "
                         f"got {data['color_order']!r}")
    return data
