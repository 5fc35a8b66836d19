"""Pasting random occluders: patches of earlier samples or procedural textures."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from customkpt.registry import TRANSFORMS

from .common import check_count, check_probability, check_range
from .shapes import (Canvas, ShapedOccluder, centre_near, occluder_size, procedural_texture,
                     random_shape_alpha)

__all__ = ['RandomOccluder', 'OCCLUDER_SOURCES']

#: Where :class:`RandomOccluder` takes its textures from.
OCCLUDER_SOURCES = ('samples', 'procedural', 'both')


@TRANSFORMS.register_module()
class RandomOccluder(ShapedOccluder):
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

    Keys: those every occlusion transform shares (see
    :mod:`customkpt.datasets.transforms.occlusion`).

    Args:
        prob: probability of pasting.
        source: one of :data:`OCCLUDER_SOURCES`.
        num_occluders: (min, max) occluders per sample.
        pool_size: patches kept from earlier samples.
        scale_range, aspect_range, jitter, edge_blur, record_mask: as in
            :class:`~.shapes.ShapedOccluder`.
    """

    repr_fields = (('prob', 'source', 'num_occluders') + ShapedOccluder.shape_fields +
                   ('pool_size', 'record_mask'))

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
        super().__init__(scale_range, aspect_range, jitter, edge_blur, record_mask)
        self.pool_size = check_count(pool_size, 'pool_size', name)
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
        img, pixels, labelled = self.crop_pixels(results)
        h, w = img.shape[:2]
        canvas = Canvas(img) if np.random.rand() < self.prob else None
        if canvas is not None:
            count = int(np.random.randint(self.num_occluders[0], self.num_occluders[1] + 1))
            for _ in range(count):
                ow, oh = occluder_size(np.random, w, h, self.scale_range, self.aspect_range)
                alpha = random_shape_alpha(np.random, ow, oh, self.edge_blur)
                texture = self._texture(ow, oh, canvas.channels)
                cx, cy = centre_near(np.random, pixels, labelled, ow, oh, w, h, self.jitter)
                canvas.paste(texture, alpha, int(round(cx - ow / 2)), int(round(cy - oh / 2)))
        if self.source != 'procedural':
            self._collect(img, pixels, labelled)  # the clean crop, before pasting
        if canvas is not None:
            canvas.commit(results, pixels, labelled, self.record_mask, type(self).__name__)
        return results
