"""Assembling a COCO-keypoint dataset: :class:`CocoBuilder` and its result."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..core.boxes import boxes_from_points, clip_boxes, xyxy_to_xywh
from .category import make_category
from .common import DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, ConversionError
from .images import image_size

__all__ = ['ConversionStats', 'ConversionResult', 'CocoBuilder', 'bbox_from_points',
           'person_builder']


def bbox_from_points(xy: np.ndarray, width: float, height: float,
                     pad: float = DEFAULT_BBOX_PAD,
                     min_margin: float = DEFAULT_MIN_MARGIN) -> list[float] | None:
    """A box around labelled points.

    Args:
        xy: (P, 2) coordinates of the labelled points, P >= 1.
        width: image width, for clipping.
        height: image height, for clipping.
        pad: fraction of the extent's longer side added on every side.
        min_margin: smallest margin in pixels on every side.

    Returns:
        ``[x, y, w, h]``, or ``None`` when the clipped box has no area (the
        points lie outside the image).
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(1, -1, 2)
    box = boxes_from_points(xy, np.ones(xy.shape[:2], bool), padding=pad, min_margin=min_margin,
                            dtype=np.float64)
    return _clipped_xywh(box, width, height)


def _clipped_xywh(box_xyxy: Any, width: float, height: float,
                  sort_corners: bool = False) -> list[float] | None:
    """One xyxy box clipped to the image as ``[x, y, w, h]``; ``None`` when
    nothing of it is left."""
    box = clip_boxes(np.asarray(box_xyxy, dtype=np.float64), width, height,
                     sort_corners=sort_corners, dtype=np.float64)
    if not (box[0, 2] > box[0, 0] and box[0, 3] > box[0, 1]):
        return None
    return xyxy_to_xywh(box, dtype=np.float64)[0].tolist()


@dataclass
class ConversionStats:
    """What a conversion produced and left out.

    Attributes:
        num_images: images written.
        num_instances: annotations written.
        skipped: reason -> number of instances not written.
        labelled_per_keypoint: labelled points (v > 0) per keypoint.
        points_outside: labelled points outside the image (kept as given).
        empty_images: images written without an annotation (the source lists
            them, but they hold no labelled instance to convert).
        images_left_out: reason -> number of images the source lists that
            were not written.
        notes: the format's own remarks; :meth:`summary_notes` adds the
            lines on images from the counts.
    """

    num_images: int = 0
    num_instances: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    labelled_per_keypoint: list[int] = field(default_factory=list)
    points_outside: int = 0
    empty_images: int = 0
    images_left_out: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def num_skipped(self) -> int:
        """All instances not written."""
        return sum(self.skipped.values())

    def image_notes(self) -> list[str]:
        """The summary lines on images kept without an annotation and on
        listed images left out, worded alike for every format."""
        lines = [f'{self.empty_images} image(s) without a labelled instance kept '
                 '(no annotation)'] if self.empty_images else []
        return lines + [f'{n} image(s) left out: {reason}'
                        for reason, n in self.images_left_out.items()]

    def summary_notes(self) -> list[str]:
        """Every remark of the summary: :attr:`notes`, then :meth:`image_notes`."""
        return list(self.notes) + self.image_notes()


@dataclass
class ConversionResult:
    """A converted dataset before splitting.

    Attributes:
        coco: the full COCO dict (all images).
        image_root: the folder ``file_name`` entries are relative to.
        stats: counts for the summary.
        format: the source format (``dlc``, ``labelme``, ``aic``, ``mpii``).
    """

    coco: dict
    image_root: Path
    stats: ConversionStats
    format: str

    @property
    def keypoint_names(self) -> list[str]:
        """The category's keypoint names."""
        return list(self.coco['categories'][0]['keypoints'])

    def drop_empty_images(self) -> None:
        """Leave out the images without an annotation (a video task that
        lists every frame but labels a few), counted in ``stats`` as images
        left out."""
        annotated = {a['image_id'] for a in self.coco['annotations']}
        kept = [img for img in self.coco['images'] if img['id'] in annotated]
        dropped = len(self.coco['images']) - len(kept)
        if dropped:
            self.coco['images'] = kept
            self.stats.num_images = len(kept)
            self.stats.empty_images = 0
            _count(self.stats.images_left_out, 'no labelled instance (--drop-empty)', dropped)


class CocoBuilder:
    """Collects images and instances and numbers them.

    Args:
        category: the entry made by :func:`make_category`.
        bbox_pad: padding of boxes derived from points (see
            :func:`bbox_from_points`).
        min_margin: smallest margin of derived boxes, in pixels.
    """

    def __init__(self, category: dict, bbox_pad: float = DEFAULT_BBOX_PAD,
                 min_margin: float = DEFAULT_MIN_MARGIN) -> None:
        if not (bbox_pad >= 0 and math.isfinite(bbox_pad)):
            raise ConversionError(f'bbox padding must be a fraction >= 0, got {bbox_pad}')
        if not (min_margin >= 0 and math.isfinite(min_margin)):
            raise ConversionError(f'minimum box margin must be >= 0, got {min_margin}')
        self.category = category
        self.num_keypoints = len(category['keypoints'])
        self.bbox_pad = float(bbox_pad)
        self.min_margin = float(min_margin)
        self.images: list[dict] = []
        self.annotations: list[dict] = []
        self.stats = ConversionStats(labelled_per_keypoint=[0] * self.num_keypoints)
        self._sizes: dict[int, tuple[float, float]] = {}

    def add_image(self, file_name: str, width: int, height: int, **fields: Any) -> int:
        """Add an image; extra ``fields`` (``folder``, ``video``, ...) are
        written with it. Returns its id."""
        if not (width > 0 and height > 0):
            raise ConversionError(f'{file_name}: image size {width}x{height} is not positive')
        img_id = len(self.images) + 1
        self.images.append({'id': img_id, 'file_name': str(file_name), 'width': int(width),
                            'height': int(height), **fields})
        self._sizes[img_id] = (float(width), float(height))
        return img_id

    def add_image_file(self, root: Path, file_name: str, where: str) -> int:
        """Add the image ``root / file_name`` with the size its header gives;
        a missing or unreadable image is a ConversionError naming ``where``."""
        try:
            width, height = image_size(root / file_name)
        except ConversionError as exc:
            raise ConversionError(f'{where}: {exc} (set --images-dir to the image '
                                  'folder)') from None
        return self.add_image(file_name, width, height)

    def skip(self, reason: str, count: int = 1) -> None:
        """Count instances left out for ``reason``."""
        _count(self.stats.skipped, reason, count)

    def leave_out(self, reason: str, count: int = 1) -> None:
        """Count images the source lists but that are not written, for
        ``reason`` (an image without a labelled instance is normally kept,
        see :meth:`finish`)."""
        _count(self.stats.images_left_out, reason, count)

    def note(self, message: str) -> None:
        """Add a remark to the summary (once)."""
        if message not in self.stats.notes:
            self.stats.notes.append(message)

    def add_instance(self, image_id: int, keypoints: np.ndarray,
                     box_xyxy: Sequence[float] | None = None,
                     clip_box: bool = True, **fields: Any) -> int | None:
        """Add one instance.

        Args:
            image_id: an id returned by :meth:`add_image`.
            keypoints: (K, 3) ``x, y, v``; ``v`` in {0, 1, 2}, 0 = unlabelled
                (its coordinates are ignored and written as 0).
            box_xyxy: the instance box, when the source gives one;
                otherwise it is derived from the labelled points.
            clip_box: clip a given box to the image.
            **fields: extra annotation fields (e.g. ``individual``).

        Returns:
            The annotation id, or ``None`` when the instance was skipped (no
            labelled point, or no box area inside the image).
        """
        kpts = np.asarray(keypoints, dtype=np.float64).reshape(self.num_keypoints, 3)
        width, height = self._sizes[image_id]
        labelled = kpts[:, 2] > 0
        if not labelled.any():
            self.skip('no labelled point')
            return None
        xy = kpts[labelled, :2]
        if box_xyxy is not None:
            if clip_box:
                bbox = _clipped_xywh(box_xyxy, width, height, sort_corners=True)
            else:
                x0, y0, x1, y1 = (float(v) for v in box_xyxy)
                bbox = [x0, y0, x1 - x0, y1 - y0] if x1 > x0 and y1 > y0 else None
        else:
            bbox = bbox_from_points(xy, width, height, self.bbox_pad, self.min_margin)
        if bbox is None:
            self.skip('box outside the image or empty')
            return None
        outside = ((xy[:, 0] < 0) | (xy[:, 1] < 0) | (xy[:, 0] > width) | (xy[:, 1] > height))
        self.stats.points_outside += int(outside.sum())
        flat: list[float | int] = []
        for k, (x, y, v) in enumerate(kpts):
            if v > 0:
                flat += [float(x), float(y), int(v)]
                self.stats.labelled_per_keypoint[k] += 1
            else:
                flat += [0, 0, 0]
        ann_id = len(self.annotations) + 1
        self.annotations.append({
            'id': ann_id, 'image_id': int(image_id), 'category_id': 1,
            'bbox': bbox, 'area': bbox[2] * bbox[3], 'iscrowd': 0,
            'num_keypoints': int(labelled.sum()), 'keypoints': flat, **fields})
        return ann_id

    def finish(self, image_root: str | Path, fmt: str) -> ConversionResult:
        """The collected dataset. Images without an annotation stay in it
        (background for detectors and one-stage models; top-down training
        skips them); the stats count them and the images left out."""
        if not self.images:
            raise ConversionError(f'{fmt}: no images found under {image_root}')
        self.stats.num_images = len(self.images)
        self.stats.num_instances = len(self.annotations)
        annotated = {a['image_id'] for a in self.annotations}
        self.stats.empty_images = sum(img['id'] not in annotated for img in self.images)
        coco = {'images': self.images, 'annotations': self.annotations,
                'categories': [self.category]}
        return ConversionResult(coco=coco, image_root=Path(image_root).resolve(),
                                stats=self.stats, format=fmt)


def _count(table: dict[str, int], reason: str, count: int) -> None:
    if count:
        table[reason] = table.get(reason, 0) + count


def person_builder(category_name: str, keypoint_names: Sequence[str],
                   skeleton: Sequence[Sequence[int]], flip_pairs: Sequence[Sequence[int]],
                   source: str, bbox_pad: float = DEFAULT_BBOX_PAD,
                   min_margin: float = DEFAULT_MIN_MARGIN) -> CocoBuilder:
    """A builder for a human-pose preset (supercategory ``person``); the
    arguments are those of :func:`make_category` and :class:`CocoBuilder`."""
    category = make_category(category_name, keypoint_names, skeleton, supercategory='person',
                             flip_pairs=flip_pairs, source=source)
    return CocoBuilder(category, bbox_pad=bbox_pad, min_margin=min_margin)
