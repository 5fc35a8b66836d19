"""Colour augmentation on BGR uint8 images, done with lookup tables.

Every step is a per-value function of a uint8 channel, so each is one
256-entry lookup table applied with ``cv2.LUT``: brightness and contrast on
the BGR image, saturation and hue on the HSV image. That keeps each
transform at a few passes over uint8 data, with no float copies of the image.
:class:`PhotometricDistortion` scales and shifts (brightness, contrast,
saturation, hue); :class:`RandomHSV` shifts hue, saturation and value.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.registry import TRANSFORMS

from .settings import SettingsRepr

__all__ = ['PhotometricDistortion', 'RandomHSV']

_LEVELS = np.arange(256, dtype=np.float64)


def _to_table(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _lut(img: np.ndarray, table: np.ndarray) -> np.ndarray:
    return cv2.LUT(img, table).reshape(img.shape)  # cv2 drops a singleton channel


@TRANSFORMS.register_module()
class PhotometricDistortion(SettingsRepr, BaseTransform):
    """Random brightness, contrast, saturation and hue.

    Each of the four changes is applied with probability ``prob``; contrast
    comes before or after the HSV changes (even odds). Values are clipped to
    [0, 255] after each step. Saturation and hue need a 3-channel BGR image
    and are skipped on other images. The amounts are drawn from numpy's
    global RNG, a fixed number of draws per call.

    Required keys:
        img: (h, w, C) BGR; uint8 is expected, other dtypes are clipped to
            [0, 255] for the computation and cast back.
    Modified keys:
        img (same shape and dtype).

    Args:
        brightness_delta: largest value added to all channels.
        contrast_range: (min, max) multiplier of all channels.
        saturation_range: (min, max) multiplier of the HSV saturation.
        hue_delta: largest hue shift, in OpenCV hue units (0-180 = 0-360 deg).
        prob: probability of each change.
    """

    repr_fields = ('brightness_delta', 'contrast_range', 'saturation_range', 'hue_delta', 'prob')

    def __init__(self, brightness_delta: float = 32, contrast_range: Sequence[float] = (0.5, 1.5),
                 saturation_range: Sequence[float] = (0.5, 1.5), hue_delta: float = 18,
                 prob: float = 0.5) -> None:
        self.brightness_delta = brightness_delta
        self.contrast_range = tuple(float(v) for v in contrast_range)
        self.saturation_range = tuple(float(v) for v in saturation_range)
        self.hue_delta = hue_delta
        self.prob = float(prob)

    def transform(self, results: dict) -> dict:
        """Distort the colours; see the class docstring for the keys."""
        img = results['img']
        dtype = img.dtype
        work = img if dtype == np.uint8 else np.clip(img, 0, 255).astype(np.uint8)

        rand = np.random.uniform
        do_brightness, do_contrast, do_saturation, do_hue = np.random.rand(4) < self.prob
        contrast_first = np.random.rand() < 0.5
        delta = rand(-self.brightness_delta, self.brightness_delta)
        alpha = rand(*self.contrast_range)
        saturation = rand(*self.saturation_range)
        hue = rand(-self.hue_delta, self.hue_delta)

        if do_brightness or (do_contrast and contrast_first):
            levels = _to_table(_LEVELS + delta) if do_brightness else np.arange(256, dtype=np.uint8)
            if do_contrast and contrast_first:
                levels = _to_table(levels.astype(np.float64) * alpha)
            work = _lut(work, levels)
        colour = work.ndim == 3 and work.shape[2] == 3
        if colour and (do_saturation or do_hue):
            identity = np.arange(256, dtype=np.uint8)
            # uint8 HSV in OpenCV: H in [0, 180), S and V in [0, 255].
            hue_table = (np.rint(_LEVELS + hue).astype(np.int64) % 180).astype(np.uint8) \
                if do_hue else identity
            sat_table = _to_table(_LEVELS * saturation) if do_saturation else identity
            table = np.stack([hue_table, sat_table, identity], axis=-1).reshape(1, 256, 3)
            hsv = cv2.LUT(cv2.cvtColor(work, cv2.COLOR_BGR2HSV), table)
            work = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
        if do_contrast and not contrast_first:
            work = _lut(work, _to_table(_LEVELS * alpha))

        results['img'] = work if dtype == np.uint8 else work.astype(dtype)
        return results



@TRANSFORMS.register_module()
class RandomHSV(BaseTransform):
    """Random additive shifts of hue, saturation and value (YOLOX-style HSV
    jitter).

    With probability ``prob``: each of the three channels gets, with
    probability ``channel_prob``, a shift drawn uniformly from
    ``[-delta, delta]`` and rounded to an integer; hue wraps around (OpenCV
    hue units, 0-180 = 0-360 deg), saturation and value are clipped to
    [0, 255]. The draws, every call: one uniform for ``prob``, three
    uniforms for the shifts and three for ``channel_prob``, from numpy's
    global RNG. Non-colour images are left alone.

    Required keys:
        img: (h, w, 3) BGR; uint8 is expected, other dtypes are clipped to
            [0, 255] for the computation and cast back.
    Modified keys:
        img (same shape and dtype).

    Args:
        hue_delta: largest hue shift, OpenCV hue units.
        saturation_delta: largest saturation shift.
        value_delta: largest value (brightness) shift.
        channel_prob: probability that each channel is shifted.
        prob: probability of the transform.
    """

    def __init__(self, hue_delta: float = 5, saturation_delta: float = 30,
                 value_delta: float = 30, channel_prob: float = 0.5, prob: float = 1.0) -> None:
        deltas = (float(hue_delta), float(saturation_delta), float(value_delta))
        if min(deltas) < 0:
            raise ValueError(f'RandomHSV: the deltas must be >= 0, got {deltas}')
        self.deltas = deltas
        self.channel_prob = float(channel_prob)
        self.prob = float(prob)

    def transform(self, results: dict) -> dict:
        """Shift hue, saturation and value; see the class docstring."""
        apply = np.random.rand() < self.prob
        shifts = np.rint(np.random.uniform(-1, 1, 3) * self.deltas)
        shifts *= np.random.rand(3) < self.channel_prob
        img = results['img']
        if not apply or not shifts.any() or img.ndim != 3 or img.shape[2] != 3:
            return results
        dtype = img.dtype
        work = img if dtype == np.uint8 else np.clip(img, 0, 255).astype(np.uint8)
        hue = ((_LEVELS + shifts[0]).astype(np.int64) % 180).astype(np.uint8)
        table = np.stack([hue, _to_table(_LEVELS + shifts[1]), _to_table(_LEVELS + shifts[2])],
                         axis=-1).reshape(1, 256, 3)
        hsv = cv2.LUT(cv2.cvtColor(work, cv2.COLOR_BGR2HSV), table)
        work = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
        results['img'] = work if dtype == np.uint8 else work.astype(dtype)
        return results

    def __repr__(self) -> str:
        hue, sat, val = self.deltas
        return (f'{type(self).__name__}(hue_delta={hue}, saturation_delta={sat}, '
                f'value_delta={val}, channel_prob={self.channel_prob}, prob={self.prob})')
