"""Shared machinery of the dataset converters: COCO-keypoint assembly,
boxes from points, image sizes, train/val splits and json writing.

Every converter reads its own format and feeds a :class:`CocoBuilder`
image by image, instance by instance; the builder numbers images and
annotations, derives the boxes it is not given, skips instances without a
labelled point and counts what it did. The resulting
:class:`ConversionResult` is then split (:class:`SplitSpec`) and written
(:func:`write_splits`).

Output layout (one category, ``category_id`` 1)::

    {"images": [{"id", "file_name", "width", "height", ...optional fields}],
     "annotations": [{"id", "image_id", "category_id": 1, "bbox": [x, y, w, h],
                      "area", "iscrowd": 0, "num_keypoints",
                      "keypoints": [x, y, v] * K, ...optional fields}],
     "categories": [{"id": 1, "name", "supercategory", "keypoints": [names],
                     "skeleton": [[a, b], ...] 1-based as in COCO,
                     "flip_pairs": [[a, b], ...] 0-based}]}

Conventions:

* ``file_name`` is relative to the converter's image root
  (:attr:`ConversionResult.image_root`: the DeepLabCut project, the Labelme
  folder, or the image folder of AIC / MPII); a training config sets
  ``data_root`` (or ``data_prefix.img``) to that folder.
* Labelled points have ``v = 2`` (``v = 1`` where the source says
  "labelled but occluded"); unlabelled points are written ``0, 0, 0``.
* A box derived from points is their extent grown on every side by
  ``bbox_pad`` x the extent's longer side (at least ``min_margin`` pixels),
  then clipped to the image -- the rule the COCO dataset applies to
  annotations without a box, so converted and box-less files agree.
* ``area`` is the box area (there are no segmentation masks).
* Image and annotation ids run 1, 2, ... in the order the converter adds
  them (each converter documents its order, always deterministic).
"""
from __future__ import annotations

import json
import math
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..meta import KeypointMeta, KeypointMetaError, derive_flip_pairs

#: Default padding of boxes derived from points: fraction of the point
#: extent's longer side added on every side.
DEFAULT_BBOX_PAD = 0.25
#: Default smallest margin (pixels) around the points, so a single labelled
#: point still gets a box with an area.
DEFAULT_MIN_MARGIN = 8.0
#: Default fraction of the images that go to validation.
DEFAULT_VAL_FRACTION = 0.15

SPLIT_MODES = ('random', 'group', 'every', 'none')


class ConversionError(ValueError):
    """The input cannot be converted; the message names the file and record."""


# --------------------------------------------------------------------- helpers
def read_json(path: Path, what: str) -> Any:
    """Parse a json file; a missing file or bad json is a ConversionError
    naming ``what`` (e.g. 'MPII annotation file') and the path."""
    if not path.is_file():
        raise ConversionError(f'{what} not found: {path}')
    try:
        with open(path, encoding='utf-8') as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise ConversionError(f'{path}: invalid json: {exc}') from exc


def natural_key(text: str) -> tuple:
    """Sort key that orders digit runs by value (``img2`` before ``img10``)."""
    return tuple(int(tok) if tok.isdigit() else tok.lower()
                 for tok in re.split(r'(\d+)', str(text)))


def to_posix_relpath(path: str | Path, root: str | Path) -> str:
    """``path`` relative to ``root`` with forward slashes (may contain ``..``)."""
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    return rel.replace(os.sep, '/')


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
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    margin = max(pad * max(x1 - x0, y1 - y0), min_margin)
    return clip_xyxy([x0 - margin, y0 - margin, x1 + margin, y1 + margin], width, height)


def clip_xyxy(box: Sequence[float], width: float, height: float) -> list[float] | None:
    """Clip an ``[x1, y1, x2, y2]`` box to the image; ``[x, y, w, h]`` or
    ``None`` when nothing of it is left."""
    x0, y0, x1, y1 = (float(v) for v in box)
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    x0, x1 = min(max(x0, 0.0), width), min(max(x1, 0.0), width)
    y0, y1 = min(max(y0, 0.0), height), min(max(y1, 0.0), height)
    if not (x1 > x0 and y1 > y0):
        return None
    return [x0, y0, x1 - x0, y1 - y0]


# ----------------------------------------------------------------- image sizes
def _exif_orientation(tiff: bytes) -> int:
    """The orientation tag (1..8) of a TIFF/EXIF block, 1 when absent."""
    if len(tiff) < 8 or tiff[:2] not in (b'II', b'MM'):
        return 1
    end = '<' if tiff[:2] == b'II' else '>'
    (ifd,) = struct.unpack(end + 'I', tiff[4:8])
    if ifd + 2 > len(tiff):
        return 1
    (count,) = struct.unpack(end + 'H', tiff[ifd:ifd + 2])
    for i in range(count):
        entry = tiff[ifd + 2 + 12 * i: ifd + 14 + 12 * i]
        if len(entry) < 12:
            break
        tag, kind = struct.unpack(end + 'HH', entry[:4])
        if tag == 0x0112 and kind == 3:  # orientation, SHORT
            return struct.unpack(end + 'H', entry[8:10])[0]
    return 1


def _jpeg_size(fh: Any) -> tuple[int, int] | None:
    """(w, h) from JPEG markers, after EXIF rotation as decoders apply it."""
    orientation = 1
    fh.seek(2)
    while True:
        byte = fh.read(1)
        while byte and byte != b'\xff':
            byte = fh.read(1)
        while byte == b'\xff':
            byte = fh.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            continue  # markers without a length
        if marker in (0xD9, 0xDA):
            return None  # end of image / start of scan before any frame header
        raw = fh.read(2)
        if len(raw) < 2:
            return None
        (length,) = struct.unpack('>H', raw)
        seg = fh.read(length - 2)
        if marker == 0xE1 and seg.startswith(b'Exif\x00\x00'):
            orientation = _exif_orientation(seg[6:])
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and len(seg) >= 5:
            h, w = struct.unpack('>HH', seg[1:5])
            return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def image_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` of an image as OpenCV decodes it.

    PNG and JPEG sizes come from the file header (JPEG EXIF rotation
    included, as ``cv2.imread`` applies it); other formats are decoded.

    Raises:
        ConversionError: if the file is missing or unreadable.
    """
    path = Path(path)
    if not path.is_file():
        raise ConversionError(f'image not found: {path}')
    with open(path, 'rb') as fh:
        head = fh.read(32)
        if head.startswith(b'\x89PNG\r\n\x1a\n') and head[12:16] == b'IHDR':
            w, h = struct.unpack('>II', head[16:24])
            return int(w), int(h)
        if head.startswith(b'\xff\xd8'):
            size = _jpeg_size(fh)
            if size is not None:
                return size
    import cv2
    img = cv2.imread(str(path))
    if img is None:
        raise ConversionError(f'cannot read image {path}')
    return int(img.shape[1]), int(img.shape[0])


# -------------------------------------------------------------------- category
def make_category(name: str, keypoint_names: Sequence[str],
                  skeleton: Sequence[Sequence[int]] = (),
                  supercategory: str | None = None,
                  flip_pairs: Sequence[Sequence[int]] | None = None,
                  source: str = 'converter') -> dict:
    """A COCO ``categories`` entry (id 1), validated.

    Args:
        name: category name (becomes the dataset name of the keypoint meta).
        keypoint_names: the K point names.
        skeleton: 0-based links (written 1-based, as COCO does).
        supercategory: defaults to ``name``.
        flip_pairs: 0-based pairs; ``None`` derives them from left/right
            words in the names (:func:`customkpt.meta.derive_flip_pairs`).
        source: what to name in error messages.

    Raises:
        ConversionError: duplicate names, bad links or ambiguous pairs.
    """
    names = [str(n) for n in keypoint_names]
    try:
        pairs = derive_flip_pairs(names) if flip_pairs is None else [
            [int(a), int(b)] for a, b in flip_pairs]
        KeypointMeta(keypoint_names=names, skeleton=[list(map(int, p)) for p in skeleton],
                     flip_pairs=pairs, dataset_name=name, source=source)
    except KeypointMetaError as exc:
        raise ConversionError(str(exc)) from exc
    return {
        'id': 1, 'name': name, 'supercategory': supercategory or name,
        'keypoints': names,
        'skeleton': [[int(a) + 1, int(b) + 1] for a, b in skeleton],
        'flip_pairs': pairs,
    }


def skeleton_from_names(links: Iterable[Sequence[str]], names: Sequence[str]
                        ) -> tuple[list[list[int]], list[list[str]]]:
    """0-based links from pairs of names; also the links naming unknown points."""
    index = {n: i for i, n in enumerate(names)}
    out, unknown = [], []
    for link in links or ():
        if len(link) != 2:
            unknown.append(list(link))
            continue
        a, b = (str(v) for v in link)
        if a in index and b in index and a != b:
            pair = [index[a], index[b]]
            if pair not in out and pair[::-1] not in out:
                out.append(pair)
        else:
            unknown.append([a, b])
    return out, unknown


# --------------------------------------------------------------------- builder
@dataclass
class ConversionStats:
    """What a conversion produced and left out.

    Attributes:
        num_images: images written.
        num_instances: annotations written.
        skipped: reason -> number of instances not written.
        labelled_per_keypoint: labelled points (v > 0) per keypoint.
        points_outside: labelled points outside the image (kept as given).
        notes: other remarks for the summary.
    """

    num_images: int = 0
    num_instances: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    labelled_per_keypoint: list[int] = field(default_factory=list)
    points_outside: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def num_skipped(self) -> int:
        """All instances not written."""
        return sum(self.skipped.values())


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

    def skip(self, reason: str, count: int = 1) -> None:
        """Count instances left out for ``reason``."""
        if count:
            self.stats.skipped[reason] = self.stats.skipped.get(reason, 0) + count

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
                bbox = clip_xyxy(box_xyxy, width, height)
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
        """The collected dataset."""
        if not self.images:
            raise ConversionError(f'{fmt}: no images found under {image_root}')
        self.stats.num_images = len(self.images)
        self.stats.num_instances = len(self.annotations)
        coco = {'images': self.images, 'annotations': self.annotations,
                'categories': [self.category]}
        return ConversionResult(coco=coco, image_root=Path(image_root).resolve(),
                                stats=self.stats, format=fmt)


# ----------------------------------------------------------------------- split
@dataclass(frozen=True)
class SplitSpec:
    """How images are divided into train and val.

    Modes:

    * ``random``: a seeded shuffle of the images; ``round(n * val_fraction)``
      of them go to val (at least 1 and at most n - 1 when 0 < fraction < 1
      and n >= 2).
    * ``group``: whole groups (the image field ``group_key``: ``folder`` or
      ``video``) go to one side. Groups are shuffled with the seed and moved
      to val one by one until val holds at least ``val_fraction`` of the
      images; train always keeps at least one group.
    * ``every``: in image-id order, positions 0, N, 2N, ... go to val
      (ids 1, N + 1, 2N + 1, ... with the converters' numbering).
    * ``none``: no split; one file ``all.json``.
    """

    mode: str = 'random'
    val_fraction: float = DEFAULT_VAL_FRACTION
    seed: int = 0
    group_key: str = 'folder'
    every: int = 0

    def __post_init__(self) -> None:
        if self.mode not in SPLIT_MODES:
            raise ConversionError(f'split mode must be one of {SPLIT_MODES}, got {self.mode!r}')
        if self.mode in ('random', 'group') and not 0.0 <= self.val_fraction <= 1.0:
            raise ConversionError(f'val fraction must be in [0, 1], got {self.val_fraction}')
        if self.mode == 'every' and int(self.every) < 2:
            raise ConversionError(f'--val-every needs N >= 2, got {self.every}')
        if self.mode == 'group' and self.group_key not in ('folder', 'video'):
            raise ConversionError(f'split-by must be folder or video, got {self.group_key!r}')

    def describe(self) -> str:
        """One line for the summary."""
        if self.mode == 'random':
            return f'random images, val fraction {self.val_fraction}, seed {self.seed}'
        if self.mode == 'group':
            return (f'by {self.group_key}, val fraction {self.val_fraction}, '
                    f'seed {self.seed}')
        if self.mode == 'every':
            return f'every {self.every}th image by id to val (ids 1, {self.every + 1}, ...)'
        return 'no split'


def split_image_ids(images: Sequence[Mapping[str, Any]], spec: SplitSpec
                    ) -> tuple[list[int], list[int]]:
    """``(train_ids, val_ids)``, each sorted by id.

    Raises:
        ConversionError: group split without the group field or with fewer
            than two groups.
    """
    ids = sorted(int(img['id']) for img in images)
    n = len(ids)
    if spec.mode == 'none':
        return ids, []
    if spec.mode == 'every':
        val = set(ids[::int(spec.every)])
    elif spec.mode == 'random':
        n_val = int(round(n * spec.val_fraction))
        if 0 < spec.val_fraction < 1 and n >= 2:
            n_val = min(max(n_val, 1), n - 1)
        order = np.random.default_rng(spec.seed).permutation(n)
        val = {ids[i] for i in order[:n_val]}
    else:
        groups: dict[str, list[int]] = {}
        for img in images:
            if img.get(spec.group_key) is None:
                raise ConversionError(
                    f'cannot split by {spec.group_key}: image {img["file_name"]!r} has no '
                    f'{spec.group_key!r} field (this format does not record it); use '
                    '--val-fraction or --val-every')
            groups.setdefault(str(img[spec.group_key]), []).append(int(img['id']))
        names = sorted(groups, key=natural_key)
        if len(names) < 2:
            raise ConversionError(
                f'cannot split by {spec.group_key}: all images are in one '
                f'{spec.group_key} ({names[0]!r} if any); use --val-fraction or --val-every')
        order = np.random.default_rng(spec.seed).permutation(len(names))
        target = n * spec.val_fraction
        val = set()
        for pos in order[:-1]:  # the last group always stays in train
            if len(val) >= target or spec.val_fraction == 0:
                break
            val.update(groups[names[pos]])
    return [i for i in ids if i not in val], [i for i in ids if i in val]


def subset(coco: Mapping[str, Any], image_ids: Iterable[int]) -> dict:
    """The images with these ids and their annotations (ids kept)."""
    keep = set(int(i) for i in image_ids)
    return {'images': [img for img in coco['images'] if img['id'] in keep],
            'annotations': [a for a in coco['annotations'] if a['image_id'] in keep],
            'categories': list(coco['categories'])}


def write_json(obj: Any, path: str | Path) -> Path:
    """Write compact json (parent folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + '.tmp')
    with open(tmp, 'w', encoding='utf-8') as fh:
        json.dump(obj, fh, ensure_ascii=False, separators=(',', ':'))
        fh.write('\n')
    os.replace(tmp, path)
    return path


@dataclass
class SplitOutcome:
    """Files written by :func:`write_splits`.

    Attributes:
        paths: split name (``train``, ``val`` or ``all``) -> json path.
        images: split name -> number of images.
        instances: split name -> number of annotations.
    """

    paths: dict[str, Path]
    images: dict[str, int]
    instances: dict[str, int]


def write_splits(result: ConversionResult, out_dir: str | Path,
                 spec: SplitSpec = SplitSpec()) -> SplitOutcome:
    """Write ``train.json`` and ``val.json`` (or ``all.json`` for mode
    ``none``) into ``out_dir``."""
    out_dir = Path(out_dir)
    train, val = split_image_ids(result.coco['images'], spec)
    parts = {'all': train} if spec.mode == 'none' else {'train': train, 'val': val}
    outcome = SplitOutcome({}, {}, {})
    for name, ids in parts.items():
        sub = subset(result.coco, ids)
        outcome.paths[name] = write_json(sub, out_dir / f'{name}.json')
        outcome.images[name] = len(sub['images'])
        outcome.instances[name] = len(sub['annotations'])
    return outcome


def format_summary(result: ConversionResult, outcome: SplitOutcome | None = None,
                   spec: SplitSpec | None = None) -> str:
    """A human-readable report of a conversion (and its split)."""
    st = result.stats
    lines = [f'format: {result.format}',
             f'images: {st.num_images}',
             f'instances: {st.num_instances}',
             f'skipped instances: {st.num_skipped}'
             + (' (' + ', '.join(f'{r}: {c}' for r, c in st.skipped.items()) + ')'
                if st.skipped else '')]
    width = max(len(n) for n in result.keypoint_names)
    lines.append('labelled points per keypoint:')
    for name, count in zip(result.keypoint_names, st.labelled_per_keypoint):
        lines.append(f'  {name:<{width}}  {count}')
    flip = result.coco['categories'][0].get('flip_pairs') or []
    if flip:
        names = result.keypoint_names
        lines.append('flip pairs: ' + ', '.join(f'{names[a]}<->{names[b]}' for a, b in flip))
    if st.points_outside:
        lines.append(f'labelled points outside their image (kept): {st.points_outside}')
    if outcome is not None:
        if spec is not None:
            lines.append(f'split: {spec.describe()}')
        for name, path in outcome.paths.items():
            lines.append(f'  {name}: {outcome.images[name]} images, '
                         f'{outcome.instances[name]} instances -> {path}')
    lines.append(f'image root (file_name is relative to it; set data_root or '
                 f'data_prefix.img to it): {result.image_root}')
    for note in st.notes:
        lines.append(f'note: {note}')
    return '\n'.join(lines)


__all__ = [
    'ConversionError', 'ConversionResult', 'ConversionStats', 'CocoBuilder', 'SplitSpec',
    'SplitOutcome', 'DEFAULT_BBOX_PAD', 'DEFAULT_MIN_MARGIN', 'DEFAULT_VAL_FRACTION',
    'bbox_from_points', 'clip_xyxy', 'format_summary', 'image_size', 'make_category',
    'natural_key', 'skeleton_from_names', 'split_image_ids', 'subset', 'to_posix_relpath',
    'write_json', 'write_splits',
]
