"""Top-down geometry: box to centre/scale, box jitter, half body, affine crop.

Boxes are xyxy in image pixels. ``bbox_center`` (1, 2) is the centre of the
region to crop and ``bbox_scale`` (1, 2) its (w, h) in pixels (no 200-pixel
unit). ``bbox_rotation`` (1,) is in degrees.

Two crop conventions are supported (``use_udp``):

- plain: the box spans the crop's ``input_size`` pixels, i.e. the box edge
  ``center - scale / 2`` maps to crop coordinate 0 and ``center + scale / 2``
  to ``input_size``; crop pixels map back to image pixels by
  ``image = crop / input_size * scale + center - scale / 2`` (rotation 0).
- UDP (unbiased data processing): the box edges map to the centres of the
  first and last crop pixels, 0 and ``input_size - 1``, so
  ``image = crop / (input_size - 1) * scale + center - scale / 2``.
"""
from __future__ import annotations

from statistics import NormalDist
from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.core.geometry import (apply_affine, bbox_xyxy2cs, fix_aspect_ratio,
                                     get_warp_matrix)
from customkpt.registry import TRANSFORMS

from .settings import SettingsRepr

__all__ = [
    'GetBBoxCenterScale', 'RandomBBoxTransform', 'RandomHalfBody', 'TopdownAffine',
    'get_warp_matrix', 'apply_affine', 'fix_aspect_ratio', 'bbox_xyxy2cs'
]


# ------------------------------------------------------------------ helpers
_STANDARD_NORMAL = NormalDist()
_CDF_AT_MINUS_ONE = _STANDARD_NORMAL.cdf(-1.0)


def _truncated_normal(size) -> np.ndarray:
    """Draws of a standard normal truncated to [-1, 1] (global numpy RNG).

    Inverse-CDF sampling: one uniform draw per value, so the number of draws
    is fixed. (Clipping normal draws to [-1, 1] instead would put 32% of the
    values exactly on the bounds.)
    """
    u = np.random.uniform(_CDF_AT_MINUS_ONE, 1.0 - _CDF_AT_MINUS_ONE, size=size)
    return np.vectorize(_STANDARD_NORMAL.inv_cdf, otypes=[np.float64])(u)


# --------------------------------------------------------------- transforms
@TRANSFORMS.register_module()
class GetBBoxCenterScale(BaseTransform):
    """Turn the instance box into the centre and size of the region to crop.

    Required keys:
        bbox: (1, 4) xyxy in image pixels.
    Added keys:
        bbox_center: float32 (1, 2), the box centre.
        bbox_scale: float32 (1, 2), the box (w, h) times ``padding``.

    Args:
        padding: factor applied to the box size (1.25 in the usual recipe).
    """

    def __init__(self, padding: float = 1.25) -> None:
        if padding <= 0:
            raise ValueError(f'padding must be positive, got {padding}')
        self.padding = float(padding)

    def transform(self, results: dict) -> dict:
        """Compute centre and scale; see the class docstring."""
        results['bbox_center'], results['bbox_scale'] = bbox_xyxy2cs(results['bbox'],
                                                                     self.padding)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(padding={self.padding})'


@TRANSFORMS.register_module()
class RandomBBoxTransform(SettingsRepr, BaseTransform):
    """Jitter the crop region: shift, rescale and rotate it.

    Each change happens with its own probability. Its amount is a draw of
    the standard normal truncated to [-1, 1] (its density cut off outside,
    not clipped onto the bounds) mapped into the range, so values stay inside
    the range, small changes are the most common and the extremes are rare:

    - shift: ``draw * shift_factor * bbox_scale`` per axis;
    - scale: ``bbox_scale`` times ``mid + draw * half_width`` of the
      ``scale_factor`` range (0.5-1.5 -> 1 +- 0.5);
    - rotation: ``draw * rotate_factor`` degrees (within +-rotate_factor).

    Required keys:
        bbox_center (1, 2), bbox_scale (1, 2).
    Modified keys:
        bbox_center, bbox_scale (float32).
    Added keys:
        bbox_rotation: float32 (1,) degrees (0 when not rotated).

    Args:
        shift_factor: largest shift as a fraction of the box size.
        shift_prob: probability of shifting.
        scale_factor: (min, max) scale multiplier.
        scale_prob: probability of rescaling.
        rotate_factor: largest rotation in degrees.
        rotate_prob: probability of rotating.
    """

    repr_fields = ('shift_factor', 'shift_prob', 'scale_factor', 'scale_prob', 'rotate_factor',
                   'rotate_prob')

    def __init__(self, shift_factor: float = 0.16, shift_prob: float = 0.3,
                 scale_factor: tuple[float, float] = (0.5, 1.5), scale_prob: float = 1.0,
                 rotate_factor: float = 80.0, rotate_prob: float = 0.6) -> None:
        lo, hi = (float(v) for v in scale_factor)
        if not 0 < lo <= hi:
            raise ValueError(f'scale_factor must be (min, max) with 0 < min <= max, '
                             f'got {scale_factor}')
        self.shift_factor = float(shift_factor)
        self.shift_prob = float(shift_prob)
        self.scale_factor = (lo, hi)
        self.scale_prob = float(scale_prob)
        self.rotate_factor = float(rotate_factor)
        self.rotate_prob = float(rotate_prob)

    def transform(self, results: dict) -> dict:
        """Jitter; see the class docstring for the keys."""
        center = np.array(results['bbox_center'], dtype=np.float32).reshape(-1, 2)
        scale = np.array(results['bbox_scale'], dtype=np.float32).reshape(-1, 2)
        n = center.shape[0]
        # A fixed number of draws per call, whatever the outcome, so the
        # random stream of later transforms does not depend on the probs.
        do_shift, do_scale, do_rotate = np.random.rand(3) < (self.shift_prob, self.scale_prob,
                                                             self.rotate_prob)
        shift, factor, angle = (_truncated_normal((n, 2)), _truncated_normal((n, 1)),
                                _truncated_normal(n))
        if do_shift:
            center = center + shift * self.shift_factor * scale
        if do_scale:
            lo, hi = self.scale_factor
            scale = scale * ((hi + lo) * 0.5 + factor * (hi - lo) * 0.5)
        rotation = angle * self.rotate_factor if do_rotate else np.zeros(n)
        results['bbox_center'] = center.astype(np.float32)
        results['bbox_scale'] = scale.astype(np.float32)
        results['bbox_rotation'] = rotation.astype(np.float32)
        return results



@TRANSFORMS.register_module()
class RandomHalfBody(BaseTransform):
    """With probability ``prob``, crop to the upper or the lower body half.

    The halves are lists of keypoint indices: ``upper_body_ids`` /
    ``lower_body_ids`` given here, else the sample's keys of the same names
    when present. A definition without halves (both empty or absent) is left
    alone, so the same pipeline serves any keypoint definition.

    A sample qualifies when it has at least ``min_total_keypoints`` labelled
    points; a half qualifies when it has at least ``min_upper_keypoints`` /
    ``min_lower_keypoints`` labelled points. When both halves qualify, the
    upper one is taken with probability ``upper_prioritized_prob``, else the
    one that qualifies. The crop becomes the extent of the half's labelled
    points (centred on it) times ``padding``; ``TopdownAffine`` then grows
    its shorter side to the network input's aspect ratio, so the half fills
    the crop (growing it to the whole box's aspect ratio first would undo
    much of the zoom).

    Required keys:
        keypoints (1, K, 2), keypoints_visible (1, K), bbox_center (1, 2),
        bbox_scale (1, 2).
    Modified keys:
        bbox_center, bbox_scale (only when a half body is chosen).

    Args:
        prob: probability of trying a half-body crop.
        min_total_keypoints: labelled points the sample needs.
        min_upper_keypoints: labelled upper-body points the upper half needs.
        min_lower_keypoints: labelled lower-body points the lower half needs.
        padding: factor applied to the half's extent.
        upper_body_ids: keypoint indices of the upper half (overrides the
            sample's ``upper_body_ids``).
        lower_body_ids: keypoint indices of the lower half (overrides the
            sample's ``lower_body_ids``).
        upper_prioritized_prob: probability of the upper half when both
            qualify.
    """

    def __init__(self, prob: float = 0.3, min_total_keypoints: int = 9,
                 min_upper_keypoints: int = 2, min_lower_keypoints: int = 3,
                 padding: float = 1.5, upper_body_ids: Sequence[int] | None = None,
                 lower_body_ids: Sequence[int] | None = None,
                 upper_prioritized_prob: float = 0.7) -> None:
        if not 0.0 <= upper_prioritized_prob <= 1.0:
            raise ValueError(f'upper_prioritized_prob must be in [0, 1], '
                             f'got {upper_prioritized_prob}')
        self.prob = float(prob)
        self.upper_prioritized_prob = float(upper_prioritized_prob)
        self.min_total_keypoints = int(min_total_keypoints)
        self.min_upper_keypoints = int(min_upper_keypoints)
        self.min_lower_keypoints = int(min_lower_keypoints)
        self.padding = float(padding)
        self.upper_body_ids = None if upper_body_ids is None else [int(i) for i in upper_body_ids]
        self.lower_body_ids = None if lower_body_ids is None else [int(i) for i in lower_body_ids]

    @staticmethod
    def _ids(given: list[int] | None, results: dict, key: str, k: int) -> np.ndarray:
        ids = given if given is not None else results.get(key)
        ids = np.asarray([] if ids is None else ids, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= k):
            raise ValueError(f'RandomHalfBody: {key} {ids.tolist()} has indices outside '
                             f'[0, {k}) for K={k} keypoints')
        return ids

    def transform(self, results: dict) -> dict:
        """Maybe replace the crop by a half body; see the class docstring."""
        if results.get('keypoints') is None:
            return results
        keypoints = np.asarray(results['keypoints'], dtype=np.float32)
        k = keypoints.shape[-2]
        upper = self._ids(self.upper_body_ids, results, 'upper_body_ids', k)
        lower = self._ids(self.lower_body_ids, results, 'lower_body_ids', k)
        if upper.size == 0 and lower.size == 0:
            return results
        if np.random.rand() >= self.prob:
            return results
        visible = np.asarray(results['keypoints_visible']).reshape(-1, k)[0] > 0
        if visible.sum() < self.min_total_keypoints:
            return results
        upper, lower = upper[visible[upper]], lower[visible[lower]]
        upper_ok = upper.size >= max(self.min_upper_keypoints, 1)
        lower_ok = lower.size >= max(self.min_lower_keypoints, 1)
        prefer_upper = np.random.rand() < self.upper_prioritized_prob
        if not (upper_ok or lower_ok):
            return results
        ids = upper if upper_ok and (prefer_upper or not lower_ok) else lower
        points = keypoints.reshape(-1, k, 2)[0, ids]
        lo, hi = points.min(axis=0), points.max(axis=0)
        extent = hi - lo
        if extent.max() < 1.0:  # all points on one pixel: no usable box
            return results
        # A zero side (points on one line) is grown by TopdownAffine's aspect fix.
        results['bbox_center'] = ((lo + hi) * 0.5).reshape(1, 2).astype(np.float32)
        results['bbox_scale'] = (extent * self.padding).reshape(1, 2).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, '
                f'min_total_keypoints={self.min_total_keypoints}, '
                f'min_upper_keypoints={self.min_upper_keypoints}, '
                f'min_lower_keypoints={self.min_lower_keypoints}, padding={self.padding}, '
                f'upper_body_ids={self.upper_body_ids}, lower_body_ids={self.lower_body_ids}, '
                f'upper_prioritized_prob={self.upper_prioritized_prob})')


@TRANSFORMS.register_module()
class TopdownAffine(BaseTransform):
    """Crop the (possibly rotated) box region to the network input size.

    The box is first grown to the input's aspect ratio (the shorter side is
    expanded, nothing is squashed), then the image is warped with
    ``cv2.warpAffine`` (bilinear, constant 0 border). Keypoints stay in image
    pixels in ``keypoints`` (the metric needs them) and are added in crop
    pixels as ``transformed_keypoints``. See the module docstring for the
    plain and UDP conventions.

    Required keys:
        img, bbox_center (1, 2), bbox_scale (1, 2).
    Optional keys:
        bbox_rotation (1,) degrees (0 when absent), keypoints (1, K, 2).
    Modified keys:
        img (h, w, C) crop, img_shape (h, w), bbox_scale (aspect-fixed).
    Added keys:
        input_size (w, h), input_center float32 (2,), input_scale float32
        (2,) (the region that was cropped), transformed_keypoints float32
        (1, K, 2) when keypoints are present.

    Args:
        input_size: network input (w, h).
        use_udp: use the unbiased (UDP) pixel convention.
    """

    def __init__(self, input_size: Sequence[int] = (192, 256), use_udp: bool = False) -> None:
        if len(input_size) != 2 or min(input_size) < 2:
            raise ValueError(f'input_size must be (w, h) with both >= 2, got {input_size}')
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.use_udp = bool(use_udp)

    def transform(self, results: dict) -> dict:
        """Crop; see the class docstring for the keys."""
        w, h = self.input_size
        scale = fix_aspect_ratio(np.asarray(results['bbox_scale']).reshape(-1, 2), w / h)
        center = np.asarray(results['bbox_center'], dtype=np.float32).reshape(-1, 2)[0]
        rotation = results.get('bbox_rotation')
        rot = 0.0 if rotation is None else float(np.asarray(rotation).reshape(-1)[0])
        matrix = get_warp_matrix(center, scale[0], rot, (w, h), use_udp=self.use_udp)
        img = results['img']
        warped = cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        results['img'] = warped.reshape(h, w, *img.shape[2:])  # keep a (h, w, 1) channel
        results['img_shape'] = (h, w)
        if results.get('keypoints') is not None:
            results['transformed_keypoints'] = apply_affine(results['keypoints'], matrix)
        results['bbox_scale'] = scale
        results['input_size'] = (w, h)
        results['input_center'] = center.astype(np.float32)
        results['input_scale'] = scale[0].astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(input_size={self.input_size}, use_udp={self.use_udp})'
