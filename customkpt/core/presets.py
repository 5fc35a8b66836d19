"""Built-in keypoint definitions: COCO (17 points), MPII (16) and AI
Challenger (14).

Each definition is given as plain lists (names, 0-based ``flip_pairs`` and
``skeleton`` index pairs, OKS ``sigmas``, loss ``joint_weights`` and the
upper/lower body ids) and as one ``*_METAINFO`` dict of
:class:`customkpt.meta.KeypointMeta` config keys. The metainfo files under
A config names one as ``metainfo='coco'`` (or ``dict(preset='coco', ...)``
with overrides). ``configs/_base_/datasets/coco.py`` holds the COCO
definition in MMPose's metainfo-file layout, as an example of that format
(the tests check that it agrees).

:func:`preset_metainfo` returns a fresh copy, safe to modify.
"""
from __future__ import annotations

import copy
from typing import Any

__all__ = [
    'COCO_NAMES', 'COCO_SIGMAS', 'COCO_FLIP_PAIRS', 'COCO_SKELETON', 'COCO_JOINT_WEIGHTS',
    'COCO_METAINFO', 'MPII_NAMES', 'MPII_SIGMAS', 'MPII_FLIP_PAIRS', 'MPII_SKELETON',
    'MPII_JOINT_WEIGHTS', 'MPII_METAINFO', 'AIC_NAMES', 'AIC_SIGMAS', 'AIC_FLIP_PAIRS',
    'AIC_SKELETON', 'AIC_JOINT_WEIGHTS', 'AIC_METAINFO', 'PRESETS', 'preset_metainfo'
]

# ------------------------------------------------------------------- COCO
COCO_NAMES = [
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
    'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
    'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle'
]
#: COCO's per-keypoint OKS sigmas.
COCO_SIGMAS = [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
               0.107, 0.107, 0.087, 0.087, 0.089, 0.089]
COCO_FLIP_PAIRS = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16]]
#: Legs, torso, arms, then the face.
COCO_SKELETON = [[15, 13], [13, 11], [16, 14], [14, 12], [11, 12], [5, 11], [6, 12], [5, 6],
                 [5, 7], [6, 8], [7, 9], [8, 10], [1, 2], [0, 1], [0, 2], [1, 3], [2, 4],
                 [3, 5], [4, 6]]
#: Loss weights: elbows and knees 1.2, wrists and ankles 1.5.
COCO_JOINT_WEIGHTS = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.2, 1.2, 1.5, 1.5, 1.0, 1.0, 1.2,
                      1.2, 1.5, 1.5]
COCO_METAINFO: dict[str, Any] = dict(
    dataset_name='coco', keypoint_names=COCO_NAMES, flip_pairs=COCO_FLIP_PAIRS,
    skeleton=COCO_SKELETON, upper_body_ids=list(range(0, 11)),
    lower_body_ids=list(range(11, 17)), sigmas=COCO_SIGMAS, joint_weights=COCO_JOINT_WEIGHTS)

# ------------------------------------------------------------------- MPII
MPII_NAMES = [
    'r_ankle', 'r_knee', 'r_hip', 'l_hip', 'l_knee', 'l_ankle', 'pelvis', 'thorax',
    'upper_neck', 'head_top', 'r_wrist', 'r_elbow', 'r_shoulder', 'l_shoulder', 'l_elbow',
    'l_wrist'
]
#: The OKS sigmas published with MPII tools (MPII itself is scored by PCKh).
MPII_SIGMAS = [0.089, 0.083, 0.107, 0.107, 0.083, 0.089, 0.026, 0.026, 0.026, 0.026, 0.062,
               0.072, 0.179, 0.179, 0.072, 0.062]
MPII_FLIP_PAIRS = [[0, 5], [1, 4], [2, 3], [10, 15], [11, 14], [12, 13]]
#: Legs up to the pelvis, the spine to the head, arms out from the thorax.
MPII_SKELETON = [[0, 1], [1, 2], [2, 6], [6, 3], [3, 4], [4, 5], [6, 7], [7, 8], [8, 9],
                 [7, 12], [12, 11], [11, 10], [7, 13], [13, 14], [14, 15]]
#: Loss weights: knees and elbows 1.2, ankles and wrists 1.5.
MPII_JOINT_WEIGHTS = [1.5, 1.2, 1.0, 1.0, 1.2, 1.5, 1.0, 1.0, 1.0, 1.0, 1.5, 1.2, 1.0, 1.0,
                      1.2, 1.5]
MPII_METAINFO: dict[str, Any] = dict(
    dataset_name='mpii', keypoint_names=MPII_NAMES, flip_pairs=MPII_FLIP_PAIRS,
    skeleton=MPII_SKELETON, upper_body_ids=list(range(7, 16)),
    lower_body_ids=list(range(0, 7)), sigmas=MPII_SIGMAS, joint_weights=MPII_JOINT_WEIGHTS)

# -------------------------------------------------------- AI Challenger
#: The 14 AI Challenger points in the dataset's order; the limb points carry
#: COCO's names, so merging onto COCO matches them by name.
AIC_NAMES = [
    'right_shoulder', 'right_elbow', 'right_wrist', 'left_shoulder', 'left_elbow',
    'left_wrist', 'right_hip', 'right_knee', 'right_ankle', 'left_hip', 'left_knee',
    'left_ankle', 'head_top', 'neck'
]
#: AI Challenger's published OKS sigmas (its keypoint evaluation).
AIC_SIGMAS = [0.01388152, 0.01515228, 0.01057665, 0.01417709, 0.01497891, 0.01402144,
              0.03909642, 0.03686941, 0.01981803, 0.03843971, 0.03412318, 0.02415081,
              0.01291456, 0.01236173]
AIC_FLIP_PAIRS = [[0, 3], [1, 4], [2, 5], [6, 9], [7, 10], [8, 11]]
#: Arms and legs from the extremities inwards, the neck joining shoulders
#: and head, and the torso sides.
AIC_SKELETON = [[2, 1], [1, 0], [0, 13], [13, 3], [3, 4], [4, 5], [8, 7], [7, 6], [6, 9],
                [9, 10], [10, 11], [12, 13], [0, 6], [3, 9]]
#: Loss weights: elbows and knees 1.2, wrists and ankles 1.5.
AIC_JOINT_WEIGHTS = [1.0, 1.2, 1.5, 1.0, 1.2, 1.5, 1.0, 1.2, 1.5, 1.0, 1.2, 1.5, 1.0, 1.0]
AIC_METAINFO: dict[str, Any] = dict(
    dataset_name='aic', keypoint_names=AIC_NAMES, flip_pairs=AIC_FLIP_PAIRS,
    skeleton=AIC_SKELETON, upper_body_ids=[0, 1, 2, 3, 4, 5, 12, 13],
    lower_body_ids=[6, 7, 8, 9, 10, 11], sigmas=AIC_SIGMAS, joint_weights=AIC_JOINT_WEIGHTS)

#: Dataset name -> metainfo (KeypointMeta config keys).
PRESETS: dict[str, dict[str, Any]] = dict(coco=COCO_METAINFO, mpii=MPII_METAINFO,
                                          aic=AIC_METAINFO)


def preset_metainfo(name: str) -> dict[str, Any]:
    """A deep copy of the metainfo of preset ``name`` ('coco', 'mpii' or 'aic').

    Raises:
        KeyError: an unknown name (the message lists the known ones).
    """
    if name not in PRESETS:
        raise KeyError(f'unknown keypoint preset {name!r}; known: {sorted(PRESETS)}')
    return copy.deepcopy(PRESETS[name])
