"""Unlabelled clips of consecutive video frames, for semi-supervised training
(docs/semi_supervised.md).

:class:`VideoClipDataset` samples ``num_clips`` clips of ``clip_length``
frames (``frame_stride`` apart) from each video, spread over its length with
a fixed seed, caches their frames as PNG files
(:func:`~customkpt.datasets.video_frames.cache_frames`) and gives each frame
one box. An item is a whole clip: ``dict(inputs=[T tensors (3, h, w)],
data_samples=[T PoseDataSample])``, each frame run through the same
``pipeline`` (the test-time crop: ``LoadImage``, ``GetBBoxCenterScale``,
``TopdownAffine``, ``PackPoseInputs``). A pipeline with random steps makes
the same draws for every frame of a clip (NumPy's generator is rewound
before each frame), so the frames keep their temporal relation
(``RandomFlip`` is refused: the keypoints of a mirrored crop do not map
back to image pixels the way the losses read them). Each data
sample's metainfo carries ``unlabelled=True``, ``clip_frame`` (0 .. T-1),
``clip_length``, ``clip_index`` and ``frame_idx``.

Boxes (``boxes``):

* ``None`` or ``'full'``: the whole frame;
* ``[x1, y1, x2, y2]``: the same box in every frame;
* a path to a ``customkpt video`` result JSON (``<name>_pose.json``, with
  ``{stem}`` standing for each video's file stem): each frame's
  highest-scoring instance box, i.e. keypoint tracking with a model trained
  before;
* a box-provider config (``dict(type='BoxFileBoxes', path=...)``,
  ``dict(type='OnnxDetectorBoxes', ...)``; see ``customkpt.apis.boxes``),
  asked once per frame; its best box is used.

A clip with a frame that has no box, or that the video cannot deliver, is
left out (counted in :attr:`VideoClipDataset.dropped`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import cv2
import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.registry import DefaultScope

from ..registry import BOX_PROVIDERS, DATASETS, SCOPE
from .video_frames import (VideoClipError, cache_frames, expand_videos, sample_clip_starts,
                           video_info)

__all__ = ['VideoClipDataset']

#: A frame's box: (xyxy (4,) float32, score) or None.
FrameBox = Callable[[int, str], 'tuple[np.ndarray, float] | None']


def _full_frame(size: tuple[int, int]) -> FrameBox:
    box = np.array([0, 0, size[0], size[1]], np.float32)
    return lambda idx, file: (box, 1.0)


def _fixed(box: Sequence[float]) -> FrameBox:
    arr = np.asarray(box, np.float32).reshape(-1)
    if arr.size != 4 or not np.isfinite(arr).all() or arr[2] <= arr[0] or arr[3] <= arr[1]:
        raise VideoClipError(f'VideoClipDataset: boxes must be [x1, y1, x2, y2] with x2 > x1 and '
                         f'y2 > y1, got {list(box)}')
    return lambda idx, file: (arr, 1.0)


def _pose_json(path: str) -> FrameBox:
    """Boxes from a ``customkpt video`` result JSON: per frame the
    highest-scoring instance."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'VideoClipDataset: box file {path!r} not found')
    try:
        data = json.loads(Path(path).read_text(encoding='utf-8'))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise VideoClipError(f'VideoClipDataset: box file {path}: not valid JSON ({exc})') from exc
    frames = data.get('frames') if isinstance(data, dict) else None
    if not isinstance(frames, list):
        raise VideoClipError(f'VideoClipDataset: box file {path}: expected a `customkpt video` '
                         'result with a "frames" list')
    best: dict[int, tuple[np.ndarray, float]] = {}
    for i, rec in enumerate(frames):
        try:
            idx = int(rec['frame_idx'])
            insts = [(np.asarray(inst['bbox'], np.float32).reshape(4),
                      float(inst.get('bbox_score', 1.0))) for inst in rec.get('instances', [])]
        except (KeyError, TypeError, ValueError) as exc:
            raise VideoClipError(f'VideoClipDataset: box file {path}: frames[{i}]: needs '
                             f'"frame_idx" and instances with a 4-number "bbox" ({exc})') from exc
        insts = [b for b in insts if np.isfinite(b[0]).all() and b[0][2] > b[0][0]
                 and b[0][3] > b[0][1]]
        if insts:
            best[idx] = max(insts, key=lambda b: b[1])
    return lambda idx, file: best.get(int(idx))


def _provider(cfg: Mapping[str, Any]) -> FrameBox:
    """A registered box provider, asked with each frame image (no previous
    predictions: a provider that follows keypoints cannot be used)."""
    if str(cfg.get('type', '')).split('.')[-1] == 'KeypointTrackingBoxes':
        raise VideoClipError('VideoClipDataset: KeypointTrackingBoxes follows the predictions of '
                         'a running model; give its fallback provider here, or a '
                         '`customkpt video` result JSON (boxes tracked by a trained model)')
    provider = BOX_PROVIDERS.build(dict(cfg))

    def box(idx: int, file: str):
        frame = cv2.imread(file, cv2.IMREAD_COLOR)
        boxes, scores = provider(frame, idx, None)
        if not len(boxes):
            return None
        best = int(np.argmax(scores))
        return np.asarray(boxes[best], np.float32).reshape(4), float(scores[best])
    return box


def box_source(boxes: Any, video: str, size: tuple[int, int]) -> FrameBox:
    """The per-frame box function of ``boxes`` (see the module docstring)."""
    if boxes is None or boxes == 'full':
        return _full_frame(size)
    if isinstance(boxes, str):
        return _pose_json(boxes.replace('{stem}', Path(video).stem))
    if isinstance(boxes, Mapping):
        return _provider(boxes)
    if isinstance(boxes, (list, tuple)):
        return _fixed(boxes)
    raise TypeError(f"VideoClipDataset: boxes must be None, 'full', [x1, y1, x2, y2], a "
                    f'result JSON path or a box-provider config, got {boxes!r}')


@DATASETS.register_module()
class VideoClipDataset(BaseDataset):
    """Clips of consecutive frames from unlabelled videos; see the module
    docstring.

    Args:
        videos: video paths or glob patterns, relative to ``data_root``.
        clip_length: frames per clip (T).
        num_clips: clips sampled per video (fewer when it is short).
        frame_stride: frame step inside a clip (1: consecutive frames).
        boxes: where each frame's box comes from (module docstring).
        pipeline: per-frame transforms, from ``LoadImage`` to
            ``PackPoseInputs``.
        seed: seed of the clip sampling (the same seed, the same clips).
        cache_dir: folder of the frame cache (created).
        data_root: folder the video paths are relative to.
        lazy_init: defer sampling and caching until first use.

    Attributes:
        dropped: clips left out (a frame without a box or not readable).
    """

    def __init__(self, videos: str | Sequence[str], clip_length: int = 3, num_clips: int = 100,
                 frame_stride: int = 1, boxes: Any = None, pipeline: Sequence[dict] = (),
                 seed: int = 0, cache_dir: str = 'work_dirs/.video_frames',
                 data_root: str = '', lazy_init: bool = False) -> None:
        flips = [step for step in pipeline if isinstance(step, Mapping)
                 and str(step.get('type', '')).split('.')[-1] == 'RandomFlip']
        if flips:
            raise VideoClipError('VideoClipDataset: the pipeline has a RandomFlip; a mirrored '
                                 'crop does not map back to image pixels, leave it out')
        if int(clip_length) < 1 or int(frame_stride) < 1 or int(num_clips) < 1:
            raise VideoClipError(f'VideoClipDataset: clip_length, frame_stride and num_clips must '
                             f'be >= 1, got {clip_length}, {frame_stride}, {num_clips}')
        self.videos = videos
        self.clip_length = int(clip_length)
        self.num_clips = int(num_clips)
        self.frame_stride = int(frame_stride)
        self.boxes = boxes
        self.seed = int(seed)
        self.cache_dir = str(cache_dir)
        self.dropped = 0
        with DefaultScope.overwrite_default_scope(SCOPE):
            super().__init__(ann_file='', data_root=data_root, pipeline=list(pipeline),
                             serialize_data=False, lazy_init=lazy_init)

    def load_data_list(self) -> list[dict]:
        """Sample the clips of every video, cache their frames, find boxes."""
        data_list: list[dict] = []
        self.dropped = 0
        for number, video in enumerate(expand_videos(self.videos, self.data_root)):
            data_list += self._video_clips(number, video, len(data_list))
        if not data_list:
            raise VideoClipError(f'VideoClipDataset: no usable clip in {self.videos!r} '
                             f'({self.dropped} left out: frames without a box or unreadable)')
        return data_list

    def _video_clips(self, number: int, video: str, first_id: int) -> list[dict]:
        count, size = video_info(video)
        span = (self.clip_length - 1) * self.frame_stride + 1
        rng = np.random.default_rng([self.seed, number])
        starts = sample_clip_starts(count, span, self.num_clips, rng)
        clips = [[s + t * self.frame_stride for t in range(self.clip_length)] for s in starts]
        files = cache_frames(video, [i for clip in clips for i in clip], self.cache_dir)
        frame_box = box_source(self.boxes, video, size)
        boxes = {i: frame_box(i, file) for i, file in files.items()}
        out = []
        for frames in clips:
            if any(boxes.get(i) is None for i in frames):
                self.dropped += 1
                continue
            out.append(dict(video=video, clip_index=first_id + len(out), frame_idx=frames,
                            img_path=[files[i] for i in frames],
                            bbox=[boxes[i][0].reshape(1, 4) for i in frames],
                            bbox_score=[np.float32([boxes[i][1]]) for i in frames]))
        return out

    def prepare_data(self, idx: int) -> dict | None:
        """The clip's frames through the pipeline, with the same random draws
        for each frame; ``None`` when the pipeline drops a frame."""
        info = self.get_data_info(idx)
        state = np.random.get_state()
        inputs, samples = [], []
        for t, frame in enumerate(info['frame_idx']):
            np.random.set_state(state)
            results = dict(img_path=info['img_path'][t], bbox=info['bbox'][t].copy(),
                           bbox_score=info['bbox_score'][t].copy(), img_id=int(frame),
                           id=int(info['clip_index']) * self.clip_length + t, category_id=1)
            packed = self.pipeline(results)
            if packed is None:
                return None
            packed['data_samples'].set_metainfo(dict(
                unlabelled=True, clip_frame=t, clip_length=self.clip_length,
                clip_index=int(info['clip_index']), frame_idx=int(frame), video=info['video']))
            inputs.append(packed['inputs'])
            samples.append(packed['data_samples'])
        return dict(inputs=inputs, data_samples=samples)
