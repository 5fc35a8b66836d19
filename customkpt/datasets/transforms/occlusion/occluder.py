"""Pasting random occluders: patches of earlier samples or procedural textures."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.registry import TRANSFORMS

from .common import check_probability, check_range, crop_image, keypoint_pixels, record_occluded
from .shapes import (blend_result, centre_near, occluder_size, paste, procedural_texture,
                     random_shape_alpha, shape_ranges)

__all__ = ['RandomOccluder', 'OCCLUDER_SOURCES']

#: Where :class:`RandomOccluder` takes its textures from.
OCCLUDER_SOURCES = ('samples', 'procedural', 'both')


@TRANSFORMS.register_module()
class RandomOccluder(BaseTransform):
    """Paste soft-edged occluders over the subject.

    With probability ``prob``, ``num_occluders`` (drawn from the range) times:
    draw a size (``scale_range`` x the crop's width and height, with an
    aspect jitter from ``aspect_range``), a shape (ellipse or random polygon,
    edge blurred by ``edge_blur`` x its shorter side) and a texture, and
    alpha-blend it centred near a random labelled keypoint (within
    ``jitter`` x its size; anywhere when the crop has no labelled point).

    Textures (``source``):

    - ``'samples'``: a patch cut from an earlier sample's crop. On every call
      the transform cuts one patch of the incoming crop that holds none of its
      labelled keypoints (up to 5 tries) and keeps it in a ring buffer of
      ``pool_size`` patches, so occluders come from *other* training images.
      Each dataloader worker has its own pool. While the pool is empty,
      procedural textures stand in.
    - ``'procedural'``: colour noise, stripes or a grainy flat colour.
    - ``'both'``: either, even odds per occluder.

    A keypoint counts as occluded where the combined alpha is >= 0.5;
    ``occlusion_mask`` holds the same pixels. The soft edge changes some
    pixels just outside it (alpha < 0.5).

    Required keys:
        img (h, w, C) crop, transformed_keypoints (1, K, 2) crop pixels.
    Optional keys:
        keypoints_visible (1, K), keypoints_occluded.
    Modified keys:
        img.
    Added keys:
        keypoints_occluded bool (1, K); occlusion_mask bool (h, w) with
        ``record_mask``.

    Args:
        prob: probability of pasting.
        source: one of :data:`OCCLUDER_SOURCES`.
        num_occluders: (min, max) occluders per sample.
        scale_range: (min, max) occluder size, fraction of the crop size.
        aspect_range: (min, max) height / width change, log-uniform.
        jitter: how far from the keypoint the centre may be, x occluder size.
        edge_blur: edge softness, Gaussian sigma x the occluder's shorter side.
        pool_size: patches kept from earlier samples.
        record_mask: also write ``occlusion_mask``.
    """

    def __init__(self, prob: float = 0.5, source: str = 'both',
                 num_occluders: Sequence[int] = (1, 2), scale_range: Sequence[float] = (0.2, 0.5),
                 aspect_range: Sequence[float] = (0.5, 2.0), jitter: float = 0.5,
                 edge_blur: float = 0.05, pool_size: int = 64, record_mask: bool = False) -> None:
        name = type(self).__name__
        self.prob = check_probability(prob, name)
        if source not in OCCLUDER_SOURCES:
            raise ValueError(f'{name}: source must be one of {OCCLUDER_SOURCES}, got {source!r}')
        self.source = source
        self.num_occluders = check_range(num_occluders, 'num_occluders', name, lowest=1, integer=True)
        self.scale_range, self.aspect_range = shape_ranges(scale_range, aspect_range, name)
        self.jitter = float(jitter)
        self.edge_blur = float(edge_blur)
        if int(pool_size) < 1:
            raise ValueError(f'{name}: pool_size must be >= 1, got {pool_size}')
        self.pool_size = int(pool_size)
        self.record_mask = bool(record_mask)
        self.pool: list[np.ndarray] = []
        self._next_slot = 0

    def _collect(self, img: np.ndarray, pixels: np.ndarray, labelled: np.ndarray) -> None:
        """Keep one keypoint-free patch of ``img`` in the ring buffer."""
        h, w = img.shape[:2]
        pw, ph = occluder_size(np.random, w, h, self.scale_range, (1.0, 1.0))
        points = pixels.reshape(-1, 2)[labelled.reshape(-1)]
        margin = max(2, int(0.03 * max(w, h)))
        for _ in range(5):
            x0 = int(np.random.randint(0, w - pw + 1))
            y0 = int(np.random.randint(0, h - ph + 1))
            hit = ((points[:, 0] >= x0 - margin) & (points[:, 0] < x0 + pw + margin) &
                   (points[:, 1] >= y0 - margin) & (points[:, 1] < y0 + ph + margin))
            if not hit.any():
                patch = img[y0:y0 + ph, x0:x0 + pw].copy()
                if len(self.pool) < self.pool_size:
                    self.pool.append(patch)
                else:
                    self.pool[self._next_slot] = patch
                self._next_slot = (self._next_slot + 1) % self.pool_size
                return

    def _texture(self, ow: int, oh: int, channels: int) -> np.ndarray:
        use_pool = self.source == 'samples' or (self.source == 'both' and np.random.rand() < 0.5)
        pool = [p for p in self.pool if (1 if p.ndim == 2 else p.shape[2]) == channels]
        if use_pool and pool:
            patch = pool[int(np.random.randint(len(pool)))]
            tex = cv2.resize(patch, (ow, oh), interpolation=cv2.INTER_LINEAR)
            tex = tex.reshape(oh, ow, channels)
            return tex[:, ::-1] if np.random.rand() < 0.5 else tex
        return procedural_texture(np.random, ow, oh, channels)

    def transform(self, results: dict) -> dict:
        """Maybe paste occluders; see the class docstring for the keys."""
        name = type(self).__name__
        img = crop_image(results, name)
        h, w = img.shape[:2]
        _, pixels, labelled = keypoint_pixels(results, (h, w), name)
        apply = np.random.rand() < self.prob
        if apply:
            channels = 1 if img.ndim == 2 else img.shape[2]
            work = img.astype(np.float32).reshape(h, w, channels)
            coverage = np.zeros((h, w), np.float32)
            count = int(np.random.randint(self.num_occluders[0], self.num_occluders[1] + 1))
            for _ in range(count):
                ow, oh = occluder_size(np.random, w, h, self.scale_range, self.aspect_range)
                alpha = random_shape_alpha(np.random, ow, oh, self.edge_blur)
                texture = self._texture(ow, oh, channels)
                cx, cy = centre_near(np.random, pixels, labelled, ow, oh, w, h, self.jitter)
                paste(work, texture, alpha, int(round(cx - ow / 2)), int(round(cy - oh / 2)),
                       coverage)
        if self.source != 'procedural':
            self._collect(img, pixels, labelled)  # the clean crop, before pasting
        if apply:
            results['img'] = blend_result(img, work, coverage)
            record_occluded(results, coverage >= 0.5, pixels, labelled, self.record_mask, name)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, source={self.source!r}, '
                f'num_occluders={self.num_occluders}, scale_range={self.scale_range}, '
                f'aspect_range={self.aspect_range}, jitter={self.jitter}, '
                f'edge_blur={self.edge_blur}, pool_size={self.pool_size}, '
                f'record_mask={self.record_mask})')
