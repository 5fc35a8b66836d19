"""bfloat16 mixed precision that also works on the CPU.

mmengine's ``AmpOptimWrapper`` needs a GPU (float16 with a loss scaler).
bfloat16 has float32's exponent range, so it needs no loss scaling, and CPUs
with AVX512-BF16 run bf16 convolutions about twice as fast as float32 (see
docs/benchmarks.md). ``tools/train.py --amp`` picks this wrapper when no
GPU is present.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from customkpt.registry import OPTIM_WRAPPERS

__all__ = ['BF16OptimWrapper']


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` whose forward pass runs under bfloat16 autocast on
    the model's device (CPU or CUDA). Weights, gradients and optimiser state
    stay float32; the loss is computed in float32 by autocast's rules."""

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        """Gradient-accumulation context of the base class plus bf16 autocast."""
        param = next(model.parameters(), None)
        device_type = param.device.type if param is not None else 'cpu'
        with super().optim_context(model), torch.autocast(device_type, dtype=torch.bfloat16):
            yield
