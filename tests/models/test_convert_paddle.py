"""PaddleDetection HRNet names -> ours, and reading .pdparams safely."""
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

from customkpt.models.convert_paddle import (PdparamsError, convert_paddle_state_dict,
                                             ours_key_to_paddle, paddle_key_to_ours,
                                             read_pdparams)
from customkpt.registry import MODELS

# Names written out by hand from PaddleDetection's HRNet / TopDownHRNet layer
# structure, and where they belong in our model.
ANCHORS = {
    'backbone.conv_layer1_1.conv.weight': 'backbone.conv1.weight',
    'backbone.conv_layer1_2.norm._variance': 'backbone.bn2.running_var',
    'backbone.la1.block_layer2_1.conv3.norm.bias': 'backbone.layer1.0.bn3.bias',
    'backbone.la1.block_layer2_1.conv_down.conv.weight': 'backbone.layer1.0.downsample.0.weight',
    'backbone.la1.block_layer2_1.conv_down.norm._mean':
        'backbone.layer1.0.downsample.1.running_mean',
    'backbone.tr1.transition_tr1_layer_1.conv.weight': 'backbone.transition1.0.0.weight',
    'backbone.tr1.transition_tr1_layer_2.norm.weight': 'backbone.transition1.1.0.1.weight',
    'backbone.tr3.transition_tr3_layer_4.conv.weight': 'backbone.transition3.3.0.0.weight',
    'backbone.st2.stage_st2_1.branches_func.bb_st2_1_branch_layer_2_4.conv2.norm._mean':
        'backbone.stage2.0.branches.1.3.bn2.running_mean',
    'backbone.st3.stage_st3_4.fuse_func.residual_st3_4_layer_1_3.conv.weight':
        'backbone.stage3.3.fuse_layers.0.2.0.weight',
    'backbone.st4.stage_st4_3.fuse_func.residual_st4_3_layer_1_2.norm.bias':
        'backbone.stage4.2.fuse_layers.0.1.1.bias',
    'backbone.st3.stage_st3_1.fuse_func.residual_st3_1_layer_3_1_2.conv.weight':
        'backbone.stage3.0.fuse_layers.2.0.1.0.weight',
    'final_conv.weight': 'head.final_layer.weight',
    'final_conv.bias': 'head.final_layer.bias',
}


@pytest.mark.parametrize('paddle_key, ours', sorted(ANCHORS.items()))
def test_anchor_names(paddle_key, ours):
    assert paddle_key_to_ours(paddle_key) == ours
    assert ours_key_to_paddle(ours) == paddle_key


def test_backbone_only_file_names_without_prefix():
    assert paddle_key_to_ours('conv_layer1_1.norm.weight') == 'backbone.bn1.weight'


def test_unknown_names_are_not_guessed():
    assert paddle_key_to_ours('backbone.st2.stage_st2_1.se.squeeze.weight') is None
    assert paddle_key_to_ours('backbone.conv_layer1_1.conv.bias') is None
    assert paddle_key_to_ours('head.something') is None


def _estimator(arch, width, k=17):
    return MODELS.build(dict(type='TopdownEstimator', backbone=dict(type='HRNet', arch=arch),
                             head=dict(type='HeatmapHead', in_channels=width, out_channels=k)))


@pytest.mark.parametrize('arch, width', [('tiny', 16), ('w32', 32)])
def test_every_model_key_has_one_paddle_name(arch, width):
    keys = list(_estimator(arch, width).state_dict())
    names = {k: ours_key_to_paddle(k) for k in keys}
    missing = [k for k, v in names.items() if v is None and not k.endswith('num_batches_tracked')]
    assert missing == []
    paddle = [v for v in names.values() if v is not None]
    assert len(set(paddle)) == len(paddle)
    assert all(paddle_key_to_ours(v) == k for k, v in names.items() if v is not None)
    if arch == 'w32':
        # W32 with a 17-point head: 28.54 M parameters, the published size.
        assert sum(v.numel() for k, v in _estimator(arch, width).state_dict().items()
                   if names[k] is not None and not k.endswith(('running_mean', 'running_var'))
                   ) == 28536113


def write_pdparams(path, model, extra=None, protocol=4):
    """A .pdparams as PaddleDetection writes it: numpy arrays under Paddle's
    structured names, plus its name-table entry."""
    params = OrderedDict()
    for key, value in model.state_dict().items():
        name = ours_key_to_paddle(key)
        if name is not None:
            params[name] = value.numpy().copy()
    params['StructuredToParameterName@@'] = {k: f'param_{i}' for i, k in enumerate(params)}
    params.update(extra or {})
    with open(path, 'wb') as f:
        pickle.dump(params, f, protocol=protocol)
    return params


def test_pdparams_round_trip_into_our_model(tmp_path):
    torch.manual_seed(3)
    src = _estimator('tiny', 16)
    for p in src.parameters():
        torch.nn.init.normal_(p)
    for name, buf in src.named_buffers():
        if 'running' in name:
            buf.uniform_(0.5, 1.5)
    path = tmp_path / 'hrnet.pdparams'
    write_pdparams(path, src, extra={'backbone.unknown.thing.weight': np.zeros(2, np.float32)})
    params = read_pdparams(path)
    assert 'StructuredToParameterName@@' not in params
    sd, unmapped = convert_paddle_state_dict(params)
    assert unmapped == ['backbone.unknown.thing.weight']
    dst = _estimator('tiny', 16)
    dst.load_state_dict(sd, strict=True)
    for key, value in src.state_dict().items():
        if not key.endswith('num_batches_tracked'):
            assert torch.equal(dst.state_dict()[key], value), key
    assert sd['backbone.bn1.num_batches_tracked'].item() == 0


class _Exploit:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_malicious_pdparams_is_refused(tmp_path):
    path = tmp_path / 'evil.pdparams'
    with open(path, 'wb') as f:
        pickle.dump({'final_conv.weight': np.zeros(2), 'x': _Exploit()}, f)
    with pytest.raises(PdparamsError, match=r'evil\.pdparams.*os\.system|evil\.pdparams.*posix'):
        read_pdparams(path)


def test_not_a_dict_and_missing_file(tmp_path):
    path = tmp_path / 'list.pdparams'
    path.write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(ValueError, match='list.pdparams: expected a dict'):
        read_pdparams(path)
    garbage = tmp_path / 'garbage.pdparams'
    garbage.write_bytes(b'not a pickle')
    with pytest.raises(ValueError, match='garbage.pdparams'):
        read_pdparams(garbage)
    with pytest.raises(FileNotFoundError, match='none.pdparams'):
        read_pdparams(tmp_path / 'none.pdparams')


def test_protocol2_pdparams_converts(tmp_path):
    """Older PaddlePaddle writes a protocol-2 pickle, whose array bytes come
    back through ``_codecs.encode``; it is a plain dict of arrays all the same."""
    torch.manual_seed(5)
    src = _estimator('tiny', 16)
    path = tmp_path / 'old.pdparams'
    write_pdparams(path, src, protocol=2)
    sd, unmapped = convert_paddle_state_dict(read_pdparams(path))
    assert unmapped == []
    dst = _estimator('tiny', 16)
    dst.load_state_dict(sd, strict=True)
    for key, value in src.state_dict().items():
        if not key.endswith('num_batches_tracked'):
            assert torch.equal(dst.state_dict()[key], value), key
    # ``_codecs.encode`` is allowed for latin-1 byte strings only:
    # {'x': _codecs.encode('abc', 'rot13')} written by hand (protocol 2).
    codec = tmp_path / 'codec.pdparams'
    codec.write_bytes(b'\x80\x02}q\x00X\x01\x00\x00\x00xc_codecs\nencode\nX\x03\x00\x00\x00abc'
                      b'X\x05\x00\x00\x00rot13\x86R\x73.')
    with pytest.raises(PdparamsError, match=r'codec\.pdparams.*rot13'):
        read_pdparams(codec)


@pytest.mark.parametrize('kind', ['empty', 'torch_zip', 'cut_zip', 'text'])
def test_unreadable_pdparams_is_one_line_from_the_command(tmp_path, capsys, kind):
    from customkpt.cli import run
    path = tmp_path / f'{kind}.pdparams'
    if kind in ('torch_zip', 'cut_zip'):
        torch.save({'w': torch.zeros(2)}, path)
        if kind == 'cut_zip':
            path.write_bytes(path.read_bytes()[:200])
    else:
        path.write_bytes(b'' if kind == 'empty' else b'hello\n')
    assert run('convert-weights', [str(path), str(tmp_path / 'out.pth')]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err
    if kind != 'empty' and kind != 'text':
        assert 'zip archive' in err
