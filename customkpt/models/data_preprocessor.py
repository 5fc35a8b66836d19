"""Batching and normalisation of packed images, on the model's device."""
from __future__ import annotations

from typing import Sequence

from mmengine.model import ImgDataPreprocessor

from customkpt.registry import MODELS


@MODELS.register_module()
class PoseDataPreprocessor(ImgDataPreprocessor):
    """Stack uint8 BGR images, convert to RGB, subtract ``mean`` and divide
    by ``std`` (ImageNet statistics in RGB order by default)."""

    def __init__(self, mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375), bgr_to_rgb: bool = True,
                 pad_size_divisor: int = 1, pad_value: float = 0,
                 non_blocking: bool = False) -> None:
        super().__init__(mean=mean, std=std, bgr_to_rgb=bgr_to_rgb,
                         pad_size_divisor=pad_size_divisor, pad_value=pad_value,
                         non_blocking=non_blocking)
