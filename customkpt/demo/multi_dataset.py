"""Writing the multi-figure self5 data (``customkpt make-demo --multi``).

Files under ``out_dir`` (default ``data/self5_multi``), next to nothing of
the main dataset:

* ``multi_coco_joint.json`` and ``images/multi_000001.jpg`` ...:
  ``images_per_count`` crowded images for each count of
  ``figures_per_image`` (:mod:`customkpt.demo.multi`); ``file_name`` is
  relative to ``images/``, images carry ``num_figures``.
* ``video/multi_video.mp4``, ``video/frames/*.jpg``,
  ``video/multi_video_gt.json``, ``multi_video_coco_joint.json``: the
  walking figures (:mod:`customkpt.demo.multi_video`).
* ``manifest.json`` (written last): the parameters and counts; a build with
  the same parameters returns at once.

The same seed gives byte-identical files.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from .coco import GENERATOR_VERSION, write_json
from .dataset import BuildResult, read_manifest
from .multi import write_multi_images
from .multi_video import MAX_WALKERS, write_multi_video

__all__ = ['DEFAULT_COUNTS', 'build_multi_dataset']

#: Figures per image of the default build.
DEFAULT_COUNTS: Tuple[int, ...] = (1, 2, 4, 8)
_VIDEO_FILES = ('video/multi_video.mp4', 'video/multi_video_gt.json',
                'multi_video_coco_joint.json')


def _files(params: Dict[str, Any]) -> List[str]:
    """Files that a complete build has (a sample of the images)."""
    files = ['multi_coco_joint.json']
    total = len(params['figures_per_image']) * params['images_per_count']
    if total:
        files += ['images/multi_000001.jpg', f'images/multi_{total:06d}.jpg']
    if params['video_frames']:
        files += list(_VIDEO_FILES) + [f'video/frames/{params["video_frames"] - 1:06d}.jpg']
    return files


def _clean(out: Path) -> None:
    """Remove what an earlier build wrote (its names only)."""
    (out / 'manifest.json').unlink(missing_ok=True)
    for pattern in ('images/multi_*.jpg', 'video/frames/*.jpg'):
        for path in sorted(out.glob(pattern)):
            path.unlink()
    for name in ('multi_coco_joint.json',) + _VIDEO_FILES:
        (out / name).unlink(missing_ok=True)


def _write_all(out: Path, params: Dict[str, Any], progress: bool) -> Dict[str, int]:
    """Clear ``out`` of an earlier build and write every part; the counts."""
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    (out / 'images').mkdir(exist_ok=True)
    size = (params['image_size'][0], params['image_size'][1])
    counts, frames = params['figures_per_image'], params['video_frames']
    from tqdm import tqdm
    with tqdm(total=len(counts) * params['images_per_count'] + frames, unit='img',
              desc='self5 multi data', disable=not progress, leave=False) as bar:
        done = write_multi_images(out, counts, params['images_per_count'], size,
                                  params['seed'], lambda: bar.update(1))
        if frames:
            done.update(write_multi_video(out, frames, params['video_fps'], size,
                                          params['seed'], params['video_figures'],
                                          lambda: bar.update(1)))
    return done


def build_multi_dataset(out_dir: str | Path,
                        figures_per_image: Sequence[int] = DEFAULT_COUNTS,
                        images_per_count: int = 25, image_size: Tuple[int, int] = (320, 240),
                        seed: int = 0, video_figures: int = MAX_WALKERS,
                        video_frames: int = 150, video_fps: int = 25, force: bool = False,
                        progress: bool = True) -> BuildResult:
    """Write the multi-figure images and video (module docstring).

    Args:
        out_dir: the folder (created).
        figures_per_image: the figure counts; ``images_per_count`` images each.
        images_per_count: images per count.
        image_size: (w, h) of images and frames.
        seed: the random seed.
        video_figures: walkers in the video (2-4).
        video_frames: video length; 0: no video.
        video_fps: its frame rate.
        force: rewrite even when ``manifest.json`` matches.
        progress: a tqdm bar on stderr.

    Returns:
        What was done (:class:`customkpt.demo.BuildResult`).

    Raises:
        ValueError: on a figure count outside 1..254, negative counts, a
            non-positive size or fps, or walkers outside 2-4.
    """
    t0 = time.perf_counter()
    counts = [int(c) for c in figures_per_image]
    w, h = int(image_size[0]), int(image_size[1])
    if any(not 1 <= c <= 254 for c in counts) or images_per_count < 0 or video_frames < 0 \
            or w <= 0 or h <= 0 or video_fps <= 0:
        raise ValueError('figures per image must be 1..254, counts >= 0, sizes and fps > 0')
    if video_frames and not 2 <= video_figures <= MAX_WALKERS:
        raise ValueError(f'video_figures must be 2..{MAX_WALKERS}, got {video_figures}')
    out = Path(out_dir)
    params = dict(generator_version=GENERATOR_VERSION, figures_per_image=counts,
                  images_per_count=int(images_per_count), image_size=[w, h], seed=int(seed),
                  video_figures=int(video_figures) if video_frames else 0,
                  video_frames=int(video_frames), video_fps=int(video_fps) if video_frames else 0)
    manifest = read_manifest(out)
    if (not force and manifest is not None and manifest.get('params') == params
            and all((out / f).is_file() for f in _files(params))):
        return BuildResult(out, True, dict(manifest.get('counts', {})),
                           list(manifest.get('files', [])), time.perf_counter() - t0)
    done = _write_all(out, params, progress)
    files = ['multi_coco_joint.json', 'images/']
    if video_frames:
        files += list(_VIDEO_FILES) + ['video/frames/']
    write_json(out / 'manifest.json', dict(generator='customkpt.demo.multi', params=params,
                                           counts=done, files=files))
    return BuildResult(out, False, done, files, time.perf_counter() - t0)
