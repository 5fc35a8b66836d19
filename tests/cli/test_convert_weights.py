"""customkpt convert-weights: Paddle .pdparams -> our .pth, usable by load_pretrained."""
import os
import pickle
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from customkpt.checkpoint import safe_load
from customkpt.cli import convert_weights
from customkpt.core.presets import COCO_NAMES
from customkpt.errors import UserError
from customkpt.models.convert_paddle import ours_key_to_paddle
from customkpt.models.pretrained import load_pretrained
from customkpt.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]


def _tiny(k, names=None):
    cfg = dict(type='TopdownEstimator', backbone=dict(type='HRNet', arch='tiny'),
               head=dict(type='HeatmapHead', in_channels=16, out_channels=k))
    if names:
        cfg['metainfo'] = dict(keypoint_names=names)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _pdparams(path, model, extra=None):
    params = OrderedDict((ours_key_to_paddle(k), v.numpy().copy())
                         for k, v in model.state_dict().items() if ours_key_to_paddle(k))
    params['StructuredToParameterName@@'] = {k: k for k in params}
    params.update(extra or {})
    path.write_bytes(pickle.dumps(params, protocol=4))


def test_convert_coco_head_then_finetune_onto_self5(tmp_path, capsys):
    torch.manual_seed(0)
    src = _tiny(17)
    _pdparams(tmp_path / 'hrnet.pdparams', src)
    out = tmp_path / 'out' / 'hrnet_paddle.pth'
    rc = convert_weights.main([str(tmp_path / 'hrnet.pdparams'), str(out),
                                        '--arch', 'tiny', '--strict'])
    assert rc == 0
    text = capsys.readouterr().out
    assert 'unmapped' not in text and 'not in the file' not in text and f'wrote {out}' in text
    ckpt = safe_load(out)
    assert set(ckpt) == {'state_dict', 'meta'}
    assert ckpt['meta']['dataset_meta']['keypoint_names'] == COCO_NAMES
    assert ckpt['meta']['dataset_meta']['flip_indices'][1:3] == [2, 1]
    assert ckpt['meta']['dataset_meta']['sigmas'][0] == pytest.approx(0.026)
    assert torch.equal(ckpt['state_dict']['backbone.stage4.0.fuse_layers.0.3.0.weight'],
                       src.backbone.stage4[0].fuse_layers[0][3][0].weight)
    # the converted file transfers by name
    model = _tiny(2, ['snout', 'Left_Wrist'])
    report = load_pretrained(model, out, keypoint_map=dict(snout='nose'))
    assert [r[:2] for r in report.remapped] == [(0, 0), (1, 9)]
    assert torch.equal(model.head.final_layer.bias[1], src.head.final_layer.bias[9])
    assert report.reinitialised == [] and report.ignored == []


def test_unmapped_keys_listed_and_strict_fails(tmp_path, capsys):
    _pdparams(tmp_path / 'se.pdparams', _tiny(5),
              extra={'backbone.st2.stage_st2_1.se.squeeze.weight': torch.zeros(2).numpy()})
    out = tmp_path / 'se.pth'
    rc = convert_weights.main([str(tmp_path / 'se.pdparams'), str(out),
                                        '--strict'])
    text = capsys.readouterr().out
    assert rc == 1 and not out.exists()
    assert 'unmapped Paddle keys (1, left out)' in text and 'se.squeeze.weight' in text
    # without --strict it writes the mapped part, with the given names
    rc = convert_weights.main([str(tmp_path / 'se.pdparams'), str(out),
                                        '--keypoint-names', 'a', 'b', 'c', 'left_x', 'right_x'])
    assert rc == 0
    meta = safe_load(out)['meta']['dataset_meta']
    assert meta['keypoint_names'] == ['a', 'b', 'c', 'left_x', 'right_x']
    assert meta['flip_pairs'] == [[3, 4]]


def test_wrong_name_count_and_arch_mismatch(tmp_path, capsys):
    _pdparams(tmp_path / 'm.pdparams', _tiny(5))
    with pytest.raises(UserError, match='2 keypoint names given but final_conv has 5'):
        convert_weights.main([str(tmp_path / 'm.pdparams'), str(tmp_path / 'm.pth'),
                                       '--keypoint-names', 'a', 'b'])
    rc = convert_weights.main([str(tmp_path / 'm.pdparams'), str(tmp_path / 'm.pth'),
                                        '--arch', 'w18', '--strict'])
    assert rc == 1
    assert 'shape mismatches' in capsys.readouterr().out


class _Exploit:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_malicious_pdparams_refused(tmp_path):
    path = tmp_path / 'evil.pdparams'
    path.write_bytes(pickle.dumps({'a': _Exploit()}))
    with pytest.raises(pickle.UnpicklingError, match='refusing to load .*evil.pdparams'):
        convert_weights.main([str(path), str(tmp_path / 'x.pth')])
    assert not (tmp_path / 'x.pth').exists()
