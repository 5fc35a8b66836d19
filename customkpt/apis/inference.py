"""Inference from a config and a checkpoint: ``init_model`` and
``inference_topdown``.

Shapes: ``bboxes`` (N, 4) xyxy in image pixels; results carry, per instance,
``keypoints`` (1, K, 2) in image pixels and ``keypoint_scores`` (1, K).
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

from customkpt.checkpoint import checkpoint_meta
from customkpt.core.image import read_image
from customkpt.engine.config import load_config, merge_options
from customkpt.engine.model_fit import build_bare_model, check_checkpoint_fits, weights_of
from customkpt.engine.references import resolve_references
from customkpt.meta import KeypointMeta
from customkpt.structures import PoseDataSample

__all__ = ['init_model', 'inference_topdown', 'test_pipeline_of', 'stack_predictions',
           'TopdownPredictor']

# Transforms that need annotations or an image file; inference supplies the
# image itself and has no annotations.
_DROPPED_AT_INFERENCE = ('LoadImage', 'GenerateTarget')


def _annotation_category(dataset: dict) -> dict | None:
    """The keypoint category of a dataset config's annotation file, when the
    file exists and has one (its ``category_id``, else its only category
    that lists keypoints)."""
    ann_file = dataset.get('ann_file')
    if not isinstance(ann_file, str):
        return None
    path = Path(dataset.get('data_root') or '') / ann_file
    if not path.is_file():
        return None
    with open(path, encoding='utf-8') as f:
        cats = [c for c in json.load(f).get('categories') or [] if isinstance(c, dict)]
    wanted = dataset.get('category_id')
    chosen = [c for c in cats if (c.get('id') == wanted if wanted is not None
                                  else bool(c.get('keypoints')))]
    return chosen[0] if len(chosen) == 1 else None


def _config_meta(cfg: Config) -> dict | None:
    """The keypoint definition named by the config, as its dataset would read
    it: the test (else val, train) dataset's ``metainfo`` over its annotation
    file's category; else the model's or the top-level ``metainfo``."""
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = cfg.get(loader, {}).get('dataset', {}) if cfg.get(loader) else {}
        category = _annotation_category(dataset)
        if dataset.get('metainfo') is not None or category is not None:
            return KeypointMeta.resolve(dataset.get('metainfo'), category=category,
                                        source=f'{loader}.dataset').to_dict()
    for metainfo in ((cfg.get('model') or {}).get('metainfo'), cfg.get('metainfo')):
        if metainfo is not None:
            return KeypointMeta.resolve(metainfo).to_dict()
    return None


def init_model(config: str | Path | Config, checkpoint: str | Path | None = None,
               device: str | torch.device = 'cpu',
               cfg_options: dict | None = None) -> torch.nn.Module:
    """Build the model of a config, load a checkpoint and switch to eval mode.

    The keypoint definition (names, flip pairs, skeleton, sigmas) comes from
    the checkpoint's ``meta['dataset_meta']`` when it has one (checkpoints
    written by training do), else from the config: the dataset's
    ``metainfo`` over its annotation file's category (read when the file
    exists), else the model's or the top-level ``metainfo``.
    It is kept as ``model.dataset_meta``; the config as ``model.cfg``.

    Args:
        config: config file path (read by
            :func:`customkpt.engine.config.load_config`: ``${...}`` references
            resolved) or a loaded :class:`Config`.
        checkpoint: local path or URL; ``None`` keeps the initial weights.
        device: where the model runs ('cpu', 'cuda', 'cuda:1').
        cfg_options: overrides merged into the config.

    Raises:
        FileNotFoundError: the config or a local checkpoint does not exist.
        customkpt.engine.model_fit.KeypointCountError: the checkpoint's head
            was trained for another number of keypoints than the config's.
    """
    if isinstance(config, Config):
        cfg = resolve_references(merge_options(copy.deepcopy(config), cfg_options))
    elif not os.path.isfile(config):
        raise FileNotFoundError(f'init_model: config file {str(config)!r} not found')
    else:
        cfg = load_config(str(config), cfg_options)
    model = build_bare_model(cfg)  # no pretrained downloads at inference
    meta = _config_meta(cfg)
    if checkpoint is not None:
        ckpt_str = str(checkpoint)
        if '://' not in ckpt_str and not os.path.isfile(ckpt_str):
            raise FileNotFoundError(f'init_model: checkpoint {ckpt_str!r} not found')
        ckpt = load_checkpoint(model, ckpt_str, map_location='cpu')
        ckpt_meta = checkpoint_meta(ckpt, ckpt_str)  # data only: names no files to read
        check_checkpoint_fits(model, weights_of(ckpt), ckpt_str, ckpt_meta)
        if ckpt_meta.get('keypoint_names'):
            meta = KeypointMeta.resolve(ckpt_meta).to_dict()
    if meta is not None:
        model.dataset_meta = meta
    model.cfg = cfg
    return model.to(device).eval()


def test_pipeline_of(cfg: Config) -> Compose:
    """The config's test pipeline without image loading and target making."""
    pipeline = None
    for loader in ('test_dataloader', 'val_dataloader'):
        if cfg.get(loader):
            pipeline = cfg[loader]['dataset'].get('pipeline')
            if pipeline:
                break
    if not pipeline:
        raise KeyError('the config has no test_dataloader.dataset.pipeline to run inference with')
    steps = [copy.deepcopy(t) for t in pipeline
             if str(t['type']).split('.')[-1] not in _DROPPED_AT_INFERENCE]
    with DefaultScope.overwrite_default_scope('customkpt'):
        return Compose(steps)


def _read_image(img: str | Path | np.ndarray) -> tuple[np.ndarray, str | None]:
    if isinstance(img, np.ndarray):
        if img.ndim == 2:
            img = img[..., None]
        if img.ndim != 3 or img.dtype != np.uint8:
            raise ValueError(f'inference_topdown: image must be uint8 (h, w, C) BGR, got '
                             f'{img.dtype} {img.shape}')
        return img, None
    return read_image(img, 'inference_topdown'), str(img)


def _pipeline(model: torch.nn.Module) -> Compose:
    pipeline = getattr(model, '_inference_pipeline', None)
    if pipeline is None:
        pipeline = test_pipeline_of(model.cfg)
        model._inference_pipeline = pipeline
    return pipeline


@torch.no_grad()
def inference_topdown(model: torch.nn.Module, img: str | Path | np.ndarray,
                      bboxes: np.ndarray | Sequence[Sequence[float]] | None = None,
                      bbox_format: str = 'xyxy', bbox_scores: np.ndarray | None = None,
                      batch_size: int | None = None) -> list[PoseDataSample]:
    """Keypoints of every box in one image, the boxes run as one batch.

    Args:
        model: from :func:`init_model` (needs ``model.cfg``).
        img: image path or uint8 (h, w, 3) BGR array.
        bboxes: (N, 4) boxes; ``None`` or empty means the whole image.
        bbox_format: 'xyxy' or 'xywh'.
        bbox_scores: (N,) detector scores (1 when not given).
        batch_size: split the boxes into batches of at most this many.

    Returns:
        One :class:`PoseDataSample` per box, with ``pred_instances``:
        ``keypoints`` (1, K, 2) in image pixels, ``keypoint_scores`` (1, K),
        ``bboxes`` (1, 4) xyxy, ``bbox_scores`` (1,).
    """
    image, path = _read_image(img)
    h, w = image.shape[:2]
    if bboxes is None or len(bboxes) == 0:
        boxes = np.array([[0, 0, w, h]], np.float32)
    else:
        boxes = np.asarray(bboxes, np.float32).reshape(-1, 4)
        if bbox_format == 'xywh':
            boxes = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)
        elif bbox_format != 'xyxy':
            raise ValueError(f"bbox_format must be 'xyxy' or 'xywh', got {bbox_format!r}")
    scores = (np.ones(len(boxes), np.float32) if bbox_scores is None
              else np.asarray(bbox_scores, np.float32).reshape(-1))
    meta = getattr(model, 'dataset_meta', None) or {}
    pipeline = _pipeline(model)
    items = []
    for box, score in zip(boxes, scores):
        info: dict[str, Any] = dict(img=image.copy(), img_path=path, img_shape=(h, w),
                                    ori_shape=(h, w), bbox=box[None], bbox_score=np.array(
                                        [score], np.float32))
        if meta.get('flip_indices') is not None:
            info['flip_indices'] = meta['flip_indices']
        items.append(pipeline(info))
    step = batch_size or len(items)
    results: list[PoseDataSample] = []
    for start in range(0, len(items), step):
        batch = pseudo_collate(items[start:start + step])
        results.extend(model.test_step(batch))
    return results


def stack_predictions(samples: Sequence[PoseDataSample]) -> dict[str, np.ndarray]:
    """Stack per-box results into arrays: ``keypoints`` (N, K, 2),
    ``keypoint_scores`` (N, K), ``bboxes`` (N, 4), ``bbox_scores`` (N,)."""
    if not samples:
        return dict(keypoints=np.zeros((0, 0, 2), np.float32),
                    keypoint_scores=np.zeros((0, 0), np.float32),
                    bboxes=np.zeros((0, 4), np.float32), bbox_scores=np.zeros(0, np.float32))
    pred = [s.pred_instances for s in samples]
    return dict(
        keypoints=np.concatenate([np.asarray(p.keypoints, np.float32) for p in pred]),
        keypoint_scores=np.concatenate([np.asarray(p.keypoint_scores, np.float32) for p in pred]),
        bboxes=np.concatenate([np.asarray(p.bboxes, np.float32).reshape(-1, 4) for p in pred]),
        bbox_scores=np.concatenate([np.asarray(p.bbox_scores, np.float32).reshape(-1)
                                    for p in pred]))


class TopdownPredictor:
    """Image + boxes in, keypoints in image pixels out, on the torch model.

    The ONNX predictor (:class:`customkpt.deploy.OnnxPredictor`) has the same
    call, so video code takes either.

    Args:
        model: from :func:`init_model`, or a config path (then
            ``checkpoint`` and ``device`` are passed to :func:`init_model`).
        batch_size: most boxes per forward pass (all at once by default).

    Attributes:
        meta: the keypoint definition (``KeypointMeta.to_dict()`` form).
    """

    def __init__(self, model: torch.nn.Module | str | Path, checkpoint: str | Path | None = None,
                 device: str = 'cpu', batch_size: int | None = None) -> None:
        if not isinstance(model, torch.nn.Module):
            model = init_model(model, checkpoint, device)
        self.model = model
        self.batch_size = batch_size
        self.meta = dict(getattr(model, 'dataset_meta', None) or {})

    def __call__(self, img: np.ndarray | str | Path,
                 bboxes: np.ndarray | Sequence[Sequence[float]] | None = None,
                 bbox_scores: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Returns :func:`stack_predictions` arrays: ``keypoints`` (N, K, 2),
        ``keypoint_scores`` (N, K), ``bboxes`` (N, 4) xyxy, ``bbox_scores`` (N,)."""
        samples = inference_topdown(self.model, img, bboxes, bbox_scores=bbox_scores,
                                    batch_size=self.batch_size)
        return stack_predictions(samples)
