"""A seeded occlusion for evaluation: the same occluders for a sample on every run."""
from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np
from customkpt.registry import TRANSFORMS

from .common import check_count, check_probability
from .shapes import Canvas, ShapedOccluder, occluder_size, procedural_texture, random_shape_alpha

__all__ = ['FixedOcclusion', 'sample_key']


def sample_key(results: dict) -> str:
    """The identity :class:`FixedOcclusion` seeds from: ``img_id`` and the
    annotation ``id`` when the sample has both, else ``img_path`` (and ``id``
    when present)."""
    if results.get('img_id') is not None and results.get('id') is not None:
        return f'img_id={results["img_id"]}/id={results["id"]}'
    if results.get('img_path') is None:
        raise KeyError('FixedOcclusion: the sample has neither img_id + id nor img_path to '
                       'seed from')
    return f'img_path={results["img_path"]}/id={results.get("id")}'


@TRANSFORMS.register_module()
class FixedOcclusion(ShapedOccluder):
    """Seeded procedural occluders for evaluating robustness to occlusion.

    The occluders of a sample depend only on ``seed`` and the sample's
    identity (:func:`sample_key`), never on the global RNG or on the order of
    samples, so a validation sample always gets the same occluders. Put it in
    the val/test pipeline after ``TopdownAffine``.

    Each labelled keypoint is picked as a target with probability
    ``keypoint_prob``. Each target gets an occluder with a procedural shape
    and texture, of ``scale_range`` x the crop size (aspect jitter from
    ``aspect_range``), centred within ``jitter`` x its size of the point. A
    draw that does not cover its target, or covers a keypoint that is not a
    target, is redrawn 20% smaller, up to ``max_tries`` times, then given up.
    So the occluded share of the labelled keypoints stays a little under
    ``keypoint_prob`` whatever the pose density (docs/occlusion.md lists
    measured rates).

    Keys: those every occlusion transform shares (see
    :mod:`customkpt.datasets.transforms.occlusion`); the sample also needs
    ``img_id`` + ``id`` or ``img_path`` (:func:`sample_key`).

    Args:
        seed: the benchmark's seed.
        keypoint_prob: chance that a labelled keypoint is targeted.
        max_tries: draws per target before it is left visible.
        scale_range, aspect_range, jitter, edge_blur, record_mask: as in
            :class:`~.shapes.ShapedOccluder` (the keypoint is the target).
    """

    repr_fields = (('seed', 'keypoint_prob') + ShapedOccluder.shape_fields +
                   ('max_tries', 'record_mask'))

    def __init__(self, seed: int = 0, keypoint_prob: float = 0.25,
                 scale_range: Sequence[float] = (0.15, 0.3),
                 aspect_range: Sequence[float] = (0.5, 2.0), jitter: float = 0.25,
                 edge_blur: float = 0.05, max_tries: int = 10, record_mask: bool = False) -> None:
        name = type(self).__name__
        self.seed = int(seed)
        self.keypoint_prob = check_probability(keypoint_prob, name)
        super().__init__(scale_range, aspect_range, jitter, edge_blur, record_mask)
        self.max_tries = check_count(max_tries, 'max_tries', name)

    def rng_for(self, results: dict) -> np.random.RandomState:
        """The private RNG of one sample."""
        digest = hashlib.sha256(f'{self.seed}|{sample_key(results)}'.encode()).digest()
        return np.random.RandomState(int.from_bytes(digest[:4], 'little'))

    def _draw(self, rng: np.random.RandomState, target: int, points: np.ndarray,
              labelled: np.ndarray, targets: np.ndarray, w: int, h: int
              ) -> tuple[np.ndarray, int, int] | None:
        """An occluder (alpha, x0, y0) over ``points[target]`` that hides no
        labelled point outside ``targets``; None when every try failed."""
        shrink = 1.0
        for _ in range(self.max_tries):
            scale = (self.scale_range[0] * shrink, self.scale_range[1] * shrink)
            ow, oh = occluder_size(rng, w, h, scale, self.aspect_range)
            alpha = random_shape_alpha(rng, ow, oh, self.edge_blur)
            cx = points[target, 0] + rng.uniform(-self.jitter, self.jitter) * ow
            cy = points[target, 1] + rng.uniform(-self.jitter, self.jitter) * oh
            x0, y0 = int(round(cx - ow / 2)), int(round(cy - oh / 2))
            dx, dy = points[:, 0] - x0, points[:, 1] - y0
            inside = labelled & (dx >= 0) & (dx < ow) & (dy >= 0) & (dy < oh)
            covered = np.zeros(len(points), bool)
            covered[inside] = alpha[dy[inside], dx[inside]] >= 0.5
            if covered[target] and not np.any(covered & ~targets):
                return alpha, x0, y0
            shrink *= 0.8
        return None

    def transform(self, results: dict) -> dict:
        """Paste this sample's occluders; see the class docstring for the keys."""
        img, pixels, labelled = self.crop_pixels(results)
        h, w = img.shape[:2]
        rng = self.rng_for(results)
        points, flat_labelled = pixels.reshape(-1, 2), labelled.reshape(-1)
        targets = flat_labelled & (rng.rand(flat_labelled.size) < self.keypoint_prob)
        canvas = Canvas(img)
        for target in np.flatnonzero(targets):
            drawn = self._draw(rng, target, points, flat_labelled, targets, w, h)
            if drawn is None:
                continue
            alpha, x0, y0 = drawn
            texture = procedural_texture(rng, alpha.shape[1], alpha.shape[0], canvas.channels)
            canvas.paste(texture, alpha, x0, y0)
        canvas.commit(results, pixels, labelled, self.record_mask, type(self).__name__)
        return results
