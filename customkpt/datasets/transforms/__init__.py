"""Data transforms for top-down keypoint training and evaluation."""
from .flip import RandomFlip, flip_keypoints
from .formatting import PackPoseInputs
from .loading import LoadImage
from .photometric import PhotometricDistortion
from .target import GenerateTarget
from .topdown import (GetBBoxCenterScale, RandomBBoxTransform, RandomHalfBody, TopdownAffine,
                      apply_affine, get_warp_matrix)

__all__ = ['LoadImage', 'GetBBoxCenterScale', 'RandomFlip', 'RandomHalfBody',
           'RandomBBoxTransform', 'TopdownAffine', 'PhotometricDistortion', 'GenerateTarget',
           'PackPoseInputs', 'flip_keypoints', 'get_warp_matrix', 'apply_affine']
