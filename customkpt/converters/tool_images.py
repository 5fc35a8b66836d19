"""Labelling-tool exports read into one neutral form, then built into a dataset.

The CVAT and Label Studio readers turn their files into
:class:`ToolImage` records (an image file and its instances, each with a
label and named points) plus a :class:`LabelDefinition` per label (point
names, links, mirror pairs); :func:`build_from_tool` then picks the label to
convert, validates its definition and feeds a
:class:`~customkpt.converters.builder.CocoBuilder`. Rules shared by those
converters:

* one label is converted (:func:`~customkpt.converters.tool_meta.pick_label`);
  instances of other labels are counted as skipped;
* images without an instance of that label are kept without an annotation
  (counted), as in COCO's own keypoint files, when their file is there; an
  image with an instance must exist below the image root. When the export
  gives an image's size, the file must have that size (points are in those
  pixels);
* each image records ``folder``, the folder of its ``file_name`` (``.`` at
  the top), for ``--split-by folder``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Mapping, Sequence

import numpy as np
from tqdm import tqdm

from .builder import CocoBuilder, ConversionResult
from .category import make_category
from .common import DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, ConversionError
from .tool_meta import pick_label

__all__ = ['LabelDefinition', 'ToolInstance', 'ToolImage', 'build_from_tool', 'NO_IMAGE_FILE']

#: Why an image without a labelled instance is left out: its file is missing
#: (an export without images, and only the labelled frames at hand).
NO_IMAGE_FILE = 'no labelled instance, and no image file below the image root'


@dataclass
class LabelDefinition:
    """The keypoints of one label.

    Attributes:
        names: the K point names, in channel order.
        skeleton: 0-based links.
        flip_pairs: 0-based mirror pairs; ``None`` derives them from
            left/right words in the names.
    """

    names: list[str]
    skeleton: list[list[int]] = field(default_factory=list)
    flip_pairs: list[list[int]] | None = None


@dataclass
class ToolInstance:
    """One annotated object.

    Attributes:
        label: its label (category).
        points: name -> ``(x, y, v)`` of its labelled points, ``v`` 1 or 2.
        box: ``[x0, y0, x1, y1]`` when the export gives one, else ``None``
            (derived from the points).
        where: the record, for messages.
        fields: extra annotation fields.
    """

    label: str
    points: dict[str, tuple[float, float, int]]
    box: list[float] | None = None
    where: str = ''
    fields: dict = field(default_factory=dict)


@dataclass
class ToolImage:
    """One image of an export.

    Attributes:
        file_name: the image path relative to the image root.
        width: the size the export gives (``None`` when it gives none).
        height: likewise.
        where: the record, for messages.
        instances: its objects.
    """

    file_name: str
    width: int | None
    height: int | None
    where: str
    instances: list[ToolInstance] = field(default_factory=list)


def _label_counts(images: Sequence[ToolImage], definitions: Mapping[str, LabelDefinition]
                  ) -> dict[str, int]:
    """Instances per label: defined labels first (in their order), then others."""
    counts = Counter(inst.label for img in images for inst in img.instances)
    order = [n for n in definitions if counts[n]] + [n for n in counts if n not in definitions]
    return {n: counts[n] for n in order}


def _add_image(builder: CocoBuilder, root: Path, img: ToolImage) -> int:
    img_id = builder.add_image_file(root, img.file_name, img.where)
    added = builder.images[-1]
    if img.width is not None and img.height is not None and \
            (added['width'], added['height']) != (int(img.width), int(img.height)):
        raise ConversionError(
            f'{img.where}: the export gives the size {img.width}x{img.height}, but '
            f'{root / img.file_name} is {added["width"]}x{added["height"]} (a different image?)')
    parent = PurePosixPath(img.file_name).parent.as_posix()
    added['folder'] = parent if parent not in ('', '.') else '.'
    return img_id


def _keypoints(inst: ToolInstance, index: Mapping[str, int], names: list[str]) -> np.ndarray:
    kpts = np.zeros((len(names), 3), np.float64)
    for name, (x, y, v) in inst.points.items():
        if name not in index:
            raise ConversionError(f'{inst.where}: point {name!r} is not a keypoint of label '
                                  f'{inst.label!r}; its keypoints: {names}')
        kpts[index[name]] = (x, y, v)
    return kpts


def build_from_tool(images: Sequence[ToolImage], definitions: Mapping[str, LabelDefinition],
                    root: str | Path, fmt: str, source: str, label: str | None = None,
                    category_name: str | None = None, bbox_pad: float = DEFAULT_BBOX_PAD,
                    min_margin: float = DEFAULT_MIN_MARGIN, progress: bool = True,
                    left_out: Mapping[str, int] | None = None) -> ConversionResult:
    """The dataset of one label of a tool's export (module notes).

    Args:
        images: the export's images, in output order.
        definitions: label -> its keypoints.
        root: the image root (``file_name`` is relative to it).
        fmt: the format name, for the result.
        source: the export file, for messages.
        label: the label to convert; ``None`` for the only one.
        category_name: category name; default the label.
        bbox_pad: padding of boxes derived from points.
        min_margin: smallest margin of derived boxes in pixels.
        progress: show a progress bar.
        left_out: reason -> images of the export the reader left out.
    """
    root = Path(root)
    counts = _label_counts(images, definitions)
    chosen = pick_label(counts, label, source)
    if chosen not in definitions:
        raise ConversionError(f'{source}: label {chosen!r} has instances but no keypoint '
                              'definition')
    definition = definitions[chosen]
    category = make_category(category_name or chosen, definition.names, definition.skeleton,
                             flip_pairs=definition.flip_pairs, source=f'{source}: label {chosen!r}')
    builder = CocoBuilder(category, bbox_pad=bbox_pad, min_margin=min_margin)
    index = {n: i for i, n in enumerate(definition.names)}
    for reason, n in (left_out or {}).items():
        builder.leave_out(reason, n)
    for img in tqdm(images, desc=fmt, unit='img', disable=not progress):
        insts = [inst for inst in img.instances if inst.label == chosen]
        if not insts and not (root / img.file_name).is_file():
            builder.leave_out(NO_IMAGE_FILE)
            continue
        img_id = _add_image(builder, root, img)
        for inst in insts:
            builder.add_instance(img_id, _keypoints(inst, index, definition.names),
                                 box_xyxy=inst.box, **inst.fields)
    for other, n in counts.items():
        if other != chosen:
            builder.skip(f'label {other!r} not converted', n)
    return builder.finish(root, fmt)
