"""A weight EMA whose momentum starts at 1 and decays to a small floor.

Used with mmengine's ``EMAHook(ema_type='ExpMomentumEMA', ...)`` as in the
RTMPose recipe. In mmengine's convention the momentum is the weight of the
new value: ``ema = (1 - m) * ema + m * weights``. Here ``m`` at update
``t`` (0-based) is ``(1 - momentum) * exp(-(1 + t) / gamma) + momentum``:
the average follows the weights closely while they change fast early in
training and settles to the slow ``momentum`` over about ``gamma`` updates.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
from mmengine.model import ExponentialMovingAverage

from customkpt.registry import MODELS

__all__ = ['ExpMomentumEMA']


@MODELS.register_module()
class ExpMomentumEMA(ExponentialMovingAverage):
    """Exponential moving average of a model with an exponentially decaying
    momentum (see the module docstring).

    Args:
        model: the model to average.
        momentum: the momentum's floor, in (0, 1).
        gamma: the decay's time constant in updates, > 0.
        interval: update every ``interval`` training iterations.
        device: where to keep the averaged copy (the model's by default).
        update_buffers: average the buffers (BN statistics) too.
    """

    def __init__(self, model: nn.Module, momentum: float = 2e-4, gamma: float = 2000,
                 interval: int = 1, device: torch.device | None = None,
                 update_buffers: bool = False) -> None:
        super().__init__(model, momentum, interval, device, update_buffers)
        if not float(gamma) > 0:
            raise ValueError(f'ExpMomentumEMA: gamma must be > 0, got {gamma}')
        self.gamma = float(gamma)

    def momentum_at(self, steps: int) -> float:
        """The momentum of update number ``steps`` (0-based)."""
        return (1 - self.momentum) * math.exp(-(1 + steps) / self.gamma) + self.momentum

    def avg_func(self, averaged_param: torch.Tensor, source_param: torch.Tensor,
                 steps: int) -> None:
        """``averaged = (1 - m) * averaged + m * source`` with ``m = momentum_at(steps)``."""
        averaged_param.lerp_(source_param, self.momentum_at(int(steps)))
