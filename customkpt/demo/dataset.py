"""Writing the self5 dataset: the file layout, the manifest and the build.

Files (the tutorial layout)
---------------------------
``out_dir/``

* ``train_coco_joint.json``, ``val_coco_joint.json``: COCO keypoint files;
  ``file_name`` is relative to ``images/`` (configs use
  ``data_prefix=dict(img='images/')``). ``bbox`` is ``[x, y, w, h]``: the
  figure's drawn extent padded by 4% of its height, clipped to the image, on
  whole pixels; ``area`` is the box area; the category carries ``keypoints``,
  a 1-based ``skeleton`` (COCO) and a 0-based ``flip_pairs`` (customkpt's
  extension).
* ``images/train_000001.jpg`` ...: JPEG, quality :data:`customkpt.demo.coco.JPEG_QUALITY`.
* ``video/self5_video.mp4``: ``video_frames`` frames (``mp4v``) of a figure
  walking across and a smaller one waving, over a static background with a
  post in front; ``video/frames/000000.jpg`` ...: the same frames as JPEG.
* ``video/self5_video_gt.json``: per-frame ground truth: ``frames[i]`` is
  ``{'frame_id', 'file_name', 'instances': [{'track_id', 'keypoints' (5 x
  [x, y, v]), 'bbox' [x, y, w, h]}]}``; here ``x, y`` are the true positions
  even where ``v < 2`` (smooth tracks to measure jitter against).
* ``video_coco_joint.json``: the frames as a COCO keypoint file; its
  ``file_name`` (``video/frames/000000.jpg``) is relative to ``out_dir``
  (``data_prefix=dict(img='')``); images carry ``frame_id`` (0-based) and
  ``video_id``, annotations ``track_id``.
* ``manifest.json``: the generation parameters and counts, written last;
  :func:`make_self5_dataset` returns at once when it matches.

Determinism: each image draws from its own ``numpy.random.Generator`` seeded
by ``(seed, split, index)``, so the same seed gives byte-identical json and
images (and image ``i`` does not depend on how many images are made);
nothing depends on time or on set ordering.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .coco import GENERATOR_VERSION, write_json, write_split
from .video import write_video

__all__ = ['BuildResult', 'build_self5_dataset', 'make_self5_dataset', 'read_manifest']


def read_manifest(out_dir: str | Path) -> Optional[Dict[str, Any]]:
    """The ``manifest.json`` of a generated dataset, or ``None``."""
    path = Path(out_dir) / 'manifest.json'
    try:
        return json.loads(path.read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return None


def _expected_files(params: Dict[str, Any]) -> List[str]:
    files = ['train_coco_joint.json', 'val_coco_joint.json']
    for split in ('train', 'val'):
        if params[f'num_{split}'] > 0:
            files += [f'images/{split}_000001.jpg',
                      f'images/{split}_{params[f"num_{split}"]:06d}.jpg']
    if params['with_video']:
        files += ['video/self5_video.mp4', 'video/self5_video_gt.json', 'video_coco_joint.json']
        if params['video_frames'] > 0:
            files.append(f'video/frames/{params["video_frames"] - 1:06d}.jpg')
    return files


def _clean(out: Path) -> None:
    """Remove what an earlier run of this generator wrote (its names only)."""
    (out / 'manifest.json').unlink(missing_ok=True)
    for pattern in ('images/train_*.jpg', 'images/val_*.jpg', 'video/frames/*.jpg'):
        for path in sorted(out.glob(pattern)):
            path.unlink()
    for name in ('train_coco_joint.json', 'val_coco_joint.json', 'video_coco_joint.json',
                 'video/self5_video.mp4', 'video/self5_video_gt.json'):
        (out / name).unlink(missing_ok=True)


@dataclass
class BuildResult:
    """What :func:`build_self5_dataset` did.

    Attributes:
        out_dir: the dataset folder.
        skipped: True when an up-to-date dataset was already there.
        counts: images / instances / frames per part (from the manifest).
        files: the main files, relative to ``out_dir``.
        seconds: time spent.
    """

    out_dir: Path
    skipped: bool
    counts: Dict[str, int] = field(default_factory=dict)
    files: List[str] = field(default_factory=list)
    seconds: float = 0.0


def build_self5_dataset(out_dir: str | Path, num_train: int = 600, num_val: int = 100,
                        image_size: Tuple[int, int] = (320, 240), seed: int = 0,
                        with_video: bool = True, video_frames: int = 150, video_fps: int = 25,
                        force: bool = False, progress: bool = True) -> BuildResult:
    """Write the self5 dataset (see the module docstring for the layout).

    Args:
        out_dir: the dataset folder (created).
        num_train: training images.
        num_val: validation images.
        image_size: (w, h) of images and video frames.
        seed: the random seed; the same seed gives byte-identical files.
        with_video: also write the video, its frames and ground truth.
        video_frames: number of video frames.
        video_fps: video frame rate.
        force: rewrite even when ``manifest.json`` matches these parameters.
        progress: show a tqdm progress bar (on stderr).

    Returns:
        What was done.

    Raises:
        ValueError: on negative counts or a non-positive image size.
    """
    t0 = time.perf_counter()
    w, h = int(image_size[0]), int(image_size[1])
    if min(num_train, num_val, video_frames) < 0 or w <= 0 or h <= 0 or video_fps <= 0:
        raise ValueError('counts must be >= 0, image size and fps > 0')
    out = Path(out_dir)
    params = dict(generator_version=GENERATOR_VERSION, num_train=int(num_train),
                  num_val=int(num_val), image_size=[w, h], seed=int(seed),
                  with_video=bool(with_video),
                  video_frames=int(video_frames) if with_video else 0,
                  video_fps=int(video_fps) if with_video else 0)
    files = _expected_files(params)
    manifest = read_manifest(out)
    if (not force and manifest is not None and manifest.get('params') == params
            and all((out / f).is_file() for f in files)):
        return BuildResult(out, True, dict(manifest.get('counts', {})),
                           list(manifest.get('files', [])), time.perf_counter() - t0)
    counts = _write_all(out, params, progress)
    main_files = ['train_coco_joint.json', 'val_coco_joint.json', 'images/']
    if params['with_video']:
        main_files += ['video/self5_video.mp4', 'video/self5_video_gt.json', 'video/frames/',
                       'video_coco_joint.json']
    # the generator's name is part of the manifest's bytes: it stays fixed
    write_json(out / 'manifest.json', dict(generator='customkpt.demo.synthetic', params=params,
                                           counts=counts, files=main_files))
    return BuildResult(out, False, counts, main_files, time.perf_counter() - t0)


def _write_all(out: Path, params: Dict[str, Any], progress: bool) -> Dict[str, int]:
    """Clear ``out`` of earlier output and write every part; the counts per part."""
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    (out / 'images').mkdir(exist_ok=True)
    from tqdm import tqdm
    size = (params['image_size'][0], params['image_size'][1])
    total = params['num_train'] + params['num_val'] + params['video_frames']
    counts: Dict[str, int] = {}
    with tqdm(total=total, desc='self5 demo data', unit='img', disable=not progress,
              leave=False) as bar:
        def tick() -> None:
            bar.update(1)
        counts.update(write_split(out, 'train', params['num_train'], size, params['seed'], tick))
        counts.update(write_split(out, 'val', params['num_val'], size, params['seed'], tick))
        if params['with_video']:
            counts.update(write_video(out, params['video_frames'], params['video_fps'], size,
                                      params['seed'], tick))
    return counts


def make_self5_dataset(out_dir: str | Path, num_train: int = 600, num_val: int = 100,
                       image_size: Tuple[int, int] = (320, 240), seed: int = 0,
                       with_video: bool = True, video_frames: int = 150, video_fps: int = 25,
                       force: bool = False, progress: bool = True) -> Path:
    """Write the self5 dataset unless an identical one is already there.

    The defaults (600 + 100 images of 320x240 and a 150-frame video) are
    sized for a CPU training run and take seconds to write. See
    :func:`build_self5_dataset` for the arguments.

    Returns:
        ``Path(out_dir)``.
    """
    return build_self5_dataset(out_dir, num_train=num_train, num_val=num_val,
                               image_size=image_size, seed=seed, with_video=with_video,
                               video_frames=video_frames, video_fps=video_fps, force=force,
                               progress=progress).out_dir
