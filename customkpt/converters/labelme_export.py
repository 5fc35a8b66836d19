"""Keypoints written as Labelme annotation files, to be corrected in Labelme.

One json per image, beside it (``imagePath`` is the image's name relative
to the json), with one ``point`` shape per keypoint: ``label`` the keypoint
name, ``group_id`` the instance, ``description`` the prediction's score when
there is one. Points that are not finite (no prediction) are left out. The
files read back with :func:`~customkpt.converters.convert_labelme`
(``keypoints=`` the same names keeps their order).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ['LABELME_VERSION', 'LabelmeInstance', 'labelme_shapes', 'write_labelme']

#: The Labelme file format version written.
LABELME_VERSION = '5.4.1'


@dataclass
class LabelmeInstance:
    """One instance of an image.

    Attributes:
        group_id: the Labelme ``group_id`` (instances of an image differ).
        keypoints: (K, 2) pixels; NaN rows are not written.
        scores: (K,) scores for the ``description``, or ``None``.
    """

    group_id: int
    keypoints: np.ndarray
    scores: np.ndarray | None = None


def labelme_shapes(instances: Sequence[LabelmeInstance], keypoint_names: Sequence[str]
                   ) -> list[dict]:
    """The ``shapes`` list: a point per finite keypoint of every instance."""
    shapes = []
    for inst in instances:
        kpts = np.asarray(inst.keypoints, np.float64).reshape(len(keypoint_names), 2)
        for k, name in enumerate(keypoint_names):
            x, y = (float(v) for v in kpts[k])
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            score = None if inst.scores is None else float(np.asarray(inst.scores)[k])
            shapes.append(dict(label=str(name), points=[[x, y]], group_id=int(inst.group_id),
                               description='' if score is None else f'score {score:.3f}',
                               shape_type='point', flags={}))
    return shapes


def write_labelme(path: str | Path, image_name: str, width: int, height: int,
                  instances: Sequence[LabelmeInstance], keypoint_names: Sequence[str]
                  ) -> Path:
    """Write one Labelme file.

    Args:
        path: the ``.json`` to write (folders created).
        image_name: the image, relative to the json's folder.
        width: image width in pixels.
        height: image height in pixels.
        instances: the image's instances.
        keypoint_names: the K keypoint names (shape labels).

    Returns:
        ``path``.

    Raises:
        ValueError: two instances share a ``group_id``, or a bad image size.
    """
    ids = [int(inst.group_id) for inst in instances]
    if len(set(ids)) != len(ids):
        raise ValueError(f'{path}: instances share a group_id: {ids}')
    if not (int(width) > 0 and int(height) > 0):
        raise ValueError(f'{path}: image size {width}x{height} is not positive')
    data = dict(version=LABELME_VERSION, flags={},
                shapes=labelme_shapes(instances, keypoint_names),
                imagePath=str(image_name).replace('\\', '/'), imageData=None,
                imageHeight=int(height), imageWidth=int(width))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding='utf-8')
    return path
