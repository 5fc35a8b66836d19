"""The images of labelled SLEAP frames, written as files.

A SLEAP video (one ``videos_json`` backend, see
:mod:`~customkpt.converters.sleap_meta`) is one of:

* **embedded** in the label file (a ``.pkg.slp`` package): the backend's
  ``dataset`` (``videoN/video``) exists in the file and its ``filename`` is
  ``"."`` or the file's own name. The dataset holds one encoded image (PNG or
  JPEG bytes, stored as a variable-length int8/uint8 row) per stored frame;
  ``videoN/frame_numbers`` gives the video frame number of each row (without
  it, row = frame number). The bytes are written unchanged. A 4-D dataset of
  raw frames (N, H, W, C), channels last unless the backend's
  ``input_format`` is ``channels_first``, in RGB order as SLEAP keeps
  frames, is written as PNG;
* **another HDF5 file** (``filename`` ending in ``.h5``/``.hdf5``/``.slp``
  with a ``dataset``): read the same way;
* **an image sequence** (``filenames``): frame ``i`` is the file
  ``filenames[i]``, copied;
* **a video file** (``filename``): the labelled frames are decoded with
  OpenCV (see :func:`~customkpt.converters.frames.read_video_frames`) and
  written as PNG.

Referenced files (videos, image-sequence frames, external HDF5 files) are
looked for at the stored path, relative to the label file's folder, and by
file name beside the label file; then, for projects moved to another
machine, below the label file's folder and below ``images_dir`` (when
given) by the stored path's trailing components, longest first (a file
stored as ``/old/proj/videos/a.mp4`` is found as ``videos/a.mp4`` or
``a.mp4`` below either). A file found nowhere is an error listing every
place looked at.

Frames may also be asked for as *optional* (frames without an instance,
kept as images without an annotation): those an HDF5 video does not store
(SLEAP packages embed only frames with user instances) are not written and
not returned, instead of being an error.
"""
from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any, Sequence

import numpy as np

from .common import ConversionError
from .frames import FrameWriter, read_video_frames
from .hdf5 import open_hdf5, parse_json_text

__all__ = ['video_folder_name', 'write_video_frames']

_HDF5_SUFFIXES = ('.h5', '.hdf5', '.slp')


def _name_of(filename: str) -> str:
    return filename.replace('\\', '/').rstrip('/').split('/')[-1]


def _source_name(fh: Any, backend: dict) -> str:
    """The file name a video came from (an embedded video's ``source_video``)."""
    dataset = str(backend.get('dataset') or '')
    group = dataset.rsplit('/', 1)[0] if '/' in dataset else ''
    source = fh.get(f'{group}/source_video') if group else None
    if source is not None and 'json' in source.attrs:
        src = parse_json_text(source.attrs['json'], f'{group}/source_video json')
        inner = src.get('backend', src) if isinstance(src, dict) else {}
        if isinstance(inner, dict) and inner.get('filename'):
            return _name_of(str(inner['filename']))
    if backend.get('filenames'):
        first = str(backend['filenames'][0]).replace('\\', '/')
        return _name_of(first.rsplit('/', 1)[0]) if '/' in first else 'images'
    filename = str(backend.get('filename') or '')
    return '' if filename in ('', '.') else _name_of(filename)


def video_folder_name(fh: Any, index: int, backend: dict) -> str:
    """``video<index>_<source stem>``: the sub-folder of a video's frames,
    also written as the images' ``video`` and ``folder``."""
    stem = Path(_source_name(fh, backend)).stem
    stem = re.sub(r'[^A-Za-z0-9._-]+', '_', stem).strip('._')
    return f'video{index}_{stem}' if stem else f'video{index}'


def _trailing_paths(filename: str) -> list[str]:
    """The stored path's trailing components, longest first: ``/a/b/c.png``
    -> ``a/b/c.png``, ``b/c.png``, ``c.png`` (nothing before a drive, the
    root or a ``..``)."""
    parts = PurePosixPath(filename.replace('\\', '/')).parts
    kept: list[str] = []
    for part in parts:
        if part in ('/', '..') or part.endswith(':'):
            kept = []
        elif part != '.':
            kept.append(part)
    return ['/'.join(kept[i:]) for i in range(len(kept))]


def _find_file(filename: str, label_file: Path, where: str,
               images_dir: Path | None = None) -> Path:
    """A referenced file (module notes); ``images_dir``: an extra folder."""
    stored = Path(filename.replace('\\', '/'))
    candidates = [stored, label_file.parent / stored, label_file.parent / _name_of(filename)]
    roots = [label_file.parent] + ([Path(images_dir)] if images_dir is not None else [])
    candidates += [root / tail for root in roots for tail in _trailing_paths(filename)]
    for cand in candidates:
        if cand.is_file():
            return cand
    hint = ('' if images_dir is not None else
            ', or pass --images-dir with the folder that holds it')
    raise ConversionError(f'{where}: file {filename!r} not found (looked at '
                          f'{[str(c) for c in dict.fromkeys(candidates)]}); put it beside '
                          f'{label_file.name}{hint}')


def _is_embedded(fh: Any, backend: dict, label_file: Path) -> bool:
    dataset = backend.get('dataset')
    filename = str(backend.get('filename') or '.')
    return bool(dataset) and dataset in fh and (
        filename == '.' or _name_of(filename) == label_file.name)


def write_video_frames(fh: Any, label_file: Path, index: int, backend: dict,
                       frames: Sequence[int], writer: FrameWriter, folder: str,
                       images_dir: Path | None = None,
                       optional: Sequence[int] = ()) -> dict[int, tuple[str, int, int]]:
    """Write the frames ``frames`` and ``optional`` of video ``index``;
    referenced files are also looked for below ``images_dir`` (module notes).

    Returns:
        frame number -> ``(file_name, width, height)``, file names relative to
        the writer's root (``<folder>/<frame:06d>.<ext>``); optional frames
        an HDF5 video does not store are absent.
    """
    where = f'{label_file}: video {index}'
    if _is_embedded(fh, backend, label_file):
        return _hdf5_frames(fh, backend, frames, writer, folder, f'{where} (embedded)',
                            optional)
    filename = str(backend.get('filename') or '')
    if backend.get('dataset') and filename.lower().endswith(_HDF5_SUFFIXES):
        external = _find_file(filename, label_file, where, images_dir)
        with open_hdf5(external, 'SLEAP video') as other:
            if backend['dataset'] not in other:
                raise ConversionError(f'{where}: {external} has no dataset '
                                      f'{backend["dataset"]!r}')
            return _hdf5_frames(other, backend, frames, writer, folder, f'{where} ({external})',
                                optional)
    frames = [*frames, *optional]
    if backend.get('filenames'):
        return _image_sequence(backend['filenames'], label_file, frames, writer, folder, where,
                               images_dir)
    if not filename or filename == '.':
        raise ConversionError(f'{where}: the video backend names no file and no embedded '
                              f'dataset: {backend}')
    video = _find_file(filename, label_file, where, images_dir)
    out = {}
    for idx, img in read_video_frames(video, frames, f'{where} ({video})'):
        out[idx] = writer.write_array(f'{folder}/{idx:06d}', img, f'{where}, frame {idx}')
    return out


def _hdf5_frames(fh: Any, backend: dict, frames: Sequence[int], writer: FrameWriter,
                 folder: str, where: str, optional: Sequence[int] = ()
                 ) -> dict[int, tuple[str, int, int]]:
    dataset = str(backend['dataset'])
    data = fh[dataset]
    group = dataset.rsplit('/', 1)[0] if '/' in dataset else ''
    numbers_name = f'{group}/frame_numbers' if group else 'frame_numbers'
    if numbers_name in fh:
        rows = {int(f): r for r, f in enumerate(np.asarray(fh[numbers_name][()]).reshape(-1))}
    else:
        rows = {f: f for f in range(len(data))}
    out = {}
    required = set(int(f) for f in frames)
    for idx in sorted(required | set(int(f) for f in optional)):
        fwhere = f'{where}, frame {idx}'
        if idx not in rows or rows[idx] >= len(data):
            if idx not in required:
                continue
            raise ConversionError(f'{fwhere}: not among the {len(data)} stored frames of '
                                  f'{dataset!r}')
        row = data[rows[idx]]
        stem = f'{folder}/{idx:06d}'
        if data.ndim == 1:
            out[idx] = writer.write_encoded(stem, np.asarray(row).tobytes(), fwhere)
            continue
        img = np.asarray(row)
        if backend.get('input_format') == 'channels_first' and img.ndim == 3:
            img = np.moveaxis(img, 0, -1)
        if img.ndim == 3 and img.shape[-1] == 3:
            img = img[..., ::-1]  # SLEAP keeps RGB; the writer takes OpenCV's BGR
        out[idx] = writer.write_array(stem, img, fwhere)
    return out


def _image_sequence(filenames: Sequence[str], label_file: Path, frames: Sequence[int],
                    writer: FrameWriter, folder: str, where: str,
                    images_dir: Path | None = None) -> dict[int, tuple[str, int, int]]:
    out = {}
    for idx in sorted(set(int(f) for f in frames)):
        if not 0 <= idx < len(filenames):
            raise ConversionError(f'{where}, frame {idx}: the image sequence has '
                                  f'{len(filenames)} images')
        src = _find_file(str(filenames[idx]), label_file, f'{where}, frame {idx}', images_dir)
        out[idx] = writer.copy_file(f'{folder}/{idx:06d}', src)
    return out
