"""Data transforms for top-down keypoint training and evaluation.

Importing this package registers every transform in
:data:`customkpt.registry.TRANSFORMS`. A usual training pipeline::

    LoadImage -> GetBBoxCenterScale -> RandomFlip -> RandomHalfBody
    -> RandomBBoxTransform -> TopdownAffine [-> PhotometricDistortion]
    -> GenerateTarget -> PackPoseInputs

Whole images for one-stage models (:mod:`.whole_image`)::

    LoadImage -> RandomFlip -> RandomImageScaleShift -> ImageAffine
    -> GenerateCentreTarget -> PackImageInputs

The sample keys and shapes each one reads and writes are listed in
docs/architecture.md and in each class docstring.
"""
from .blur import Blur, MedianBlur
from .flip import RandomFlip
from .formatting import DEFAULT_META_KEYS, PackPoseInputs
from .loading import LoadImage
from .occlusion import (CoarseDropout, FixedOcclusion, GridDropout, KeypointInfoDrop,
                        OcclusionWeight, RandomErasing, RandomOccluder)
from .photometric import PhotometricDistortion, RandomHSV
from .target import GenerateTarget
from .topdown import (GetBBoxCenterScale, RandomBBoxTransform, RandomHalfBody, TopdownAffine,
                      apply_affine, bbox_xyxy2cs, fix_aspect_ratio, get_warp_matrix)
from .whole_image import (GenerateCentreTarget, ImageAffine, PackImageInputs,
                          RandomImageScaleShift)

__all__ = [
    'LoadImage', 'GetBBoxCenterScale', 'RandomFlip', 'RandomHalfBody', 'RandomBBoxTransform',
    'TopdownAffine', 'PhotometricDistortion', 'GenerateTarget', 'PackPoseInputs',
    'DEFAULT_META_KEYS', 'get_warp_matrix', 'apply_affine', 'fix_aspect_ratio', 'bbox_xyxy2cs'
]
__all__ += [
    'KeypointInfoDrop', 'CoarseDropout', 'GridDropout', 'RandomErasing', 'RandomOccluder',
    'OcclusionWeight', 'FixedOcclusion'
]
__all__ += ['RandomHSV', 'Blur', 'MedianBlur']
__all__ += ['RandomImageScaleShift', 'ImageAffine', 'GenerateCentreTarget', 'PackImageInputs']
