"""FlipConsistencyLoss on hand-made outputs: zero when the two views agree,
the known value otherwise, and gradients that pull the views together."""
import math

import pytest
import torch

from customkpt.models.losses import FlipConsistencyLoss, UnlabelledBatch
from customkpt.registry import MODELS


def test_heatmaps_that_agree_cost_nothing():
    heatmaps = torch.rand(6, 4, 16, 12)
    assert FlipConsistencyLoss()(heatmaps, heatmaps.clone()).item() == 0.0


def test_heatmap_value_is_the_mean_squared_difference():
    a = torch.zeros(2, 3, 4, 5)
    b = torch.zeros(2, 3, 4, 5)
    b[0, 1, 2, 3] = 2.0                          # one pixel of 120 differs by 2
    loss = FlipConsistencyLoss(loss_weight=3.0)
    assert loss(a, b).item() == pytest.approx(3.0 * 4.0 / 120)


def test_heatmap_gradients_pull_both_views_together():
    a = torch.zeros(1, 1, 3, 3, requires_grad=True)
    b = torch.ones(1, 1, 3, 3, requires_grad=True)
    FlipConsistencyLoss()(a, b).backward()
    assert (a.grad < 0).all() and (b.grad > 0).all()   # descent raises a, lowers b


def test_simcc_value_is_the_symmetric_kl_of_the_two_distributions():
    # Two bins: view a puts probabilities (p, 1 - p), view b (q, 1 - q).
    p, q, beta = 0.8, 0.3, 2.0
    x_a = torch.tensor([[[math.log(p) / beta, math.log(1 - p) / beta]]])
    x_b = torch.tensor([[[math.log(q) / beta, math.log(1 - q) / beta]]])
    y = torch.zeros(1, 1, 4)                     # same y distribution in both: no cost

    def kl(u, v):
        return u * math.log(u / v) + (1 - u) * math.log((1 - u) / (1 - v))

    want = 0.5 * (kl(p, q) + kl(q, p)) / 2       # bin-averaged over the 2 bins
    got = FlipConsistencyLoss(beta=beta)((x_a, y), (x_b, y.clone()))
    assert got.item() == pytest.approx(want, rel=1e-5)
    assert FlipConsistencyLoss(beta=beta)((x_a, y), (x_a.clone(), y)).item() == pytest.approx(
        0.0, abs=1e-7)


def test_simcc_gradients_pull_both_views_together():
    x_a = torch.tensor([[[1.0, 0.0]]], requires_grad=True)
    x_b = torch.tensor([[[0.0, 1.0]]], requires_grad=True)
    y = torch.zeros(1, 1, 3)
    FlipConsistencyLoss()((x_a, y), (x_b, y)).backward()
    assert x_a.grad[0, 0, 0] > 0 > x_a.grad[0, 0, 1]   # descent moves a towards bin 1
    assert x_b.grad[0, 0, 1] > 0 > x_b.grad[0, 0, 0]


def test_compute_reads_the_batch_and_takes_its_beta():
    x_a, x_b = torch.tensor([[[1.0, 0.0]]]), torch.tensor([[[0.0, 1.0]]])
    y = torch.zeros(1, 1, 3)
    batch = UnlabelledBatch(outputs=(x_a, y), peaks=torch.zeros(1, 1, 2),
                            keypoints=torch.zeros(1, 1, 2), boxes=torch.zeros(1, 4),
                            clip_length=1, beta=5.0, flipped_outputs=(x_b, y))
    loss = FlipConsistencyLoss()
    assert loss.compute(batch).item() == pytest.approx(
        loss((x_a, y), (x_b, y), beta=5.0).item())
    batch.flipped_outputs = None
    with pytest.raises(ValueError, match='mirrored frames'):
        loss.compute(batch)


def test_mixed_outputs_and_bad_beta_are_refused():
    with pytest.raises(TypeError, match='must both be'):
        FlipConsistencyLoss()(torch.zeros(1, 1, 2, 2), (torch.zeros(1, 1, 2),) * 2)
    with pytest.raises(ValueError, match='beta'):
        FlipConsistencyLoss(beta=0)


def test_it_is_registered_and_asks_for_the_mirrored_frames():
    loss = MODELS.build(dict(type='FlipConsistencyLoss', loss_weight=0.5))
    assert isinstance(loss, FlipConsistencyLoss) and loss.needs_flipped
