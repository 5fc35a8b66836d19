"""HRNet: the W32 state dict matches the published top-down layout; shapes,
custom specs, frozen stages and norm_eval."""
import pytest
import torch

from customkpt.registry import MODELS


# ---------------------------------------------------------------------------
# Expected W32 keys, written from the layout rules (not from the model)
# ---------------------------------------------------------------------------

def _conv(out, name, cout, cin, k):
    out[f'{name}.weight'] = (cout, cin, k, k)


def _bn(out, name, c):
    for field in ('weight', 'bias', 'running_mean', 'running_var'):
        out[f'{name}.{field}'] = (c,)
    out[f'{name}.num_batches_tracked'] = ()


def expected_hrnet_keys(width=32):
    """Key -> shape of the standard HRNet-W``width`` top-down backbone."""
    out = {}
    # Stem: two 3x3 stride-2 convs, 64 channels.
    _conv(out, 'conv1', 64, 3, 3)
    _bn(out, 'bn1', 64)
    _conv(out, 'conv2', 64, 64, 3)
    _bn(out, 'bn2', 64)
    # layer1: 4 Bottlenecks 64 -> 256, the first with a 1x1 downsample.
    for b in range(4):
        cin = 64 if b == 0 else 256
        _conv(out, f'layer1.{b}.conv1', 64, cin, 1)
        _bn(out, f'layer1.{b}.bn1', 64)
        _conv(out, f'layer1.{b}.conv2', 64, 64, 3)
        _bn(out, f'layer1.{b}.bn2', 64)
        _conv(out, f'layer1.{b}.conv3', 256, 64, 1)
        _bn(out, f'layer1.{b}.bn3', 256)
    _conv(out, 'layer1.0.downsample.0', 256, 64, 1)
    _bn(out, 'layer1.0.downsample.1', 256)
    ch = [width, 2 * width, 4 * width, 8 * width]
    # Transitions: 256 -> W adapts branch 0; each new branch is a Sequential
    # holding one (conv, bn, relu) Sequential.
    _conv(out, 'transition1.0.0', ch[0], 256, 3)
    _bn(out, 'transition1.0.1', ch[0])
    _conv(out, 'transition1.1.0.0', ch[1], 256, 3)
    _bn(out, 'transition1.1.0.1', ch[1])
    _conv(out, 'transition2.2.0.0', ch[2], ch[1], 3)
    _bn(out, 'transition2.2.0.1', ch[2])
    _conv(out, 'transition3.3.0.0', ch[3], ch[2], 3)
    _bn(out, 'transition3.3.0.1', ch[3])
    # Stages 2/3/4: 1/4/3 modules, 2/3/4 branches, 4 BasicBlocks per branch.
    for stage, modules in ((2, 1), (3, 4), (4, 3)):
        for m in range(modules):
            p = f'stage{stage}.{m}'
            for b in range(stage):
                for blk in range(4):
                    q = f'{p}.branches.{b}.{blk}'
                    _conv(out, f'{q}.conv1', ch[b], ch[b], 3)
                    _bn(out, f'{q}.bn1', ch[b])
                    _conv(out, f'{q}.conv2', ch[b], ch[b], 3)
                    _bn(out, f'{q}.bn2', ch[b])
            last = stage == 4 and m == modules - 1
            for i in range(1 if last else stage):
                for j in range(stage):
                    if j > i:    # upsample: 1x1 conv + BN (+ parameter-free upsampling)
                        _conv(out, f'{p}.fuse_layers.{i}.{j}.0', ch[i], ch[j], 1)
                        _bn(out, f'{p}.fuse_layers.{i}.{j}.1', ch[i])
                    elif j < i:  # downsample: i - j strided 3x3 conv + BN steps
                        for k in range(i - j):
                            cout = ch[i] if k == i - j - 1 else ch[j]
                            _conv(out, f'{p}.fuse_layers.{i}.{j}.{k}.0', cout, ch[j], 3)
                            _bn(out, f'{p}.fuse_layers.{i}.{j}.{k}.1', cout)
    return out


def test_expected_key_list_spot_checks():
    want = expected_hrnet_keys()
    assert want['stage4.2.fuse_layers.0.3.0.weight'] == (32, 256, 1, 1)
    assert want['stage4.1.fuse_layers.3.0.2.0.weight'] == (256, 32, 3, 3)
    assert want['stage4.1.fuse_layers.3.0.0.0.weight'] == (32, 32, 3, 3)
    assert 'stage4.2.fuse_layers.1.0.0.0.weight' not in want
    assert not any(k.startswith('stage4.2.fuse_layers.0.0') for k in want)


@pytest.mark.parametrize('arch,width', [('w32', 32), ('w18', 18)])
def test_state_dict_matches_the_published_layout(arch, width):
    model = MODELS.build(dict(type='HRNet', arch=arch))
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    want = expected_hrnet_keys(width)
    assert sorted(set(got) - set(want)) == []
    assert sorted(set(want) - set(got)) == []
    assert got == want


def test_w32_output_for_a_256x192_crop():
    # On the meta device: shapes only, no arithmetic.
    with torch.device('meta'):
        model = MODELS.build(dict(type='HRNet', arch='w32'))
        out = model(torch.empty(2, 3, 256, 192))
    assert isinstance(out, list) and len(out) == 1
    assert out[0].shape == (2, 32, 64, 48)


def test_tiny_runs_on_small_and_odd_inputs():
    model = MODELS.build(dict(type='HRNet', arch='tiny')).eval()
    with torch.no_grad():
        (out,) = model(torch.rand(2, 3, 64, 48))
        (odd,) = model(torch.rand(1, 3, 100, 76))
    assert out.shape == (2, model.out_channels, 16, 12)
    assert odd.shape == (1, model.out_channels, 25, 19)
    assert torch.isfinite(out).all()
    assert sum(p.numel() for p in model.parameters()) < 1_000_000


def test_custom_extra_spec():
    extra = dict(
        stem_channels=16,
        stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(2,),
                    num_channels=(16,)),
        stage2=dict(num_modules=2, num_branches=2, block='BASIC', num_blocks=(2, 1),
                    num_channels=(8, 16)),
        stage3=dict(num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1),
                    num_channels=(8, 16, 32)),
        stage4=dict(num_modules=2, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1),
                    num_channels=(8, 16, 32, 64)))
    model = MODELS.build(dict(type='HRNet', extra=extra)).eval()
    same = MODELS.build(dict(type='HRNet', arch=extra))
    keys = set(model.state_dict())
    assert keys == set(same.state_dict())
    assert 'layer1.1.conv3.weight' in keys and 'layer1.2.conv1.weight' not in keys
    assert model.state_dict()['transition1.0.0.weight'].shape == (8, 64, 3, 3)
    assert 'stage2.1.branches.0.1.conv1.weight' in keys
    assert 'stage2.1.branches.1.1.conv1.weight' not in keys
    assert 'stage4.0.fuse_layers.3.0.2.0.weight' in keys
    assert not any(k.startswith('stage4.1.fuse_layers.1.') for k in keys)
    with torch.no_grad():
        (out,) = model(torch.rand(1, 3, 64, 48))
    assert out.shape == (1, 8, 16, 12)


def test_bad_specs_are_rejected():
    with pytest.raises(ValueError, match='unknown HRNet arch'):
        MODELS.build(dict(type='HRNet', arch='w99'))
    with pytest.raises(ValueError, match='frozen_stages'):
        MODELS.build(dict(type='HRNet', arch='tiny', frozen_stages=5))
    bad = dict(stage1=dict(num_branches=1, block='BOTTLENECK', num_blocks=(1,),
                           num_channels=(8,)))
    with pytest.raises(ValueError, match='stage2'):
        MODELS.build(dict(type='HRNet', extra=bad))


def _bns(module):
    return [m for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d)]


@pytest.mark.parametrize('frozen', [0, 1, 2, 4])
def test_frozen_stages_stop_gradients_and_stay_in_eval(frozen):
    model = MODELS.build(dict(type='HRNet', arch='tiny', frozen_stages=frozen))
    model.train()
    groups = [[model.conv1, model.bn1, model.conv2, model.bn2], [model.layer1],
              [model.transition1, model.stage2], [model.transition2, model.stage3],
              [model.transition3, model.stage4]]
    for index, group in enumerate(groups):
        for module in group:
            frozen_here = index <= frozen
            assert all(p.requires_grad != frozen_here for p in module.parameters())
            assert all(bn.training != frozen_here for bn in _bns(module))
    # Frozen BatchNorm statistics do not move in a training forward pass.
    before = model.bn1.running_mean.clone()
    model(torch.rand(2, 3, 64, 48))
    assert torch.equal(model.bn1.running_mean, before)


def test_norm_eval_keeps_every_batchnorm_in_eval_but_trainable():
    model = MODELS.build(dict(type='HRNet', arch='tiny', norm_eval=True))
    model.train()
    assert model.training
    assert all(not bn.training for bn in _bns(model))
    assert all(p.requires_grad for p in model.parameters())
    model.eval()
    model.train()
    assert all(not bn.training for bn in _bns(model))


def test_default_init_keeps_pytorch_conv_init_and_unit_batchnorm():
    # From scratch, PyTorch's own conv init (uniform, std 1/sqrt(3 fan_in))
    # trained better than Kaiming normal (std sqrt(2 / fan_out)), so
    # init_weights must not redraw the convolutions.
    torch.manual_seed(0)
    net = MODELS.build(dict(type='HRNet', arch='w32'))
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.fill_(0.5)
    net.init_weights()
    conv = net.stage2[0].branches[0][0].conv1          # 3x3, 32 -> 32
    fan_in = conv.in_channels * 9
    assert conv.weight.std().item() == pytest.approx((3 * fan_in) ** -0.5, rel=0.1)
    assert conv.weight.abs().max().item() <= fan_in ** -0.5 + 1e-6
    assert all(bool((m.weight == 1).all()) for m in _bns(net))


def test_explicit_init_cfg_still_applies():
    net = MODELS.build(dict(type='HRNet', arch='w32', init_cfg=[
        dict(type='Kaiming', layer='Conv2d', mode='fan_out', nonlinearity='relu')]))
    net.init_weights()
    conv = net.stage2[0].branches[0][0].conv1
    assert conv.weight.std().item() == pytest.approx((2 / (conv.out_channels * 9)) ** 0.5,
                                                     rel=0.1)
