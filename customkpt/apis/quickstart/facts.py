"""What a COCO-keypoint training file tells the run: its keypoint definition
and the numbers the schedule is sized by."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from customkpt.converters.category import keypoint_categories
from customkpt.core.boxes import boxes_from_points
from customkpt.errors import UserError
from customkpt.meta import KeypointMeta

__all__ = ['TrainFacts', 'read_train_facts', 'keypoint_category', 'derive_definition']


@dataclass(frozen=True)
class TrainFacts:
    """The training file in numbers.

    Attributes:
        num_images: images with at least one training instance.
        num_instances: instances that become samples (not crowd, >= 1 labelled point).
        median_aspect: median box width / height over those instances.
        definition: the keypoint knobs of the config (:func:`derive_definition`).
        meta: the definition as a :class:`KeypointMeta`.
    """

    num_images: int
    num_instances: int
    median_aspect: float
    definition: dict
    meta: KeypointMeta


def keypoint_category(coco: Mapping[str, Any], source: str) -> dict:
    """The one category that lists keypoints.

    Raises:
        UserError: none or several do.
    """
    cats = keypoint_categories(coco)
    if len(cats) != 1:
        listed = [(c.get('id'), c.get('name')) for c in cats]
        raise UserError(f'{source}: "categories" must hold exactly one category with a '
                        f'"keypoints" list to train on, found {len(cats)} {listed}')
    return dict(cats[0])


def derive_definition(category: Mapping[str, Any], source: str
                      ) -> tuple[dict, KeypointMeta]:
    """The keypoint knobs of a config from a COCO category, and the meta they make.

    Names, skeleton and OKS sigmas come from the category as
    :meth:`KeypointMeta.from_coco_category` reads them, flip pairs too: its
    ``flip_pairs``, else (no such key) the pairs left/right words in the
    names suggest; an empty ``flip_pairs`` list means none. Without sigmas
    the defaults by part name are used, with the warning
    :meth:`KeypointMeta.warn_if_sigmas_defaulted` gives.

    Returns:
        ``(dict(dataset_name, keypoint_names, skeleton, flip_pairs, sigmas), meta)``;
        ``skeleton`` and ``flip_pairs`` 0-based, ``sigmas`` None when defaulted.
    """
    meta = KeypointMeta.from_coco_category(category, source=source)
    sigmas = None if meta.sigmas_defaulted else [round(float(s), 6) for s in meta.sigmas]
    meta.warn_if_sigmas_defaulted()
    definition = dict(dataset_name=meta.dataset_name, keypoint_names=list(meta.keypoint_names),
                      skeleton=[list(p) for p in meta.skeleton],
                      flip_pairs=[list(p) for p in meta.flip_pairs], sigmas=sigmas)
    return definition, meta


def _instances(coco: Mapping[str, Any], category_id: Any, k: int
               ) -> tuple[list[Mapping[str, Any]], np.ndarray]:
    """The annotations that become samples, and their (N, K, 3) keypoints."""
    anns, points = [], []
    for ann in coco.get('annotations') or []:
        kpts = np.asarray(ann.get('keypoints') or [], dtype=np.float64)
        if ann.get('iscrowd') or ann.get('category_id', category_id) != category_id \
                or kpts.size != 3 * k or not (kpts[2::3] > 0).any():
            continue
        anns.append(ann)
        points.append(kpts.reshape(k, 3))
    return anns, np.asarray(points, dtype=np.float64).reshape(-1, k, 3)


def _median_aspect(anns: list[Mapping[str, Any]], points: np.ndarray) -> float:
    """Median width / height of the instances' boxes (derived from the
    labelled points where an annotation has no usable box)."""
    derived = boxes_from_points(points[..., :2], points[..., 2] > 0, dtype=np.float64)
    ratios = []
    for ann, box in zip(anns, derived):
        bbox = ann.get('bbox')
        w, h = (bbox[2], bbox[3]) if bbox and len(bbox) == 4 else (box[2] - box[0],
                                                                  box[3] - box[1])
        if w > 0 and h > 0:
            ratios.append(w / h)
    return float(np.median(ratios)) if ratios else 1.0


def read_train_facts(train_file: str | Path, coco: Mapping[str, Any] | None = None
                     ) -> TrainFacts:
    """The definition, instance count and box shape of a training file.

    Args:
        train_file: the COCO-keypoint training file.
        coco: its content, when the caller has read it (else it is read).

    Raises:
        UserError: no single keypoint category, or no instance to train on.
        KeypointMetaError: a category the definition checks refuse.
    """
    if coco is None:
        with open(train_file, encoding='utf-8') as fh:
            coco = json.load(fh)
    source = f'{train_file}'
    category = keypoint_category(coco, source)
    definition, meta = derive_definition(category, f'{source}: category {category.get("name")!r}')
    anns, points = _instances(coco, category.get('id'), meta.num_keypoints)
    if not anns:
        raise UserError(f'{source}: no instance to train on (each needs a labelled point, '
                        f'iscrowd 0 and {meta.num_keypoints} keypoints)')
    num_images = len({a.get('image_id') for a in anns})
    return TrainFacts(num_images, len(anns), _median_aspect(anns, points), definition, meta)
