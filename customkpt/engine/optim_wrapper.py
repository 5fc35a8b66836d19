"""bfloat16 mixed precision that also works on the CPU.

mmengine's ``AmpOptimWrapper`` needs a GPU (float16 with a loss scaler).
bfloat16 has float32's exponent range, so it needs no loss scaling, and CPUs
with AVX512-BF16 run bf16 convolutions about twice as fast as float32 (see
docs/benchmarks.md). CPUs without native bf16 instructions (AVX2 only)
emulate it, about ten to a hundred times slower than float32:
:func:`cpu_bf16_support` tells them apart, and ``customkpt train --amp``
picks this wrapper only on a CPU that passes it.
"""
from __future__ import annotations

import functools
import time
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from customkpt.registry import OPTIM_WRAPPERS

__all__ = ['BF16OptimWrapper', 'cpu_bf16_support']

#: CPU capabilities (``torch.backends.cpu.get_cpu_capability()``) that have
#: no bfloat16 arithmetic of their own.
EMULATED_BF16_CAPABILITIES = ('DEFAULT', 'NO AVX', 'AVX', 'AVX2')
#: bf16 slower than float32 by more than this factor counts as emulated.
MAX_BF16_SLOWDOWN = 2.0


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


def _bf16_slowdown(size: int = 128, repeats: int = 5) -> float:
    """How many times longer a (size, size) matmul takes in bfloat16 than in
    float32 on this CPU (best of ``repeats``)."""
    def best(dtype: torch.dtype) -> float:
        a = torch.randn(size, size).to(dtype)
        b = torch.randn(size, size).to(dtype)
        a @ b  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - start)
        return min(times)
    return best(torch.bfloat16) / max(best(torch.float32), 1e-9)


@functools.lru_cache(maxsize=1)
def cpu_bf16_support() -> tuple[bool, str]:
    """Whether this CPU computes bfloat16 natively, and why (one phrase).

    A CPU that torch reports as AVX2 or less emulates bf16; on any other the
    answer comes from timing a small bf16 matmul against float32 (once per
    process).
    """
    capability = torch.backends.cpu.get_cpu_capability()
    if capability in EMULATED_BF16_CAPABILITIES:
        return False, f'this CPU has no native bfloat16 ({capability} only)'
    slowdown = _bf16_slowdown()
    if slowdown > MAX_BF16_SLOWDOWN:
        return False, (f'bfloat16 runs {slowdown:.0f}x slower than float32 on this CPU '
                       f'({capability}, no native bfloat16)')
    return True, f'this CPU computes bfloat16 natively ({capability})'
