"""MPII Human Pose (json layout) -> COCO-keypoint json.

Input: a json list of person records::

    {"image": "005808361.jpg", "center": [966.0, 340.0], "scale": 4.718488,
     "joints": [[x, y] x 16], "joints_vis": [0/1 x 16]}

MPII conventions used (those of :class:`customkpt.datasets.MpiiDataset`):

* Coordinates are MATLAB's, 1-based: 1 is subtracted from the centre and
  from every labelled joint, giving COCO's 0-based pixel frame.
* ``joints_vis`` marks labelled joints (``v = 2``); the others are written
  ``0, 0, 0``. Without ``joints_vis``, joints at ``(-1, -1)`` are unlabelled.
* ``scale`` is the person height / 200. The box is the square of side
  ``200 * scale`` centred on the centre moved down by ``15 * scale``
  pixels. It is *not* enlarged (the pipeline's ``padding=1.25`` does that,
  giving the usual ``1.25 * 200 * scale`` crop). It is clipped to the image
  like every COCO box (the COCO dataset clips boxes when it loads them
  anyway), so for people cut by the image border the crop is centred on the
  visible part rather than on MPII's centre; ``clip_boxes=False`` writes the
  unclipped square for tools that keep it.

MPII's PCKh needs head boxes, which this layout lacks: evaluate PCKh with
the MPII dataset on the original json; the converted file serves training
and COCO-style (OKS / PCK) evaluation.

Images are looked up in ``images_dir`` (default: the json's folder), the
image root; ``file_name`` is the record's ``image``. Images are numbered in
order of first appearance; the persons of an image keep the file's order.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..core.presets import MPII_FLIP_PAIRS, MPII_NAMES, MPII_SKELETON
from .builder import ConversionResult, person_builder
from .common import DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, ConversionError, read_record_list

#: MPII's scale unit: ``scale`` is the person height in units of 200 pixels.
PIXEL_STD = 200.0
#: Downward move of the centre, in units of ``scale`` (MPII centres sit high).
CENTER_SHIFT = 15.0


def _joints(rec: dict, where: str) -> np.ndarray:
    """(16, 3) COCO ``x, y, v`` in 0-based pixels."""
    k = len(MPII_NAMES)
    try:
        joints = np.asarray(rec.get('joints'), dtype=np.float64)
    except (TypeError, ValueError):
        joints = np.empty(0)
    if joints.shape != (k, 2):
        raise ConversionError(f'{where}: "joints" must be {k} [x, y] pairs, got shape '
                              f'{joints.shape if joints.ndim else rec.get("joints")!r}')
    if 'joints_vis' in rec:
        try:
            vis = np.asarray(rec['joints_vis'], dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            vis = np.empty(0)
        if vis.shape != (k,):
            raise ConversionError(f'{where}: "joints_vis" must be {k} numbers')
        labelled = vis > 0
    else:
        labelled = ~((joints[:, 0] == -1) & (joints[:, 1] == -1))
    bad = labelled & ~np.isfinite(joints).all(axis=1)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ConversionError(f'{where}: joint {j} ({MPII_NAMES[j]}) is labelled but not finite')
    out = np.zeros((k, 3), dtype=np.float64)
    out[labelled, :2] = joints[labelled] - 1.0
    out[labelled, 2] = 2
    return out


def _box(rec: dict, where: str) -> list[float]:
    """The person box ``[x1, y1, x2, y2]`` in 0-based pixels."""
    try:
        cx, cy = (float(v) for v in rec['center'])
        scale = float(rec['scale'])
    except (KeyError, TypeError, ValueError):
        raise ConversionError(f'{where}: needs "center" [x, y] and "scale"') from None
    if not (math.isfinite(cx) and math.isfinite(cy) and scale > 0 and math.isfinite(scale)):
        raise ConversionError(f'{where}: centre {rec["center"]!r} / scale {rec["scale"]!r} '
                              'must be finite, scale > 0')
    cx, cy = cx - 1.0, cy - 1.0 + CENTER_SHIFT * scale
    half = PIXEL_STD * scale / 2.0
    return [cx - half, cy - half, cx + half, cy + half]


def convert_mpii(ann_file: str | Path, images_dir: str | Path | None = None,
                 bbox_pad: float = DEFAULT_BBOX_PAD, min_margin: float = DEFAULT_MIN_MARGIN,
                 category_name: str = 'person', clip_boxes: bool = True,
                 progress: bool = True) -> ConversionResult:
    """Convert an MPII json file.

    Args:
        ann_file: the json list of person records.
        images_dir: the image folder; default: the json's folder.
        bbox_pad: unused by MPII (boxes come from centre and scale); kept so
            all converters take the same options.
        min_margin: unused, as ``bbox_pad``.
        category_name: category (and dataset) name.
        clip_boxes: clip the centre/scale boxes to the image.
        progress: show a progress bar.

    Returns:
        The converted dataset; its image root is ``images_dir``.

    Raises:
        ConversionError: malformed records (naming record and image),
            missing images.
    """
    ann_file, records, root = read_record_list(ann_file, images_dir, 'MPII',
                                               'MPII person records')
    builder = person_builder(category_name, MPII_NAMES, MPII_SKELETON, MPII_FLIP_PAIRS, 'MPII',
                             bbox_pad, min_margin)
    image_ids: dict[str, int] = {}
    for pos, rec in enumerate(tqdm(records, desc='mpii', unit='person', disable=not progress)):
        where = f'{ann_file}: record {pos}'
        if not isinstance(rec, dict) or not isinstance(rec.get('image'), str):
            raise ConversionError(f'{where}: expected an object with a string "image"')
        name: str = rec['image']
        where += f' (image {name!r})'
        kpts = _joints(rec, where)
        box = _box(rec, where)
        if name not in image_ids:
            image_ids[name] = builder.add_image_file(root, name, where)
        builder.add_instance(image_ids[name], kpts, box_xyxy=box, clip_box=clip_boxes)
    return builder.finish(root, 'mpii')


__all__ = ['CENTER_SHIFT', 'PIXEL_STD', 'convert_mpii']
