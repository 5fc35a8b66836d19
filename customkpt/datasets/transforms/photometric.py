"""Colour augmentation on BGR uint8 images."""
from __future__ import annotations

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PhotometricDistortion(BaseTransform):
    """Random brightness, contrast, saturation and hue, each applied with
    probability ``prob``, in random order of contrast vs. the HSV changes.

    Required keys: img (uint8 BGR). Modified keys: img.
    """

    def __init__(self, brightness_delta: int = 32, contrast_range: tuple = (0.5, 1.5),
                 saturation_range: tuple = (0.5, 1.5), hue_delta: int = 18,
                 prob: float = 0.5) -> None:
        self.brightness_delta = brightness_delta
        self.contrast_range = tuple(contrast_range)
        self.saturation_range = tuple(saturation_range)
        self.hue_delta = hue_delta
        self.prob = prob

    def transform(self, results: dict) -> dict:
        img = results['img'].astype(np.float32)
        rand = np.random.rand
        if rand() < self.prob:
            img += np.random.uniform(-self.brightness_delta, self.brightness_delta)
        contrast_first = rand() < 0.5
        contrast = np.random.uniform(*self.contrast_range) if rand() < self.prob else None
        if contrast_first and contrast is not None:
            img *= contrast
        saturate = np.random.uniform(*self.saturation_range) if rand() < self.prob else None
        hue = np.random.uniform(-self.hue_delta, self.hue_delta) if rand() < self.prob else None
        if saturate is not None or hue is not None:
            hsv = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_BGR2HSV)
            hsv = hsv.astype(np.float32)
            if saturate is not None:
                hsv[..., 1] *= saturate
            if hue is not None:
                hsv[..., 0] = (hsv[..., 0] + hue) % 180
            img = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8),
                               cv2.COLOR_HSV2BGR).astype(np.float32)
        if not contrast_first and contrast is not None:
            img *= contrast
        results['img'] = np.clip(img, 0, 255).astype(np.uint8)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(brightness_delta={self.brightness_delta}, '
                f'contrast_range={self.contrast_range}, '
                f'saturation_range={self.saturation_range}, hue_delta={self.hue_delta}, '
                f'prob={self.prob})')
