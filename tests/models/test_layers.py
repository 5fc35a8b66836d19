"""Building blocks: conv units (checkpoint names), ScaleNorm, the gated
attention unit and stochastic depth."""
import pytest
import torch

from customkpt.models.layers import (ConvBNAct, DepthwiseSeparableConv, GatedAttentionUnit,
                                     Scale, ScaleNorm, build_activation, build_norm, drop_path,
                                     freeze_batchnorms)


def test_conv_units_and_their_state_dict_names():
    unit = ConvBNAct(3, 8, 3, stride=2, act_cfg=dict(type='SiLU'))
    assert set(unit.state_dict()) == {'conv.weight', 'bn.weight', 'bn.bias', 'bn.running_mean',
                                      'bn.running_var', 'bn.num_batches_tracked'}
    assert unit.conv.bias is None and unit.conv.padding == (1, 1)
    assert tuple(unit(torch.zeros(1, 3, 9, 9)).shape) == (1, 8, 5, 5)
    sep = DepthwiseSeparableConv(8, 4, 5)
    assert sep.depthwise_conv.conv.weight.shape == (8, 1, 5, 5)
    assert sep.pointwise_conv.conv.weight.shape == (4, 8, 1, 1)
    assert isinstance(ConvBNAct(3, 4, 1).activate, torch.nn.Identity)  # no act_cfg


def test_builders():
    assert isinstance(build_activation(dict(type='Swish')), torch.nn.SiLU)
    assert isinstance(build_activation(None), torch.nn.Identity)
    norm = build_norm(dict(type='BN', momentum=0.03, eps=1e-3, requires_grad=False), 4)
    assert norm.momentum == 0.03 and norm.eps == 1e-3
    assert not any(p.requires_grad for p in norm.parameters())
    with pytest.raises(ValueError, match="unknown activation 'Mish'"):
        build_activation(dict(type='Mish'))
    with pytest.raises(ValueError, match="unknown norm 'GN'"):
        build_norm(dict(type='GN'), 4)


def test_freeze_batchnorms():
    model = torch.nn.Sequential(ConvBNAct(3, 4, 3), ConvBNAct(4, 4, 3)).train()
    freeze_batchnorms(model)
    assert model.training and model[0].conv.training
    assert not model[0].bn.training and not model[1].bn.training
    assert model[0].bn.weight.requires_grad


def test_scale_norm_and_scale():
    x = torch.tensor([[3.0, 4.0, 0.0, 0.0]])
    torch.testing.assert_close(ScaleNorm(4)(x), x / (5 / 2))  # unit root-mean-square
    assert ScaleNorm(4)(torch.zeros(1, 4)).abs().sum() == 0  # eps guards the division
    scale = Scale(4, init=2.0)
    torch.testing.assert_close(scale(x), 2 * x)


def test_gated_attention_unit():
    gau = GatedAttentionUnit(8, 8, s=4).eval()
    assert gau.uv.weight.shape == (2 * 16 + 4, 8) and gau.o.weight.shape == (8, 16)
    assert gau.uv.bias is None and gau.o.bias is None
    tokens = torch.randn(2, 3, 8)
    torch.testing.assert_close(gau(tokens), tokens * gau.res_scale.scale + gau.attend(tokens))
    assert GatedAttentionUnit(8, 6, s=4).res_scale is None
    # The attention kernel: relu(q k^T / sqrt(s))^2 over the tokens.
    with torch.no_grad():
        uv = gau.act(gau.uv(gau.ln(tokens)))
        u, v, base = uv.split([16, 16, 4], dim=-1)
        q = base * gau.gamma[0] + gau.beta[0]
        k = base * gau.gamma[1] + gau.beta[1]
        kernel = torch.relu(q @ k.transpose(1, 2) / 2.0) ** 2
        torch.testing.assert_close(gau.attend(tokens), gau.o(u * (kernel @ v)))


def test_drop_path():
    x = torch.ones(1000, 3)
    assert drop_path(x, 0.5, training=False) is x
    torch.manual_seed(0)
    kept = drop_path(x, 0.5, training=True)
    assert set(kept[:, 0].tolist()) == {0.0, 2.0} and 400 < (kept[:, 0] > 0).sum() < 600
    gau = GatedAttentionUnit(8, 8, s=4, drop_path=1.0 - 1e-9).train()
    tokens = torch.randn(2, 3, 8)
    torch.testing.assert_close(gau(tokens), tokens * gau.res_scale.scale)
