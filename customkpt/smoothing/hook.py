"""``KeypointSmoothingHook``: temporal smoothing of test predictions on video frames.

Why the hook wraps the evaluator
--------------------------------
mmengine's ``TestLoop.run_iter`` runs the model and hands the outputs to
``evaluator.process`` at once, *before* ``after_test_iter`` is called, so a
hook that edits outputs in ``after_test_iter`` changes nothing the metrics
see. And smoothing needs whole sequences (offline filters look ahead), which
do not exist until the last batch. So, in ``before_test``, the hook replaces
the loop's evaluator by a :class:`SmoothingEvaluator` that buffers every
processed sample; when the loop asks for ``evaluate`` it smooths the
buffered predictions per video and track, feeds them to the real evaluator
in their original order and returns its metrics. ``after_test`` puts the
real evaluator back. Hooks that read ``outputs`` in ``after_test_iter``
(e.g. ``PredictionDrawingHook``) still see the raw predictions.

Sequences, frames and tracks
----------------------------
For each sample (metainfo ``img_id``, ``id``, ``img_path``):

* video: the sample's ``video_id`` metainfo, else the COCO image's
  ``video_id`` in the dataset's ``ann_file``, else the image's folder;
* frame order: ``frame_id`` (metainfo, else the COCO image), else the
  file name, then ``img_id``; frames are ranked within their video, so
  sparse frame ids do not leave gaps;
* track: ``track_id`` (metainfo, else the COCO annotation ``id``'s
  ``track_id``), else the instance's position among its image's instances
  (ordered by annotation id).

The hook smooths only when the dataset is video frames (some image has a
``video_id`` or ``frame_id``); otherwise it warns and leaves predictions
alone, unless ``require_video=False`` (then every image folder is taken as
one video in file-name order).

In distributed testing every rank gathers the light keypoint records of all
ranks, smooths the full sequences and feeds back its own samples.
"""
from __future__ import annotations

import copy
import json
import logging
import os
from typing import Any, Optional, Sequence

import numpy as np
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from ..core.arrays import to_numpy
from ..registry import HOOKS
from .smoother import DEFAULT_FILTER, KeypointSmoother

__all__ = ['KeypointSmoothingHook', 'SmoothingEvaluator']


class SmoothingEvaluator:
    """Stands in for a loop's evaluator: buffers samples, smooths, then
    evaluates with the wrapped evaluator (see the module docs).

    Args:
        evaluator: the real ``mmengine.evaluator.Evaluator``.
        hook: the hook that smooths the buffered samples.
    """

    def __init__(self, evaluator: Any, hook: 'KeypointSmoothingHook') -> None:
        self.evaluator = evaluator
        self.hook = hook
        self.buffer: list[dict] = []

    @property
    def metrics(self) -> list:
        return self.evaluator.metrics

    @property
    def dataset_meta(self) -> Optional[dict]:
        return self.evaluator.dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, meta: dict) -> None:
        self.evaluator.dataset_meta = meta

    def process(self, data_samples: Sequence[Any], data_batch: Any = None) -> None:
        """Buffer the samples (as dicts, like ``Evaluator.process`` passes
        them on); ``data_batch`` is dropped to keep images out of memory."""
        for sample in data_samples:
            self.buffer.append(sample.to_dict() if isinstance(sample, BaseDataElement)
                               else sample)

    def evaluate(self, size: int) -> dict:
        """Smooth the buffer, feed it to the real evaluator and evaluate."""
        samples, self.buffer = self.hook.smooth_samples(self.buffer), []
        chunk = 64
        for i in range(0, len(samples), chunk):
            self.evaluator.process(data_samples=samples[i:i + chunk], data_batch=None)
        return self.evaluator.evaluate(size)

    def __getattr__(self, name: str) -> Any:
        # Anything else (offline_evaluate, ...) goes to the real evaluator.
        return getattr(self.__dict__['evaluator'], name)


@HOOKS.register_module()
class KeypointSmoothingHook(Hook):
    """Smooth test predictions over time, per video and track, before the
    metrics see them.

    Config::

        custom_hooks = [dict(type='KeypointSmoothingHook',
                             filter=dict(type='SavitzkyGolayFilter', window=9, order=2),
                             score_thr=0.3)]

    Args:
        filter: a ``KEYPOINT_FILTERS`` config; online and offline filters
            both work (the whole sequence is known).
        score_thr: predicted keypoints scored below this are not smoothed.
        require_video: smooth only datasets that carry ``video_id`` or
            ``frame_id`` (True), or treat each image folder as a video.
        stages: ``'test'`` and/or ``'val'``: the loops whose evaluator is
            wrapped.
        video_key, frame_key, track_key: the metainfo / COCO keys read.
    """

    priority = 'NORMAL'

    def __init__(self, filter: Optional[dict] = None, score_thr: float = 0.3,
                 require_video: bool = True, stages: Sequence[str] = ('test',),
                 video_key: str = 'video_id', frame_key: str = 'frame_id',
                 track_key: str = 'track_id') -> None:
        stages = [stages] if isinstance(stages, str) else list(stages)
        bad = [s for s in stages if s not in ('test', 'val')]
        if bad or not stages:
            raise ValueError(f"KeypointSmoothingHook: stages must be 'test' and/or 'val', "
                             f'got {stages!r}')
        self.filter_cfg = copy.deepcopy(filter) if filter is not None else dict(DEFAULT_FILTER)
        self.score_thr = float(score_thr)
        # Build once now so that a bad filter config fails when the runner is built.
        KeypointSmoother(self.filter_cfg, self.score_thr)
        self.require_video = bool(require_video)
        self.stages = stages
        self.video_key, self.frame_key, self.track_key = video_key, frame_key, track_key
        self._images: dict[Any, dict] = {}
        self._anns: dict[Any, dict] = {}
        self._wrapped: dict[str, Any] = {}
        #: What the last smoothing did: samples, sequences, tracks, smoothed (bool).
        self.last_summary: dict[str, Any] = {}

    # ------------------------------------------------------------ runner hooks
    def _wrap(self, runner, stage: str) -> None:
        if stage not in self.stages:
            return
        loop = runner.test_loop if stage == 'test' else runner.val_loop
        if isinstance(loop.evaluator, SmoothingEvaluator):
            return
        self._read_annotations(loop.dataloader.dataset)
        self._wrapped[stage] = loop.evaluator
        loop.evaluator = SmoothingEvaluator(loop.evaluator, self)

    def _unwrap(self, runner, stage: str) -> None:
        original = self._wrapped.pop(stage, None)
        if original is None:
            return
        loop = runner.test_loop if stage == 'test' else runner.val_loop
        loop.evaluator = original

    def before_test(self, runner) -> None:
        self._wrap(runner, 'test')

    def after_test(self, runner) -> None:
        self._unwrap(runner, 'test')

    def before_val(self, runner) -> None:
        self._wrap(runner, 'val')

    def after_val(self, runner) -> None:
        self._unwrap(runner, 'val')

    # ------------------------------------------------------------ annotations
    def _read_annotations(self, dataset: Any) -> None:
        """Index the COCO images (video, frame) and annotations (track) of
        the dataset's ``ann_file``, when it has one."""
        self._images, self._anns = {}, {}
        ann_file = getattr(dataset, 'ann_file', None)
        if not ann_file or not str(ann_file).endswith('.json') or not os.path.isfile(ann_file):
            return
        with open(ann_file, encoding='utf-8') as f:
            data = json.load(f)
        if not isinstance(data, dict):
            return
        keys = (self.video_key, self.frame_key)
        for img in data.get('images') or []:
            if isinstance(img, dict) and 'id' in img:
                self._images[img['id']] = {k: img[k] for k in keys if k in img}
        for ann in data.get('annotations') or []:
            if isinstance(ann, dict) and 'id' in ann and self.track_key in ann:
                self._anns[ann['id']] = {self.track_key: ann[self.track_key]}

    # ------------------------------------------------------------ smoothing
    def _records(self, samples: list[dict]) -> list[dict]:
        """Light per-sample records: where it sits in which video, and its points."""
        records = []
        for pos, sample in enumerate(samples):
            pred = sample.get('pred_instances')
            if pred is None or 'keypoints' not in pred:
                raise KeyError(f'KeypointSmoothingHook: sample {pos} (img_id '
                               f'{sample.get("img_id")}) has no pred_instances.keypoints')
            kpts = to_numpy(pred['keypoints']).astype(np.float32)
            if kpts.ndim == 2:
                kpts = kpts[None]
            scores = pred.get('keypoint_scores')
            scores = (np.ones(kpts.shape[:2], np.float32) if scores is None else
                      to_numpy(scores).astype(np.float32).reshape(kpts.shape[:2]))
            img_id, ann_id = sample.get('img_id'), sample.get('id')
            image = self._images.get(img_id, {})
            path = str(sample.get('img_path', ''))
            video = sample.get(self.video_key, image.get(self.video_key))
            frame = sample.get(self.frame_key, image.get(self.frame_key))
            track = sample.get(self.track_key, self._anns.get(ann_id, {}).get(self.track_key))
            records.append(dict(
                pos=pos, video=video, frame=frame, track=track, folder=os.path.dirname(path),
                name=os.path.basename(path), img_id=img_id, ann_id=ann_id,
                keypoints=kpts[..., :2], scores=scores))
        return records

    def _smooth_records(self, records: list[dict]) -> Optional[list[np.ndarray]]:
        """Smoothed keypoints of each record, or None when the data is not video."""
        is_video = any(r['video'] is not None or r['frame'] is not None for r in records)
        if not is_video and self.require_video:
            return None
        # Video of each record, then frames ranked inside each video.
        video_keys = [('video', r['video']) if r['video'] is not None else ('folder', r['folder'])
                      for r in records]

        def frame_key(r: dict) -> tuple:
            main = (0, r['frame'], '') if r['frame'] is not None else (1, 0, r['name'])
            return main + (str(r['img_id']),)

        frame_rank: dict[tuple, int] = {}
        by_video: dict[tuple, set] = {}
        for vk, r in zip(video_keys, records):
            by_video.setdefault(vk, set()).add(frame_key(r))
        for vk, frames in by_video.items():
            for rank, fk in enumerate(sorted(frames)):
                frame_rank[(vk, fk)] = rank
        # Instance position inside its image, for records without a track id.
        in_image: dict[tuple, list] = {}
        for vk, r in zip(video_keys, records):
            in_image.setdefault((vk, frame_key(r)), []).append(r)
        position: dict[int, int] = {}
        for group in in_image.values():
            group.sort(key=lambda r: (str(r['ann_id']), r['pos']))
            for i, r in enumerate(group):
                position[id(r)] = i

        # One row per (track, frame); a repeated sample (a sampler padding the
        # last batch) shares the row of its first copy.
        track_ids, frame_ids, kpts, scores = [], [], [], []
        row_of: dict[tuple, int] = {}
        owners: list[tuple[int, int, int]] = []  # (record, instance, row)
        track_index: dict[tuple, int] = {}
        for idx, (vk, r) in enumerate(zip(video_keys, records)):
            base = ('track', r['track']) if r['track'] is not None else ('pos', position[id(r)])
            for inst in range(r['keypoints'].shape[0]):
                tid = track_index.setdefault((vk, base, inst), len(track_index))
                fid = frame_rank[(vk, frame_key(r))]
                row = row_of.get((tid, fid))
                if row is None:
                    row = row_of[(tid, fid)] = len(track_ids)
                    track_ids.append(tid)
                    frame_ids.append(fid)
                    kpts.append(r['keypoints'][inst])
                    scores.append(r['scores'][inst])
                owners.append((idx, inst, row))
        out = [r['keypoints'].copy() for r in records]
        if not owners:
            return out
        smoother = KeypointSmoother(self.filter_cfg, self.score_thr)
        smoothed = smoother.smooth_tracks(np.asarray(track_ids), np.asarray(frame_ids),
                                          np.stack(kpts), np.stack(scores))
        for idx, inst, row in owners:
            out[idx][inst] = smoothed[row]
        self.last_summary = dict(samples=len(records), sequences=len(by_video),
                                 tracks=len(track_index), smoothed=True)
        return out

    def smooth_samples(self, samples: list[dict]) -> list[dict]:
        """Return ``samples`` with ``pred_instances.keypoints`` smoothed in
        place (float32, shape kept)."""
        self.last_summary = dict(samples=len(samples), sequences=0, tracks=0, smoothed=False)
        records = self._records(samples)
        world = get_world_size()
        if world > 1:
            gathered = all_gather_object(records)
            rank = get_rank()
            start = sum(len(g) for g in gathered[:rank])
            all_records = [r for g in gathered for r in g]
        else:
            start, all_records = 0, records
        smoothed = self._smooth_records(all_records)
        if smoothed is None:
            print_log('KeypointSmoothingHook: the test images carry no video_id or frame_id, '
                      'so predictions are left unsmoothed (set require_video=False to treat '
                      'each image folder as a video)', logger='current', level=logging.WARNING)
            return samples
        for r in records:
            pred = samples[r['pos']]['pred_instances']
            old = pred['keypoints']
            new = smoothed[start + r['pos']]
            shape = to_numpy(old).shape
            if shape[-1] > 2:  # keep extra channels (e.g. a score column)
                full = to_numpy(old).astype(np.float32).copy()
                full.reshape(-1, shape[-1])[:, :2] = new.reshape(-1, 2)
                new = full
            pred['keypoints'] = new.reshape(shape).astype(np.float32)
        print_log(f'KeypointSmoothingHook: smoothed {self.last_summary["tracks"]} tracks in '
                  f'{self.last_summary["sequences"]} sequences with '
                  f'{self.filter_cfg.get("type")}', logger='current')
        return samples
