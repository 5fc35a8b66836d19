"""BF16OptimWrapper: bf16 autocast forward, float32 weights and updates."""
import torch
from mmengine.optim import build_optim_wrapper

from customkpt.engine import BF16OptimWrapper


def test_built_from_config_and_autocasts_on_cpu():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 1))
    wrapper = build_optim_wrapper(model, dict(type='customkpt.BF16OptimWrapper',
                                              optimizer=dict(type='SGD', lr=0.1)))
    assert isinstance(wrapper, BF16OptimWrapper)
    before = [p.detach().clone() for p in model.parameters()]
    x = torch.randn(2, 3, 8, 8)
    with wrapper.optim_context(model):
        out = model(x)
    assert out.dtype == torch.bfloat16
    loss = out.float().square().mean()
    wrapper.update_params(loss)
    for old, new in zip(before, model.parameters()):
        assert new.dtype == torch.float32
        assert not torch.equal(old, new)
    # Outside the context the model runs in float32 again.
    assert model(x).dtype == torch.float32


def test_estimator_loss_is_float32_under_bf16_autocast():
    """A training step of the estimator runs inside the wrapper's context."""
    import numpy as np
    from mmengine.structures import InstanceData, PixelData

    from customkpt.registry import MODELS
    from customkpt.structures import PoseDataSample

    torch.manual_seed(0)
    model = MODELS.build(dict(type='TopdownEstimator', backbone=dict(type='HRNet', arch='tiny'),
                              head=dict(type='HeatmapHead', in_channels=16, out_channels=3)))
    samples = []
    for _ in range(2):
        s = PoseDataSample()
        s.gt_fields = PixelData(heatmaps=torch.rand(3, 16, 12))
        s.gt_instance_labels = InstanceData(keypoint_weights=torch.ones(1, 3))
        samples.append(s)
    wrapper = build_optim_wrapper(model, dict(type='BF16OptimWrapper',
                                              optimizer=dict(type='Adam', lr=1e-3)))
    with wrapper.optim_context(model):
        losses = model(torch.randn(2, 3, 64, 48), samples, mode='loss')
    assert losses['loss_kpt'].dtype == torch.float32
    assert np.isfinite(float(losses['acc_pose']))
    wrapper.update_params(losses['loss_kpt'])
