"""Heatmap losses (per-keypoint weights, online hard keypoint mining) and the
SimCC KL loss."""
import math

import pytest
import torch

from customkpt.registry import MODELS


def _maps():
    """Per-keypoint squared errors 1.0, 0.25, 0 and 4.0 on 4x4 maps."""
    pred = torch.zeros(1, 4, 4, 4)
    target = torch.zeros(1, 4, 4, 4)
    target[0, 0] = 1.0
    target[0, 1] = 0.5
    target[0, 3] = 2.0
    return pred, target


def test_mse_is_the_mean_over_pixels_and_keypoints():
    pred, target = _maps()
    mse = MODELS.build(dict(type='KeypointMSELoss', use_target_weight=True))
    assert mse(pred, target, torch.ones(1, 4)).item() == pytest.approx(5.25 / 4)
    assert mse(pred, target).item() == pytest.approx(5.25 / 4)


def test_mse_zero_weight_ignores_the_keypoint():
    pred, target = _maps()
    mse = MODELS.build(dict(type='KeypointMSELoss', use_target_weight=True))
    weights = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    assert mse(pred, target, weights).item() == pytest.approx(1.25 / 4)
    # ... and no gradient reaches its heatmap.
    pred = pred.clone().requires_grad_(True)
    mse(pred, target, weights).backward()
    assert pred.grad[0, 3].abs().sum() == 0 and pred.grad[0, 0].abs().sum() > 0
    # Without use_target_weight the weights are ignored.
    plain = MODELS.build(dict(type='KeypointMSELoss', use_target_weight=False, loss_weight=2.0))
    assert plain(pred.detach(), target, weights).item() == pytest.approx(2 * 5.25 / 4)


def test_ohkm_averages_the_hardest_topk_per_sample():
    pred, target = _maps()
    pred = pred.repeat(2, 1, 1, 1)
    target = torch.cat([target, target.flip(1)])  # same errors, other order
    ones = torch.ones(2, 4)
    topk1 = MODELS.build(dict(type='KeypointOHKMMSELoss', topk=1))
    assert topk1(pred, target, ones).item() == pytest.approx(4.0)
    topk2 = MODELS.build(dict(type='KeypointOHKMMSELoss', topk=2))
    assert topk2(pred, target, ones).item() == pytest.approx(2.5)
    # Weights apply before mining: the 4.0 keypoint drops out of sample 0.
    weights = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    assert topk2(pred, target, weights).item() == pytest.approx((1.25 / 2 + 2.5) / 2)
    # topk above K keeps all keypoints.
    big = MODELS.build(dict(type='KeypointOHKMMSELoss', topk=8, loss_weight=0.5))
    assert big(pred, target, ones).item() == pytest.approx(0.5 * 5.25 / 4)
    with pytest.raises(ValueError, match='topk'):
        MODELS.build(dict(type='KeypointOHKMMSELoss', topk=0))


def test_shape_mismatch_is_an_error():
    mse = MODELS.build(dict(type='KeypointMSELoss'))
    with pytest.raises(ValueError, match='differ'):
        mse(torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 4, 4), torch.ones(1, 2))


def _kl_vectors():
    """Label p = (0.5, 0.5, 0) against prediction logits log(0.25, 0.25, 0.5):
    the bin-averaged KL is (0.5 log 2 + 0.5 log 2 + 0) / 3 = log(2) / 3."""
    label = torch.tensor([0.5, 0.5, 0.0]).expand(1, 2, 3).clone()
    pred = torch.log(torch.tensor([0.25, 0.25, 0.5])).expand(1, 2, 3).clone()
    return pred, label


def test_kl_on_hand_made_vectors():
    pred, label = _kl_vectors()
    kl = MODELS.build(dict(type='KLDiscretLoss', beta=1.0, label_softmax=False,
                           use_target_weight=True))
    one_axis = math.log(2) / 3
    # Both axes, both keypoints, summed and divided by K = 2.
    assert kl((pred, pred), (label, label)).item() == pytest.approx(2 * one_axis)
    weights = torch.tensor([[1.0, 0.0]])
    assert kl((pred, pred), (label, label), weights).item() == pytest.approx(one_axis)
    # Samples are summed, not averaged (as the published recipe does).
    two = (torch.cat([pred, pred]), torch.cat([pred, pred]))
    assert kl(two, (torch.cat([label, label]),) * 2).item() == pytest.approx(4 * one_axis)
    unweighted = MODELS.build(dict(type='KLDiscretLoss', use_target_weight=False))
    assert unweighted((pred * 1.0, pred), (label, label), weights).item() == pytest.approx(
        2 * one_axis)


def test_kl_label_softmax_and_beta():
    kl = MODELS.build(dict(type='KLDiscretLoss', beta=10.0, label_softmax=True))
    flat = torch.zeros(1, 1, 4)
    assert kl((flat, flat), (flat, flat)).item() == pytest.approx(0.0, abs=1e-7)
    # softmax(label * 10) equals softmax(pred * 10) when pred == label: no loss.
    label = torch.tensor([[[0.1, 0.9, 0.3, 0.0]]])
    assert kl((label, label), (label, label)).item() == pytest.approx(0.0, abs=1e-6)
    p = torch.softmax(label[0, 0] * 10, -1)
    q = torch.softmax(torch.zeros(4), -1)
    expected = float((p * (p / q).log()).mean())
    assert kl((flat, flat), (label, label)).item() == pytest.approx(2 * expected, rel=1e-5)
    with pytest.raises(ValueError, match='differ'):
        kl((flat, flat), (torch.zeros(1, 1, 5), flat))
