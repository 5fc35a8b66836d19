"""Occlusion augmentations on the cropped sample, and a seeded occlusion for evaluation.

Every transform here runs after ``TopdownAffine`` on the crop ``img`` (h, w, C).
Keypoint coordinates and visibility are never changed: the model has to learn
to place the points it cannot see. Each transform records which labelled
keypoints ended up under occluded pixels in ``keypoints_occluded`` (N, K) bool
(N = 1 in top-down samples), OR-ed with what an earlier transform recorded.
:class:`OcclusionWeight`, placed after ``GenerateTarget``, can then scale the
weights of those points.

Conventions:

- A keypoint (x, y) in crop pixels lies on pixel ``(round(x), round(y))``:
  pixel centres sit at integer coordinates, as ``cv2.warpAffine`` samples them.
- A keypoint is *labelled* when ``keypoints_visible >= 0.5`` (the threshold the
  heatmap codecs use) and its pixel is inside the crop.
- With ``record_mask=True`` a transform also ORs the pixels it occluded into
  ``occlusion_mask`` (h, w) bool, for drawing and tests.

The keys every occlusion transform here shares (class docstrings name only
what they add to this):

- required: ``img`` (h, w, C) crop and ``transformed_keypoints`` (N, K, 2)
  crop pixels;
- optional: ``keypoints_visible`` (N, K) (every keypoint counts as labelled
  when absent) and ``keypoints_occluded`` from an earlier transform;
- modified: ``img``;
- added: ``keypoints_occluded`` bool (N, K), and ``occlusion_mask`` bool
  (h, w) with ``record_mask``.

The training transforms draw from numpy's global RNG (like the other
transforms), so mmengine's ``randomness=dict(seed=...)`` makes them
repeatable. :class:`FixedOcclusion` uses a private RNG seeded per sample, so a
validation sample always gets the same occluders.
"""
from .common import FILL_MODES
from .dropout import CoarseDropout, GridDropout, RandomErasing
from .fixed import FixedOcclusion, sample_key
from .info_drop import KeypointInfoDrop
from .occluder import OCCLUDER_SOURCES, RandomOccluder
from .shapes import procedural_texture, random_shape_alpha
from .weights import OcclusionWeight

__all__ = [
    'KeypointInfoDrop', 'CoarseDropout', 'GridDropout', 'RandomErasing', 'RandomOccluder',
    'OcclusionWeight', 'FixedOcclusion', 'FILL_MODES', 'OCCLUDER_SOURCES', 'sample_key',
    'random_shape_alpha', 'procedural_texture'
]
