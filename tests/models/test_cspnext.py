"""CSPNeXt: sizes, strides, the published RTMPose checkpoint layout, freezing."""
from pathlib import Path

import pytest
import torch

from customkpt.models.backbones.cspnext import SIZES
from customkpt.registry import MODELS

REFERENCE = Path('/work/shared/reference/mmpose_rtmpose-m_coco_state_dict_keys.txt')


def _cspnext(size='t', **kwargs):
    deepen, widen = SIZES[size]
    return MODELS.build(dict(type='CSPNeXt', arch='P5', deepen_factor=deepen,
                             widen_factor=widen, **kwargs))


def test_builds_from_config_and_returns_the_asked_strides():
    model = _cspnext('t', out_indices=(0, 1, 2, 3, 4)).eval()
    assert type(model).__name__ == 'CSPNeXt'
    with torch.no_grad():
        outs = model(torch.zeros(1, 3, 64, 96))
    assert [tuple(o.shape[1:]) for o in outs] == [
        (24, 32, 48), (48, 16, 24), (96, 8, 12), (192, 4, 6), (384, 2, 3)]
    assert model.out_channels == [24, 48, 96, 192, 384]


@pytest.mark.parametrize('size, blocks, channels', [
    ('t', [1, 1, 1, 1], 384), ('s', [1, 2, 2, 1], 512), ('m', [2, 4, 4, 2], 768),
    ('l', [3, 6, 6, 3], 1024)])
def test_sizes(size, blocks, channels):
    with torch.device('meta'):
        model = _cspnext(size, out_indices=(4,))
    assert [len(getattr(model, f'stage{i}')[-1].blocks) for i in range(1, 5)] == blocks
    assert model.out_channels[-1] == channels
    assert isinstance(model.stage4[1].poolings, torch.nn.ModuleList)  # pyramid pooling


def _reference_shapes():
    shapes = {}
    for line in REFERENCE.read_text().splitlines():
        key, shape = line.split(' ', 1)
        shapes[key] = tuple(int(s) for s in shape.strip('()').split(',') if s.strip())
    return shapes


@pytest.mark.skipif(not REFERENCE.exists(), reason=f'{REFERENCE} (the published RTMPose-m '
                    'key list) is not on this machine')
def test_rtmpose_m_keys_and_shapes_equal_the_published_checkpoint():
    with torch.device('meta'):
        model = MODELS.build(dict(
            type='TopdownEstimator',
            backbone=dict(type='CSPNeXt', arch='P5', expand_ratio=0.5, deepen_factor=0.67,
                          widen_factor=0.75, out_indices=(4,), channel_attention=True,
                          act_cfg=dict(type='SiLU')),
            head=dict(type='RTMCCHead', in_channels=768, out_channels=17,
                      input_size=(192, 256), in_featuremap_size=(6, 8),
                      simcc_split_ratio=2.0, final_layer_kernel_size=7,
                      gau_cfg=dict(hidden_dims=256, s=128, expansion_factor=2,
                                   dropout_rate=0.0, drop_path=0.0, act_fn='SiLU',
                                   use_rel_bias=False, pos_enc=False))))
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    reference = _reference_shapes()
    assert len(reference) == 362
    assert sorted(set(ours) - set(reference)) == []
    assert sorted(set(reference) - set(ours)) == []
    assert {k: v for k, v in ours.items() if reference[k] != v} == {}


def test_channel_attention_off_and_p6():
    plain = _cspnext('t', channel_attention=False)
    assert not any('attention' in k for k in plain.state_dict())
    p6 = MODELS.build(dict(type='CSPNeXt', arch='P6', deepen_factor=0.167, widen_factor=0.375,
                           out_indices=(5,))).eval()
    with torch.no_grad():
        (out,) = p6(torch.zeros(1, 3, 64, 64))
    assert tuple(out.shape) == (1, 384, 1, 1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown CSPNeXt arch 'P7'"):
        MODELS.build(dict(type='CSPNeXt', arch='P7'))
    with pytest.raises(ValueError, match='out_indices'):
        MODELS.build(dict(type='CSPNeXt', out_indices=(5,)))
    with pytest.raises(ValueError, match='frozen_stages'):
        MODELS.build(dict(type='CSPNeXt', frozen_stages=7))
    with pytest.raises(ValueError, match='unknown activation'):
        MODELS.build(dict(type='CSPNeXt', act_cfg=dict(type='Mish')))


def test_frozen_stages_and_norm_eval():
    model = _cspnext('t', frozen_stages=1, norm_eval=True).train()
    assert not any(p.requires_grad for p in model.stem.parameters())
    assert not any(p.requires_grad for p in model.stage1.parameters())
    assert all(p.requires_grad for p in model.stage2.parameters())
    assert not model.stem.training and not model.stage1.training
    assert model.stage2.training
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and not any(bn.training for bn in bns)
