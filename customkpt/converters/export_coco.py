"""Predictions written as COCO-keypoint json: a results list or a dataset.

* :func:`prediction_results`: the COCO results layout that
  ``CocoKeypointMetric`` writes and COCO evaluation reads
  (``{"image_id", "category_id", "keypoints": [x, y, score] * K, "score"}``);
* :func:`prediction_dataset`: a dataset (``images`` / ``annotations`` /
  ``categories``) whose labels are the predicted points scored above a
  threshold, e.g. to correct predictions in a labelling tool, or to add
  pseudo-labels to training data. Boxes come from the points as in every
  converter.

Both take one instance per image: keypoints (F, K, 2) pixels and scores
(F, K); a frame whose points are all NaN has no prediction.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .builder import CocoBuilder
from .category import make_category
from .common import DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN

__all__ = ['prediction_dataset', 'prediction_results']


def _checked(keypoints: Any, scores: Any, frames: int) -> tuple[np.ndarray, np.ndarray]:
    kpts = np.asarray(keypoints, np.float64)
    sc = np.asarray(scores, np.float64)
    if kpts.ndim != 3 or kpts.shape[0] != frames or kpts.shape[2] != 2:
        raise ValueError(f'keypoints of shape {kpts.shape}, expected (F, K, 2) with F={frames}')
    if sc.shape != kpts.shape[:2]:
        raise ValueError(f'scores of shape {sc.shape}, expected (F, K) = {kpts.shape[:2]}')
    return kpts, sc


def prediction_results(image_ids: Sequence[int], keypoints: Any, scores: Any,
                       category_id: int = 1,
                       instance_scores: Sequence[float] | None = None) -> list[dict]:
    """COCO results, one per image with a prediction.

    Args:
        image_ids: F image ids.
        keypoints: (F, K, 2) pixels.
        scores: (F, K) keypoint scores.
        category_id: the category written.
        instance_scores: (F,) pose scores; default the mean of the finite
            keypoint scores.

    Returns:
        ``[{"image_id", "category_id", "keypoints", "score"}]`` in image
        order; NaN coordinates and scores are written as 0.
    """
    kpts, sc = _checked(keypoints, scores, len(image_ids))
    out = []
    for f, img_id in enumerate(image_ids):
        if not np.isfinite(kpts[f]).any():
            continue
        if instance_scores is not None:
            score = float(instance_scores[f])
        else:
            finite = sc[f][np.isfinite(sc[f])]
            score = float(finite.mean()) if finite.size else 0.0
        flat = np.nan_to_num(np.concatenate([kpts[f], sc[f][:, None]], axis=1)).reshape(-1)
        out.append(dict(image_id=int(img_id), category_id=int(category_id),
                        keypoints=flat.tolist(), score=score))
    return out


def prediction_dataset(images: Sequence[Mapping[str, Any]], keypoints: Any, scores: Any,
                       keypoint_names: Sequence[str], score_thr: float = 0.5,
                       category_name: str = 'object',
                       skeleton: Sequence[Sequence[int]] = (),
                       flip_pairs: Sequence[Sequence[int]] | None = None,
                       bbox_pad: float = DEFAULT_BBOX_PAD,
                       min_margin: float = DEFAULT_MIN_MARGIN) -> dict:
    """A COCO-keypoint dataset of the predicted points.

    Args:
        images: F dicts with ``file_name``, ``width`` and ``height`` (other
            keys are kept; ids are renumbered 1..F).
        keypoints: (F, K, 2) pixels.
        scores: (F, K) scores: a point is labelled (``v = 2``) when its score
            is above ``score_thr`` and its coordinates are finite.
        keypoint_names: the K names.
        score_thr: the labelling threshold.
        category_name: the category (dataset) name.
        skeleton: 0-based links.
        flip_pairs: 0-based pairs; ``None`` derives them from the names.
        bbox_pad: padding of the boxes derived from the points.
        min_margin: smallest box margin in pixels.

    Returns:
        The COCO dict; an image without a point above the threshold has no
        annotation.
    """
    kpts, sc = _checked(keypoints, scores, len(images))
    if kpts.shape[1] != len(keypoint_names):
        raise ValueError(f'{kpts.shape[1]} keypoints per frame, but {len(keypoint_names)} '
                         'names')
    category = make_category(category_name, keypoint_names, skeleton, flip_pairs=flip_pairs,
                             source='predictions')
    builder = CocoBuilder(category, bbox_pad=bbox_pad, min_margin=min_margin)
    for f, img in enumerate(images):
        extra = {k: v for k, v in img.items() if k not in ('id', 'file_name', 'width', 'height')}
        img_id = builder.add_image(img['file_name'], img['width'], img['height'], **extra)
        keep = (sc[f] > score_thr) & np.isfinite(kpts[f]).all(axis=1)
        rows = np.zeros((len(keypoint_names), 3))
        rows[keep, :2] = kpts[f, keep]
        rows[keep, 2] = 2
        builder.add_instance(img_id, rows)
    return dict(images=builder.images, annotations=builder.annotations,
                categories=[builder.category])
