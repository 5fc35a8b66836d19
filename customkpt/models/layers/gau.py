"""The gated attention unit of the RTMCC head and its normalisation pieces.

Shapes: tokens (B, N, C): B samples, N tokens (one per keypoint in the
RTMCC head), C channels.

Parameter names (``uv``, ``o``, ``gamma``, ``beta``, ``ln.g``,
``res_scale.scale``) are part of the checkpoint layout.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .conv import build_activation

__all__ = ['GatedAttentionUnit', 'Scale', 'ScaleNorm', 'drop_path']


def drop_path(x: torch.Tensor, prob: float, training: bool) -> torch.Tensor:
    """Stochastic depth: zero whole samples of a residual branch with
    probability ``prob`` while training, scaling the kept ones by
    ``1 / (1 - prob)``; the identity otherwise."""
    if prob <= 0.0 or not training:
        return x
    keep = 1.0 - prob
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


class ScaleNorm(nn.Module):
    """``x / max(||x|| / sqrt(dim), eps) * g``: the last axis scaled to unit
    root-mean-square, times one learnt gain ``g``.

    Args:
        dim: size of the last axis.
        eps: lower bound of the normaliser.
    """

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.scale = dim ** -0.5
        self.eps = eps
        self.g = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True) * self.scale
        return x / norm.clamp(min=self.eps) * self.g


class Scale(nn.Module):
    """Multiply the last axis by a learnt vector ``scale`` (dim,)."""

    def __init__(self, dim: int, init: float = 1.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(init * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


class GatedAttentionUnit(nn.Module):
    """Self-attention with a squared-ReLU kernel and a gate (GAU).

    ``x -> ScaleNorm -> uv (Linear, no bias) -> activation``, split into
    ``u`` (E), ``v`` (E) and a shared base (s); per-dimension ``gamma`` and
    ``beta`` turn the base into queries and keys; the attention is
    ``relu(q k^T / sqrt(s))^2``; the output ``o(u * attn v)``, plus the input
    times ``res_scale`` when ``in_dims == out_dims``.

    Args:
        in_dims: token channels C in.
        out_dims: token channels out.
        expansion_factor: E = ``in_dims * expansion_factor``.
        s: query/key width.
        eps: ScaleNorm's eps.
        dropout_rate: dropout on the attention kernel.
        drop_path: stochastic-depth probability of the branch.
        act_cfg: activation after ``uv``; SiLU by default.
        bias: biases in ``uv`` and ``o``.
    """

    def __init__(self, in_dims: int, out_dims: int, expansion_factor: float = 2,
                 s: int = 128, eps: float = 1e-5, dropout_rate: float = 0.0,
                 drop_path: float = 0.0, act_cfg: dict | None = None,
                 bias: bool = False) -> None:
        super().__init__()
        self.s = int(s)
        self.e = int(in_dims * expansion_factor)
        self.drop_path_prob = float(drop_path)
        self.ln = ScaleNorm(in_dims, eps=eps)
        self.uv = nn.Linear(in_dims, 2 * self.e + self.s, bias=bias)
        self.gamma = nn.Parameter(torch.rand((2, self.s)))
        self.beta = nn.Parameter(torch.rand((2, self.s)))
        self.o = nn.Linear(self.e, out_dims, bias=bias)
        self.act = build_activation(act_cfg or dict(type='SiLU'))
        self.dropout = nn.Dropout(dropout_rate) if dropout_rate > 0 else nn.Identity()
        self.res_scale = Scale(in_dims) if in_dims == out_dims else None
        self.sqrt_s = math.sqrt(self.s)
        nn.init.xavier_uniform_(self.uv.weight)

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """The attention branch: (B, N, in_dims) -> (B, N, out_dims)."""
        uv = self.act(self.uv(self.ln(x)))
        u, v, base = torch.split(uv, [self.e, self.e, self.s], dim=-1)
        qk = base.unsqueeze(2) * self.gamma + self.beta  # (B, N, 2, s)
        q, k = qk.unbind(dim=2)
        kernel = torch.square(F.relu(torch.bmm(q, k.transpose(1, 2)) / self.sqrt_s))
        return self.o(u * torch.bmm(self.dropout(kernel), v))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = drop_path(self.attend(x), self.drop_path_prob, self.training)
        if self.res_scale is not None:
            out = self.res_scale(x) + out
        return out
