"""HRNet: the W32 state dict matches the published top-down layout."""
import pytest
import torch

from customkpt.registry import MODELS


def _bn(prefix, c, out):
    for name in ('weight', 'bias', 'running_mean', 'running_var'):
        out[f'{prefix}.{name}'] = (c,)
    out[f'{prefix}.num_batches_tracked'] = ()


def _conv(prefix, cout, cin, k, out):
    out[f'{prefix}.weight'] = (cout, cin, k, k)


def expected_w32_keys(width=32):
    """Key -> shape, written from the layout description (not from the model)."""
    out = {}
    _conv('conv1', 64, 3, 3, out); _bn('bn1', 64, out)          # noqa: E702
    _conv('conv2', 64, 64, 3, out); _bn('bn2', 64, out)         # noqa: E702
    for b in range(4):
        cin = 64 if b == 0 else 256
        p = f'layer1.{b}'
        _conv(f'{p}.conv1', 64, cin, 1, out); _bn(f'{p}.bn1', 64, out)     # noqa: E702
        _conv(f'{p}.conv2', 64, 64, 3, out); _bn(f'{p}.bn2', 64, out)      # noqa: E702
        _conv(f'{p}.conv3', 256, 64, 1, out); _bn(f'{p}.bn3', 256, out)    # noqa: E702
    _conv('layer1.0.downsample.0', 256, 64, 1, out); _bn('layer1.0.downsample.1', 256, out)
    ch = [width * 2 ** i for i in range(4)]
    _conv('transition1.0.0', ch[0], 256, 3, out); _bn('transition1.0.1', ch[0], out)
    _conv('transition1.1.0.0', ch[1], 256, 3, out); _bn('transition1.1.0.1', ch[1], out)
    _conv('transition2.2.0.0', ch[2], ch[1], 3, out); _bn('transition2.2.0.1', ch[2], out)
    _conv('transition3.3.0.0', ch[3], ch[2], 3, out); _bn('transition3.3.0.1', ch[3], out)
    for stage, modules in ((2, 1), (3, 4), (4, 3)):
        n = stage
        for m in range(modules):
            p = f'stage{stage}.{m}'
            for b in range(n):
                for blk in range(4):
                    q = f'{p}.branches.{b}.{blk}'
                    _conv(f'{q}.conv1', ch[b], ch[b], 3, out); _bn(f'{q}.bn1', ch[b], out)  # noqa
                    _conv(f'{q}.conv2', ch[b], ch[b], 3, out); _bn(f'{q}.bn2', ch[b], out)  # noqa
            rows = 1 if (stage == 4 and m == modules - 1) else n
            for i in range(rows):
                for j in range(n):
                    if j > i:  # upsample: 1x1 conv + BN
                        _conv(f'{p}.fuse_layers.{i}.{j}.0', ch[i], ch[j], 1, out)
                        _bn(f'{p}.fuse_layers.{i}.{j}.1', ch[i], out)
                    elif j < i:  # downsample chain of strided 3x3 convs
                        for k in range(i - j):
                            cout = ch[i] if k == i - j - 1 else ch[j]
                            _conv(f'{p}.fuse_layers.{i}.{j}.{k}.0', cout, ch[j], 3, out)
                            _bn(f'{p}.fuse_layers.{i}.{j}.{k}.1', cout, out)
    return out


def test_w32_state_dict_matches_the_published_layout():
    model = MODELS.build(dict(type='HRNet', arch='w32'))
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    want = expected_w32_keys()
    assert sorted(set(got) - set(want)) == [] and sorted(set(want) - set(got)) == []
    assert got == want
    assert 'stage4.2.fuse_layers.0.3.0.weight' in got           # upsample 3 -> 0
    assert 'stage4.1.fuse_layers.3.0.2.0.weight' in got         # downsample 0 -> 3
    assert 'stage4.2.fuse_layers.1.0.0.0.weight' not in got     # last module: branch 0 only


@pytest.mark.parametrize('arch,width', [('tiny', 16), ('w18', 18)])
def test_output_is_quarter_resolution_with_width_channels(arch, width):
    model = MODELS.build(dict(type='HRNet', arch=arch)).eval()
    with torch.no_grad():
        (out,) = model(torch.zeros(2, 3, 64, 48))
    assert out.shape == (2, width, 16, 12)


def test_odd_sizes_are_fused_without_shape_errors():
    model = MODELS.build(dict(type='HRNet', arch='tiny')).eval()
    with torch.no_grad():
        (out,) = model(torch.zeros(1, 3, 100, 76))
    assert out.shape[1] == 16


def test_frozen_stages_and_norm_eval():
    model = MODELS.build(dict(type='HRNet', arch='tiny', frozen_stages=1, norm_eval=True))
    model.train()
    assert not any(p.requires_grad for p in model.conv1.parameters())
    assert not any(p.requires_grad for p in model.layer1.parameters())
    assert all(p.requires_grad for p in model.stage2.parameters())
    assert not model.bn1.training and not model.layer1[0].bn1.training
    assert not model.stage3[0].branches[0][0].bn1.training  # norm_eval
    with pytest.raises(ValueError, match='unknown HRNet arch'):
        MODELS.build(dict(type='HRNet', arch='w99'))
