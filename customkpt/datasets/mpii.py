"""Top-down dataset over MPII Human Pose in its json layout.

The file is a list of records, one per person::

    {"image": "005808361.jpg", "center": [966.0, 340.0], "scale": 4.718488,
     "joints": [[x, y] x 16], "joints_vis": [0/1 x 16]}

Conventions (those of the MPII annotations and of the tools that evaluate on
them):

* Coordinates in the file are MATLAB's, 1-based; this dataset subtracts 1
  from the centre and from every labelled joint, so samples are in the same
  0-based pixel frame as COCO samples. Add 1 to predictions before comparing
  them with the original MATLAB ground truth.
* Unlabelled joints (``joints_vis`` 0, stored as -1, -1) become (0, 0) with
  ``keypoints_visible`` 0.
* ``scale`` is the person's height / 200 (``pixel_std`` = 200). The box is
  a square of side ``200 * scale`` around the centre moved down by
  ``15 * scale`` pixels (MPII centres sit high on the torso; the shift keeps
  the legs in the crop). The customary enlargement of that box by 1.25 is
  *not* applied here: it is the ``padding=1.25`` of the pipeline's
  ``GetBBoxCenterScale``, as for every other dataset, so the crop is the
  standard ``1.25 * 200 * scale`` square.
* ``head_size`` (the PCKh normaliser) is MPII's ``0.6 x`` head-box diagonal
  when a ``headboxes_file`` gives the head boxes. This json layout has none,
  and without the file the dataset uses the head segment, the
  ``upper_neck``-``head_top`` distance, which the 0.6 factor is meant to
  approximate (in MPII's annotations that segment is exactly ``200 * scale /
  6``, which is used when either point is unlabelled or the definition has
  no such points). This is logged once.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
from mmengine.logging import print_log

from ..core.presets import MPII_METAINFO
from ..meta import KeypointMeta
from ..registry import DATASETS
from .base import BaseKeypointDataset
from .validation import ValidationReport, read_json, validate_mpii

PIXEL_STD = 200.0
#: Downward shift of the MPII centre, in units of ``scale``.
CENTER_SHIFT = 15.0
#: MPII's factor from head-box diagonal to head size (PCKh normaliser).
HEAD_SIZE_FACTOR = 0.6
#: Head segment length / (200 * scale) in MPII's annotations.
HEAD_SEGMENT_PER_HEIGHT = 1.0 / 6.0


def load_headboxes(path: str | Path, num_records: int) -> np.ndarray:
    """Head boxes from a ``.npy`` or ``.json`` file.

    Args:
        path: an array of shape (N, 2, 2) (``[[x1, y1], [x2, y2]]`` per
            record, in file order), or MATLAB's (2, 2, N) layout.
        num_records: N, the number of records of the annotation file.

    Returns:
        float32 (N, 2, 2).
    """
    path = str(path)
    if path.endswith('.npy'):
        boxes = np.load(path)
    elif path.endswith('.json'):
        with open(path, encoding='utf-8') as f:
            boxes = np.asarray(json.load(f))
    else:
        raise ValueError(f'headboxes_file must be .npy or .json, got {path}')
    boxes = np.asarray(boxes, dtype=np.float32)
    if boxes.shape == (2, 2, num_records) and num_records != 2:
        boxes = boxes.transpose(2, 0, 1)
    if boxes.shape != (num_records, 2, 2):
        raise ValueError(f'{path}: head boxes must have shape ({num_records}, 2, 2) '
                         f'(one per annotation record), got {boxes.shape}')
    return boxes


@DATASETS.register_module()
class MpiiDataset(BaseKeypointDataset):
    """MPII json layout, top-down (one sample per record).

    Args:
        ann_file: the MPII-layout json.
        headboxes_file: optional head boxes for PCKh (see
            :func:`load_headboxes`); without it ``head_size`` is approximated
            from the head segment (see the module docs).
        **kwargs: :class:`BaseKeypointDataset` arguments. ``metainfo``
            defaults to :data:`customkpt.core.presets.MPII_METAINFO`; a given
            dict overrides its keys, a path replaces it.

    Samples hold the COCO dataset's keys (``img_id`` is the image name's
    number, or the image's order of appearance for non-numeric names; ``id``
    the record position) plus ``head_size`` (1,).
    """

    def __init__(self, ann_file: str, headboxes_file: str | None = None,
                 **kwargs: Any) -> None:
        self.headboxes_file = headboxes_file
        super().__init__(ann_file, **kwargs)

    def _join_prefix(self) -> None:
        super()._join_prefix()
        if self.headboxes_file and not os.path.isabs(self.headboxes_file) and self.data_root:
            self.headboxes_file = os.path.join(self.data_root, self.headboxes_file)

    def _read_annotations(self) -> list[dict]:
        return read_json(self.ann_file)

    def _resolve_meta(self, raw: Any) -> KeypointMeta:
        base = mpii_meta()
        cfg = KeypointMeta.config_of(self.meta_cfg)
        if not cfg:
            return base
        return KeypointMeta.from_config(cfg, base=base, source=f'metainfo of {self.ann_file}')

    def _validate(self, raw: Any) -> ValidationReport:
        assert self.meta is not None
        return validate_mpii(raw, self.ann_file, self.img_dir, self.meta.num_keypoints,
                             check_images=self.check_images)

    def _parse(self, raw: list[dict], skip: set[int]) -> list[dict]:
        assert self.meta is not None
        headboxes = (load_headboxes(self.headboxes_file, len(raw))
                     if self.headboxes_file else None)
        positions = [p for p in range(len(raw)) if p not in skip]
        recs = [raw[p] for p in positions]
        n, k = len(recs), self.meta.num_keypoints
        joints = np.asarray([r['joints'] for r in recs], dtype=np.float32).reshape(n, k, 2)
        visible = np.asarray([r['joints_vis'] for r in recs], dtype=np.float32).reshape(n, k) > 0
        keypoints = np.where(visible[..., None], joints - 1.0, 0.0).astype(np.float32)
        scale = np.asarray([r['scale'] for r in recs], dtype=np.float32).reshape(n)
        center = np.asarray([r['center'] for r in recs], dtype=np.float32).reshape(n, 2) - 1.0
        center[:, 1] += CENTER_SHIFT * scale
        half = PIXEL_STD * scale[:, None] / 2
        boxes = np.concatenate([center - half, center + half], axis=1).astype(np.float32)
        head_size = self._head_sizes(keypoints, visible, scale, headboxes, positions)

        img_ids = _image_ids([r['image'] for r in recs])
        keep = np.ones(n, dtype=bool) if self.test_mode else visible.any(axis=1)
        data_list = []
        for i in np.flatnonzero(keep):
            box = boxes[i:i + 1].copy()
            data_list.append(dict(
                img_path=os.path.join(self.img_dir, recs[i]['image']),
                img_id=img_ids[i], id=positions[i], category_id=1,
                bbox=box, bbox_score=np.ones(1, dtype=np.float32),
                keypoints=keypoints[i:i + 1].copy(),
                keypoints_visible=visible[i:i + 1].astype(np.float32),
                area=((box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])).astype(np.float32),
                iscrowd=0, num_keypoints=int(visible[i].sum()),
                head_size=head_size[i:i + 1].copy(), **self._common_fields()))
        left_out = n - len(data_list)
        print_log(f'{type(self).__name__}: {len(data_list)} instances from {self.ann_file}'
                  + (f' (left out: no labelled point: {left_out})' if left_out else ''),
                  logger='current', level=logging.INFO)
        return data_list

    def _head_sizes(self, keypoints: np.ndarray, visible: np.ndarray, scale: np.ndarray,
                    headboxes: np.ndarray | None, positions: list[int]) -> np.ndarray:
        """(N,) float32 PCKh normalisers (see the module docs)."""
        assert self.meta is not None
        if headboxes is not None:
            boxes = headboxes[positions]
            return (HEAD_SIZE_FACTOR
                    * np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=1)).astype(np.float32)
        size = PIXEL_STD * scale * HEAD_SEGMENT_PER_HEIGHT
        names = self.meta.keypoint_names
        how = '200 * scale / 6'
        if 'upper_neck' in names and 'head_top' in names:
            a, b = names.index('upper_neck'), names.index('head_top')
            both = visible[:, a] & visible[:, b]
            segment = np.linalg.norm(keypoints[:, a] - keypoints[:, b], axis=1)
            size = np.where(both & (segment > 0), segment, size)
            how = 'the upper_neck-head_top distance (200 * scale / 6 where unlabelled)'
        print_log(f'{type(self).__name__}: no headboxes_file; head_size (PCKh) approximates '
                  f'0.6 x head-box diagonal by {how}', logger='current', level=logging.INFO)
        return size.astype(np.float32)


def _image_ids(names: list[str]) -> list[int]:
    """The number in each image name (``005808361.jpg`` -> 5808361), or the
    order of first appearance when a name is not a number."""
    stems = [os.path.splitext(os.path.basename(n))[0] for n in names]
    if all(s.isdigit() for s in stems):
        return [int(s) for s in stems]
    order: dict[str, int] = {}
    return [order.setdefault(n, len(order)) for n in names]


def mpii_meta() -> KeypointMeta:
    """The default MPII definition as a :class:`KeypointMeta`."""
    return KeypointMeta.from_config(MPII_METAINFO, source='MPII default')


__all__ = ['MpiiDataset', 'load_headboxes', 'mpii_meta']
