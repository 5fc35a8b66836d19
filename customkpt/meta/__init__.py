"""Keypoint definitions: names, skeleton, flip pairs, sigmas and weights.

A :class:`KeypointMeta` describes one keypoint definition (5 points on a
person, 4 on a mouse, ...). It is built once, validated once, and then the
same information travels to transforms, model, metric and drawing as the
plain dict returned by :meth:`KeypointMeta.to_dict`.

Sources, applied in this order so that later ones win:

1. the COCO category of an annotation file (``keypoints``, 1-based
   ``skeleton`` as in COCO, optional 0-based ``flip_pairs``);
2. an MMPose-style metainfo file (``from_file``: a Python file defining
   ``dataset_info``), so MMPose users bring their definitions unchanged;
3. explicit config keys (``num_joints``, ``keypoint_names``, ``flip_pairs``,
   ``skeleton``, ``sigmas``, ``joint_weights``, ``upper_body_ids``,
   ``lower_body_ids``, ``dataset_name``, ``flip_from_names``).
"""
from .errors import KeypointMetaError
from .keypoint_meta import KeypointMeta
from .naming import (COCO_SIGMAS_BY_PART, DEFAULT_SIGMA, PART_ALIASES, default_sigmas,
                     derive_flip_pairs, palette, side_partners, unpaired_sided_names)
from .sources import CONFIG_KEYS

__all__ = [
    'KeypointMeta', 'KeypointMetaError', 'derive_flip_pairs', 'default_sigmas', 'palette',
    'DEFAULT_SIGMA', 'COCO_SIGMAS_BY_PART', 'PART_ALIASES', 'CONFIG_KEYS',
    'side_partners', 'unpaired_sided_names',
]
