"""Top-down geometry: box to centre/scale, box jitter, half body, affine crop.

Boxes are xyxy in image pixels; ``bbox_scale`` is the (w, h) of the region
to crop, in pixels.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.registry import TRANSFORMS


def get_warp_matrix(center: np.ndarray, scale: np.ndarray, rot: float,
                    output_size: Sequence[int], use_udp: bool = False) -> np.ndarray:
    """The (2, 3) affine that maps the rotated box (center, scale=(w, h),
    rot degrees counter-clockwise) onto an ``output_size=(w, h)`` crop.

    ``use_udp`` maps pixel centres exactly (unbiased data processing): the box
    spans ``output_size - 1`` pixel steps instead of ``output_size``.
    """
    out_w, out_h = float(output_size[0]), float(output_size[1])
    cx, cy = float(center[0]), float(center[1])
    sw, sh = float(scale[0]), float(scale[1])
    if use_udp:
        sx, sy = (out_w - 1.0) / sw, (out_h - 1.0) / sh
        ox, oy = (out_w - 1.0) / 2.0, (out_h - 1.0) / 2.0
    else:
        sx, sy = out_w / sw, out_h / sh
        ox, oy = out_w / 2.0, out_h / 2.0
    a = np.deg2rad(rot)
    c, s = np.cos(a), np.sin(a)
    # Translate the centre to the origin, rotate by -rot (image y points
    # down, so this turns the content counter-clockwise), scale, re-centre.
    rotation = np.array([[c, s], [-s, c]])
    linear = np.diag([sx, sy]) @ rotation
    offset = np.array([ox, oy]) - linear @ np.array([cx, cy])
    return np.hstack([linear, offset[:, None]]).astype(np.float32)


def apply_affine(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Map (..., 2) points with a (2, 3) affine matrix."""
    pts = np.asarray(points, dtype=np.float32)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def fix_aspect_ratio(scale: np.ndarray, aspect_ratio: float) -> np.ndarray:
    """Grow the shorter side of (N, 2) box sizes so that w / h == aspect_ratio."""
    scale = np.asarray(scale, dtype=np.float32)
    w, h = scale[..., 0], scale[..., 1]
    wider = w > h * aspect_ratio
    return np.stack([np.where(wider, w, h * aspect_ratio),
                     np.where(wider, w / aspect_ratio, h)], axis=-1).astype(np.float32)


@TRANSFORMS.register_module()
class GetBBoxCenterScale(BaseTransform):
    """Box (1, 4) xyxy -> ``bbox_center`` (1, 2) and padded ``bbox_scale`` (1, 2).

    Required keys: bbox. Added keys: bbox_center, bbox_scale.
    """

    def __init__(self, padding: float = 1.25) -> None:
        self.padding = padding

    def transform(self, results: dict) -> dict:
        bbox = np.asarray(results['bbox'], dtype=np.float32).reshape(-1, 4)
        results['bbox_center'] = (bbox[:, :2] + bbox[:, 2:]) / 2
        results['bbox_scale'] = (bbox[:, 2:] - bbox[:, :2]) * self.padding
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(padding={self.padding})'


@TRANSFORMS.register_module()
class RandomBBoxTransform(BaseTransform):
    """Jitter the crop box: shift, rescale and rotate.

    Shift is a fraction of the box size (uniform in ±shift_factor), scale a
    factor in ``scale_factor``, rotation in degrees (normal with std
    rotate_factor, clipped to ±2 std, as is usual for pose training).

    Required keys: bbox_center, bbox_scale.
    Modified keys: bbox_center, bbox_scale. Added keys: bbox_rotation (1,).
    """

    def __init__(self, shift_factor: float = 0.16, shift_prob: float = 0.3,
                 scale_factor: tuple[float, float] = (0.5, 1.5), scale_prob: float = 1.0,
                 rotate_factor: float = 80.0, rotate_prob: float = 0.6) -> None:
        self.shift_factor = shift_factor
        self.shift_prob = shift_prob
        self.scale_factor = tuple(scale_factor)
        self.scale_prob = scale_prob
        self.rotate_factor = rotate_factor
        self.rotate_prob = rotate_prob

    def transform(self, results: dict) -> dict:
        center = results['bbox_center'].copy()
        scale = results['bbox_scale'].copy()
        n = center.shape[0]
        if np.random.rand() < self.shift_prob:
            center += np.random.uniform(-self.shift_factor, self.shift_factor, (n, 2)) * scale
        if np.random.rand() < self.scale_prob:
            lo, hi = self.scale_factor
            scale *= np.random.uniform(lo, hi, (n, 1))
        rotation = np.zeros(n, dtype=np.float32)
        if np.random.rand() < self.rotate_prob:
            rotation = np.clip(np.random.randn(n) * self.rotate_factor,
                               -2 * self.rotate_factor, 2 * self.rotate_factor)
        results['bbox_center'] = center.astype(np.float32)
        results['bbox_scale'] = scale.astype(np.float32)
        results['bbox_rotation'] = rotation.astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(shift_factor={self.shift_factor}, '
                f'shift_prob={self.shift_prob}, scale_factor={self.scale_factor}, '
                f'scale_prob={self.scale_prob}, rotate_factor={self.rotate_factor}, '
                f'rotate_prob={self.rotate_prob})')


@TRANSFORMS.register_module()
class RandomHalfBody(BaseTransform):
    """With probability ``prob``, crop to the upper or the lower half body.

    The halves come from the keypoint meta (``upper_body_ids`` /
    ``lower_body_ids`` in the sample, or given here); a definition without
    them is left alone. A half is used only when it has enough labelled points.

    Required keys: keypoints, keypoints_visible, bbox_center, bbox_scale.
    Modified keys: bbox_center, bbox_scale.
    """

    def __init__(self, prob: float = 0.3, min_total_keypoints: int = 9,
                 min_upper_keypoints: int = 2, min_lower_keypoints: int = 3,
                 padding: float = 1.5, upper_body_ids: Sequence[int] | None = None,
                 lower_body_ids: Sequence[int] | None = None) -> None:
        self.prob = prob
        self.min_total_keypoints = min_total_keypoints
        self.min_upper_keypoints = min_upper_keypoints
        self.min_lower_keypoints = min_lower_keypoints
        self.padding = padding
        self.upper_body_ids = list(upper_body_ids) if upper_body_ids is not None else None
        self.lower_body_ids = list(lower_body_ids) if lower_body_ids is not None else None

    def transform(self, results: dict) -> dict:
        upper = self.upper_body_ids
        lower = self.lower_body_ids
        if upper is None:
            upper = results.get('upper_body_ids') or []
        if lower is None:
            lower = results.get('lower_body_ids') or []
        if not upper and not lower:
            return results
        if np.random.rand() >= self.prob:
            return results
        visible = results['keypoints_visible'][0] > 0
        if visible.sum() < self.min_total_keypoints:
            return results
        kpts = results['keypoints'][0]
        up = [i for i in upper if visible[i]]
        low = [i for i in lower if visible[i]]
        choices = []
        if len(up) >= self.min_upper_keypoints:
            choices.append(up)
        if len(low) >= self.min_lower_keypoints:
            choices.append(low)
        if not choices:
            return results
        ids = choices[np.random.randint(len(choices))]
        pts = kpts[ids]
        lo, hi = pts.min(0), pts.max(0)
        aspect = results['bbox_scale'][0, 0] / max(results['bbox_scale'][0, 1], 1e-6)
        size = fix_aspect_ratio((hi - lo)[None], float(aspect))[0] * self.padding
        results['bbox_center'] = ((lo + hi) / 2)[None].astype(np.float32)
        results['bbox_scale'] = size[None].astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, '
                f'min_total_keypoints={self.min_total_keypoints}, '
                f'min_upper_keypoints={self.min_upper_keypoints}, '
                f'min_lower_keypoints={self.min_lower_keypoints}, padding={self.padding}, '
                f'upper_body_ids={self.upper_body_ids}, lower_body_ids={self.lower_body_ids})')


@TRANSFORMS.register_module()
class TopdownAffine(BaseTransform):
    """Crop the (possibly rotated) box to the network input.

    The box is first widened to the input's aspect ratio so nothing is
    squashed. Keypoints stay in image pixels in ``keypoints`` (for the
    metric) and are added in crop pixels as ``transformed_keypoints``.

    Required keys: img, bbox_center, bbox_scale; optional bbox_rotation, keypoints.
    Modified keys: img, img_shape, bbox_scale.
    Added keys: input_size, input_center, input_scale, transformed_keypoints.
    """

    def __init__(self, input_size: Sequence[int] = (192, 256), use_udp: bool = False) -> None:
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.use_udp = use_udp

    def transform(self, results: dict) -> dict:
        w, h = self.input_size
        scale = fix_aspect_ratio(results['bbox_scale'], w / h)
        center = results['bbox_center'][0]
        rot = float(results['bbox_rotation'][0]) if 'bbox_rotation' in results else 0.0
        matrix = get_warp_matrix(center, scale[0], rot, (w, h), use_udp=self.use_udp)
        results['img'] = cv2.warpAffine(results['img'], matrix, (w, h), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        results['img_shape'] = (h, w)
        if results.get('keypoints') is not None:
            results['transformed_keypoints'] = apply_affine(results['keypoints'], matrix)
        results['bbox_scale'] = scale
        results['input_size'] = (w, h)
        results['input_center'] = np.asarray(center, dtype=np.float32)
        results['input_scale'] = scale[0].astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(input_size={self.input_size}, use_udp={self.use_udp})'
