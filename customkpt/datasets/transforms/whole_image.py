"""Whole-image transforms for one-stage (multi-instance) models.

A sample is an image with all its N instances (see
:class:`~customkpt.datasets.CocoImageDataset`). The usual pipeline::

    LoadImage -> RandomFlip -> RandomImageScaleShift -> ImageAffine
    -> GenerateCentreTarget -> PackImageInputs

``RandomFlip`` is the top-down one: it mirrors the image, every box and
every instance's keypoints with the definition's ``flip_indices``.
``ImageAffine`` letterboxes: the whole image, grown to the input's aspect
ratio about its centre (nothing is squashed; the border is black),
is warped onto the input; with ``RandomImageScaleShift`` before it, that
region is first zoomed and moved. It is the top-down crop of
:mod:`customkpt.core.geometry` with the image as the box, so
``input_center`` / ``input_scale`` mean what they mean there and
:func:`~customkpt.core.geometry.crop_to_image` maps predictions back.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData

from customkpt.codecs.centre import letterbox_region
from customkpt.codecs.centre_keypoints import HEATMAP_TARGETS
from customkpt.core.geometry import apply_affine, crop_regions, get_warp_matrix
from customkpt.registry import KEYPOINT_CODECS, TRANSFORMS

from .formatting import PackPoseInputs
from .settings import SettingsRepr

__all__ = ['RandomImageScaleShift', 'ImageAffine', 'GenerateCentreTarget', 'PackImageInputs',
           'CENTRE_TARGETS']

#: The target maps of :class:`~customkpt.codecs.CentreLabel` that are packed
#: (those of keypoint heatmaps only when its ``keypoint_heatmaps`` is on).
CENTRE_TARGETS = ('centre_heatmap', 'box_size', 'centre_offset', 'centre_weight',
                  'keypoint_offsets', 'keypoint_visibility') + HEATMAP_TARGETS


@TRANSFORMS.register_module()
class RandomImageScaleShift(SettingsRepr, BaseTransform):
    """Draw a zoom and a shift of the letterbox region for :class:`ImageAffine`.

    With probability ``prob`` the region is zoomed by a factor drawn
    uniformly from ``scale_range`` (above 1: the content appears larger) and
    moved by up to ``shift_factor`` of its size along each axis.

    Added keys:
        image_zoom (float), image_shift float32 (2,) (fractions of the
        region size).
    """

    repr_fields = ('scale_range', 'shift_factor', 'prob')

    def __init__(self, scale_range: Sequence[float] = (0.75, 1.25), shift_factor: float = 0.1,
                 prob: float = 1.0) -> None:
        lo, hi = float(scale_range[0]), float(scale_range[1])
        if not 0 < lo <= hi:
            raise ValueError(f'scale_range must be (low, high) with 0 < low <= high, got '
                             f'{scale_range}')
        if shift_factor < 0 or not 0 <= prob <= 1:
            raise ValueError(f'shift_factor must be >= 0 and prob in [0, 1], got '
                             f'{shift_factor} and {prob}')
        self.scale_range = (lo, hi)
        self.shift_factor = float(shift_factor)
        self.prob = float(prob)

    def transform(self, results: dict) -> dict:
        zoom, shift = 1.0, np.zeros(2, np.float32)
        if np.random.rand() < self.prob:
            zoom = float(np.random.uniform(*self.scale_range))
            shift = np.random.uniform(-self.shift_factor, self.shift_factor, 2)
        results['image_zoom'] = zoom
        results['image_shift'] = np.asarray(shift, np.float32)
        return results


@TRANSFORMS.register_module()
class ImageAffine(SettingsRepr, BaseTransform):
    """Letterbox the whole image onto the network input (see the module docs).

    Required keys:
        img.
    Optional keys:
        image_zoom, image_shift (:class:`RandomImageScaleShift`);
        bbox (N, 4) xyxy and keypoints (N, K, 2) in image pixels.
    Modified keys:
        img (h, w, C) input, img_shape (h, w).
    Added keys:
        input_size (w, h), input_center float32 (2,), input_scale float32
        (2,) (the image region on the input), transformed_bboxes float32
        (N, 4) and transformed_keypoints float32 (N, K, 2) in input pixels.

    Args:
        input_size: network input (w, h).
    """

    repr_fields = ('input_size', )

    def __init__(self, input_size: Sequence[int] = (512, 512)) -> None:
        if len(input_size) != 2 or min(input_size) < 2:
            raise ValueError(f'input_size must be (w, h) with both >= 2, got {input_size}')
        self.input_size = (int(input_size[0]), int(input_size[1]))

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        centre, size = letterbox_region(w, h, self.input_size)
        centre = centre + np.asarray(results.get('image_shift', (0, 0)), np.float32) * size
        size = size / np.float32(results.get('image_zoom', 1.0))
        crop = crop_regions(img, centre[None], size[None], self.input_size)[0]
        matrix = get_warp_matrix(centre, size, 0.0, self.input_size)
        results['img'] = crop.reshape(crop.shape[:2] + img.shape[2:])
        results['img_shape'] = crop.shape[:2]
        results.update(input_size=self.input_size, input_center=centre.astype(np.float32),
                       input_scale=size.astype(np.float32))
        if results.get('bbox') is not None:
            corners = np.asarray(results['bbox'], np.float32).reshape(-1, 2, 2)
            results['transformed_bboxes'] = apply_affine(corners, matrix).reshape(-1, 4)
        if results.get('keypoints') is not None:
            results['transformed_keypoints'] = apply_affine(results['keypoints'], matrix)
        return results


@TRANSFORMS.register_module()
class GenerateCentreTarget(BaseTransform):
    """The dense centre targets of all instances, by a
    :class:`~customkpt.codecs.CentreLabel` codec.

    Required keys:
        transformed_bboxes (N, 4), bbox_label (N,); for keypoint codecs also
        transformed_keypoints (N, K, 2) and keypoints_visible (N, K).
    Added keys:
        the codec's maps (:data:`CENTRE_TARGETS`), float32 (c, H, W).

    Args:
        encoder: the codec config (``KEYPOINT_CODECS``) or a codec.
    """

    def __init__(self, encoder: dict | Any) -> None:
        self.encoder_cfg = encoder
        self.encoder = KEYPOINT_CODECS.build(dict(encoder)) if isinstance(encoder, dict) \
            else encoder
        if not callable(getattr(self.encoder, 'flip_back', None)):
            raise TypeError(f'GenerateCentreTarget needs a CentreLabel encoder, got '
                            f'{type(self.encoder).__name__}')

    def transform(self, results: dict) -> dict:
        shape = tuple(results['img'].shape[1::-1])
        if shape != self.encoder.input_size:
            raise ValueError(f'GenerateCentreTarget: the input is {shape[0]}x{shape[1]} but the '
                             f'encoder expects {self.encoder.input_size[0]}x'
                             f'{self.encoder.input_size[1]} (ImageAffine input_size)')
        keypoints = visible = None
        if self.encoder.num_keypoints:
            keypoints = np.asarray(results['transformed_keypoints'], np.float32)
            visible = np.asarray(results['keypoints_visible'], np.float32)
        results.update(self.encoder.encode(results['transformed_bboxes'], results['bbox_label'],
                                           keypoints, visible))
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(encoder={self.encoder_cfg!r})'


@TRANSFORMS.register_module()
class PackImageInputs(PackPoseInputs):
    """:class:`PackPoseInputs` for whole images: ``gt_instances`` holds all N
    instances (``bboxes`` (N, 4), ``keypoints`` (N, K, 2), ... in image
    pixels) plus ``labels`` int64 (N,) from ``bbox_label``; the centre
    targets, when present, go to ``gt_fields`` as float32 tensors."""

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        sample = packed['data_samples']
        if results.get('bbox_label') is not None:
            sample.gt_instances.labels = np.asarray(results['bbox_label'], np.int64).reshape(-1)
        maps = {name: torch.from_numpy(np.ascontiguousarray(results[name], np.float32))
                for name in CENTRE_TARGETS if results.get(name) is not None}
        if maps:
            sample.gt_fields = PixelData(**maps)
        return packed
