"""SLEAP label files (``.slp``, ``.pkg.slp``) -> COCO-keypoint json.

A ``.slp`` file is HDF5 (read with h5py, an optional dependency). Besides the
json parts (:mod:`~customkpt.converters.sleap_meta`: skeletons, videos,
tracks) it holds four compound datasets:

* ``frames``: one row per labelled frame, fields ``frame_id``, ``video``
  (index into the videos), ``frame_idx`` (frame number in that video),
  ``instance_id_start``, ``instance_id_end`` (a range of ``instances`` rows);
* ``instances``: fields ``instance_id``, ``instance_type`` (0 = user, 1 =
  predicted), ``frame_id``, ``skeleton`` (index into the skeletons),
  ``track`` (index into the tracks, -1 for none), ``from_predicted`` (the
  ``instance_id`` of the prediction a user instance was made from, -1 for
  none), ``score``, ``point_id_start``, ``point_id_end`` (a range of point
  rows; ``tracking_score`` from format 1.2 on is not used);
* ``points`` (user instances) and ``pred_points`` (predicted): fields ``x``,
  ``y``, ``visible``, ``complete`` (and ``score``), one row per skeleton node
  in the skeleton's node order.

Fields are read by name, so files of every format version that has these
fields convert. Files older than format 1.1 stored user points with the
origin at the top-left corner of the first pixel; as SLEAP does when it
loads them, 0.5 is subtracted from those coordinates, so that all
coordinates have the origin at the centre of the first pixel, as OpenCV and
the other converters do.

Conversion: user instances only, unless ``predictions`` (then predicted
instances too, except those a user instance in the same frame was made
from; they carry ``predicted: true`` and their ``score``). A node that is
not visible or has no coordinates (NaN) gets ``v = 0``; the others ``v = 2``.
Boxes come from the points. An instance's track name is written as
``individual``. The category is the skeleton's: its nodes are the keypoint
names, body links the skeleton, symmetry edges the flip pairs (derived from
left/right words in the names when the skeleton has no symmetry). Instances
of one skeleton are converted; a file using several names them and
``label`` picks one.

Labelled frames without an instance of the converted skeleton (none at all,
or only another skeleton's) are kept as images without an annotation, as in
every format, where their image is at hand: a package (``.pkg.slp``) embeds
only frames with user instances, so there such frames are left out
(counted), and so are those of a video holding no other frame when the video
cannot be read (with a note why). Frames whose instances of that skeleton
are only predicted ones not converted (no ``predictions``) are left out
(counted): they show the animal, unlabelled.

Images: the labelled frames are written below ``images_out`` as
``video<i>_<source name>/<frame:06d>.png`` (or ``.jpg`` for JPEG frames
embedded in a package), see
:mod:`~customkpt.converters.sleap_frames`; ``images_out`` is the image root.
Referenced videos and image files that are no longer where the file says
(a project copied to another machine) are also looked for below
``images_dir``, by their stored path's trailing components.
Images are ordered by video, then frame number; each records ``video`` and
``folder`` (both the sub-folder name, for ``--split-by video``) and
``frame_idx``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from tqdm import tqdm

from .builder import CocoBuilder, ConversionResult
from .category import make_category
from .common import DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN, ConversionError
from .frames import FrameWriter
from .hdf5 import open_hdf5, read_table
from .sleap_frames import video_folder_name, write_video_frames
from .sleap_meta import SleapSkeleton, read_metadata, read_skeletons, read_tracks, read_videos
from .tool_meta import pick_label

__all__ = ['convert_sleap', 'USER_INSTANCE', 'PREDICTED_INSTANCE', 'NOT_STORED',
           'UNREADABLE_VIDEO']

#: SLEAP's instance types.
USER_INSTANCE, PREDICTED_INSTANCE = 0, 1

_FRAME_FIELDS = ('video', 'frame_idx', 'instance_id_start', 'instance_id_end')
_INSTANCE_FIELDS = ('instance_id', 'instance_type', 'skeleton', 'track', 'from_predicted',
                    'score', 'point_id_start', 'point_id_end')
_POINT_FIELDS = ('x', 'y', 'visible')
#: Why a frame without an instance to convert is left out (module notes).
NOT_STORED = ('no instance, and its image is not stored (a .pkg.slp embeds only frames with '
              'user instances)')
UNREADABLE_VIDEO = 'no instance, and its video could not be read'


@dataclass
class _Instance:
    """One instance read from the file: its skeleton index, (K, 3) ``x, y, v``
    and extra annotation fields."""

    skeleton: int
    kpts: np.ndarray
    fields: dict = field(default_factory=dict)


@dataclass
class _Frame:
    """One labelled frame: the instances to convert, and the skeleton indices
    of the predicted instances left out."""

    instances: list[_Instance] = field(default_factory=list)
    predicted: set[int] = field(default_factory=set)


@dataclass
class _Tables:
    frames: np.ndarray
    instances: np.ndarray
    points: np.ndarray
    pred_points: np.ndarray | None
    format_id: float
    skeletons: list[SleapSkeleton]
    tracks: list[str]


def _read_tables(fh: Any, path: Path, meta: dict, format_id: float) -> _Tables:
    pred = read_table(fh, 'pred_points', path, _POINT_FIELDS) if 'pred_points' in fh else None
    return _Tables(frames=read_table(fh, 'frames', path, _FRAME_FIELDS),
                   instances=read_table(fh, 'instances', path, _INSTANCE_FIELDS),
                   points=read_table(fh, 'points', path, _POINT_FIELDS), pred_points=pred,
                   format_id=format_id, skeletons=read_skeletons(meta, path),
                   tracks=read_tracks(fh, path))


def _instance(t: _Tables, row: int, path: Path) -> _Instance:
    """The instance in ``instances`` row ``row`` (user or predicted)."""
    inst = t.instances[row]
    where = f'{path}: instances row {row} (instance_id {int(inst["instance_id"])})'
    skel = int(inst['skeleton'])
    if not 0 <= skel < len(t.skeletons):
        raise ConversionError(f'{where}: skeleton {skel} is not one of the '
                              f'{len(t.skeletons)} skeletons')
    predicted = int(inst['instance_type']) == PREDICTED_INSTANCE
    table, name = (t.pred_points, 'pred_points') if predicted else (t.points, 'points')
    start, end = int(inst['point_id_start']), int(inst['point_id_end'])
    names = t.skeletons[skel].node_names
    if table is None or end - start != len(names) or end > len(table):
        raise ConversionError(f'{where}: {name} rows {start}:{end} do not hold the '
                              f'{len(names)} nodes of skeleton {t.skeletons[skel].name!r}')
    pts = table[start:end]
    xy = np.stack([pts['x'], pts['y']], axis=1).astype(np.float64)
    if not predicted and t.format_id < 1.1:
        xy -= 0.5  # pixel-corner origin of old files -> pixel-centre origin
    labelled = np.asarray(pts['visible'], bool) & np.isfinite(xy).all(axis=1)
    kpts = np.zeros((len(names), 3), np.float64)
    kpts[labelled, :2] = xy[labelled]
    kpts[labelled, 2] = 2
    fields: dict = {}
    track = int(inst['track'])
    if 0 <= track < len(t.tracks):
        fields['individual'] = t.tracks[track]
    if predicted:
        fields.update(predicted=True, score=round(float(inst['score']), 6))
    return _Instance(skeleton=skel, kpts=kpts, fields=fields)


def _frame_instances(t: _Tables, path: Path, predictions: bool, counts: Counter
                     ) -> dict[tuple[int, int], _Frame]:
    """(video, frame number) -> the frame's instances to convert, in file
    order, and the skeletons of its predicted instances left out. ``counts``
    receives the predicted instances left out, by reason."""
    out: dict[tuple[int, int], _Frame] = {}
    for r, frame in enumerate(t.frames):
        start, end = int(frame['instance_id_start']), int(frame['instance_id_end'])
        if not 0 <= start <= end <= len(t.instances):
            raise ConversionError(f'{path}: frames row {r}: instance rows {start}:{end} '
                                  f'outside the {len(t.instances)} instances')
        rows = range(start, end)
        types = [int(t.instances[i]['instance_type']) for i in rows]
        unknown = sorted(set(types) - {USER_INSTANCE, PREDICTED_INSTANCE})
        if unknown:
            raise ConversionError(f'{path}: frames row {r}: instance_type {unknown[0]} '
                                  '(0 = user, 1 = predicted)')
        replaced = {int(t.instances[i]['from_predicted']) for i, k in zip(rows, types)
                    if k == USER_INSTANCE}
        entry = out.setdefault((int(frame['video']), int(frame['frame_idx'])), _Frame())
        for i, kind in zip(rows, types):
            if kind == PREDICTED_INSTANCE:
                if not predictions:
                    counts['predicted'] += 1
                    entry.predicted.add(int(t.instances[i]['skeleton']))
                    continue
                if int(t.instances[i]['instance_id']) in replaced:
                    counts['replaced'] += 1
                    continue
            entry.instances.append(_instance(t, i, path))
    return out


def _skeleton_choice(skeletons: Sequence[SleapSkeleton],
                     frames: dict[tuple[int, int], _Frame], label: str | None,
                     path: Path) -> int:
    """The index of the skeleton to convert (see :func:`pick_label`)."""
    names = [s.name for s in skeletons]
    names = [n if names.count(n) == 1 else f'{n} ({i})' for i, n in enumerate(names)]
    used = Counter(inst.skeleton for fr in frames.values() for inst in fr.instances)
    counts = {names[i]: used[i] for i in sorted(used)}
    return names.index(pick_label(counts, label, str(path), 'skeleton'))


def _category(skel: SleapSkeleton, name: str | None, path: Path) -> tuple[dict, bool]:
    """The category of a skeleton, and whether its flip pairs were derived."""
    derived = not skel.symmetries
    category = make_category(name or skel.name, skel.node_names, skel.links,
                             flip_pairs=None if derived else skel.symmetries,
                             source=f'{path}: skeleton {skel.name!r}')
    return category, derived


def convert_sleap(slp_file: str | Path, images_out: str | Path, predictions: bool = False,
                  label: str | None = None, bbox_pad: float = DEFAULT_BBOX_PAD,
                  min_margin: float = DEFAULT_MIN_MARGIN, category_name: str | None = None,
                  images_dir: str | Path | None = None,
                  progress: bool = True) -> ConversionResult:
    """Convert a SLEAP ``.slp`` or ``.pkg.slp`` file.

    Args:
        slp_file: the label file.
        images_out: folder the labelled frames are written to (the image root).
        predictions: also convert predicted instances.
        label: the skeleton to convert when the file uses several.
        bbox_pad: padding of the boxes derived from points.
        min_margin: smallest box margin in pixels.
        category_name: category (and dataset) name; default the skeleton's.
        images_dir: a further folder to look for referenced videos and image
            files in (a project moved to another machine), after the stored
            path and the label file's folder.
        progress: show a progress bar.

    Returns:
        The converted dataset; its image root is ``images_out``.

    Raises:
        ConversionError: a missing h5py, not a SLEAP file, missing datasets or
            fields, inconsistent rows, asymmetric symmetries, missing or
            unreadable videos (naming the file, the row or video, the field,
            and for a missing file every place looked at).
    """
    path = Path(slp_file)
    if images_dir is not None and not Path(images_dir).is_dir():
        raise ConversionError(f'{path}: --images-dir {images_dir} is not a folder')
    counts: Counter = Counter()
    with open_hdf5(path, 'SLEAP') as fh:
        meta, format_id = read_metadata(fh, path)
        tables = _read_tables(fh, path, meta, format_id)
        videos = read_videos(fh, meta, path)
        frames = _frame_instances(tables, path, predictions, counts)
        chosen = _skeleton_choice(tables.skeletons, frames, label, path)
        skel = tables.skeletons[chosen]
        category, derived = _category(skel, category_name, path)
        builder = CocoBuilder(category, bbox_pad=bbox_pad, min_margin=min_margin)
        writer = FrameWriter(images_out)
        lookup = Path(images_dir) if images_dir is not None else None
        plan = _frame_plan(builder, frames, chosen, skel.name)
        _add_frames(builder, fh, path, videos, frames, chosen, plan, writer, lookup, progress)
    _notes(builder, counts, skel, category, derived, frames, chosen)
    return builder.finish(images_out, 'sleap')


def _frame_plan(builder: CocoBuilder, frames: dict[tuple[int, int], _Frame], chosen: int,
                name: str) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Per video, the frame numbers with an instance to convert and those to
    keep without one (module notes); frames with only predicted instances of
    the skeleton are counted as left out."""
    wanted: dict[int, list[int]] = {}
    empty: dict[int, list[int]] = {}
    for (video, idx), fr in frames.items():
        if any(inst.skeleton == chosen for inst in fr.instances):
            wanted.setdefault(video, []).append(idx)
        elif chosen in fr.predicted:
            builder.leave_out(f'only predicted instances of {name!r} (convert them with '
                              '--sleap-predictions)')
        else:
            empty.setdefault(video, []).append(idx)
    return wanted, empty


def _add_frames(builder: CocoBuilder, fh: Any, path: Path, videos: list[dict],
                frames: dict[tuple[int, int], _Frame], chosen: int,
                plan: tuple[dict[int, list[int]], dict[int, list[int]]],
                writer: FrameWriter, images_dir: Path | None, progress: bool) -> None:
    """Write the frames of ``plan`` (:func:`_frame_plan`) and add them with
    their instances of the chosen skeleton (referenced files are also looked
    for below ``images_dir``)."""
    wanted, empty = plan
    bar = tqdm(total=sum(map(len, [*wanted.values(), *empty.values()])), desc='sleap',
               unit='img', disable=not progress)
    for video in sorted(set(wanted) | set(empty)):
        if not 0 <= video < len(videos):
            raise ConversionError(f'{path}: frames refer to video {video}, but the file lists '
                                  f'{len(videos)} videos')
        folder = video_folder_name(fh, video, videos[video])
        optional = empty.get(video, [])
        bar.update(len(wanted.get(video, [])) + len(optional))
        try:
            files = write_video_frames(fh, path, video, videos[video], wanted.get(video, []),
                                       writer, folder, images_dir, optional=optional)
        except ConversionError as exc:
            if video in wanted:
                raise
            builder.leave_out(UNREADABLE_VIDEO, len(optional))
            builder.note(f'video {video} (only frames without an instance) not read: {exc}')
            continue
        builder.leave_out(NOT_STORED, sum(i not in files for i in optional))
        for idx in sorted(files):
            file_name, width, height = files[idx]
            img_id = builder.add_image(file_name, width, height, video=folder, folder=folder,
                                       frame_idx=idx)
            for inst in frames[(video, idx)].instances:
                if inst.skeleton == chosen:
                    builder.add_instance(img_id, inst.kpts, **inst.fields)
    bar.close()


def _notes(builder: CocoBuilder, counts: Counter, skel: SleapSkeleton, category: dict,
           derived: bool, frames: dict[tuple[int, int], _Frame], chosen: int) -> None:
    other = sum(inst.skeleton != chosen for fr in frames.values() for inst in fr.instances)
    builder.skip('another skeleton', other)
    if counts['predicted']:
        builder.note(f'{counts["predicted"]} predicted instance(s) left out (convert them '
                     'with --sleap-predictions)')
    if counts['replaced']:
        builder.note(f'{counts["replaced"]} predicted instance(s) left out: a user instance '
                     'was made from them')
    if derived:
        names = category['keypoints']
        pairs = ', '.join(f'{names[a]}<->{names[b]}' for a, b in category['flip_pairs'])
        builder.note(f'skeleton {skel.name!r} has no symmetries: flip pairs derived from the '
                     f'names ({pairs or "none"})')
