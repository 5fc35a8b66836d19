"""load_pretrained: layouts, head transfer by keypoint name, the report,
URLs and refusing unsafe files."""
import os
import pickle

import pytest
import torch

from customkpt.checkpoint import UnsafeCheckpointError
from customkpt.models.pretrained import (TransferReport, detect_layout, load_pretrained,
                                         match_keypoints, read_checkpoint)
from customkpt.registry import MODELS

COCO = ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
        'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
        'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle']
SELF5 = ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot']
SELF5_TO_COCO = dict(head='nose', left_hand='left_wrist', right_hand='right_wrist',
                     left_foot='left_ankle', right_foot='right_ankle')


def build(names=None, k=None, seed=0):
    """A tiny TopdownEstimator (HRNet 'tiny', 16 channels) with K points."""
    torch.manual_seed(seed)
    k = k or len(names)
    cfg = dict(type='TopdownEstimator', backbone=dict(type='HRNet', arch='tiny'),
               head=dict(type='HeatmapHead', in_channels=16, out_channels=k))
    if names is not None:
        cfg['metainfo'] = dict(keypoint_names=list(names))
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def save_ckpt(path, model, names=None, bare=False):
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    if bare:
        torch.save(sd, path)
    else:
        meta = dict(dataset_meta=dict(keypoint_names=list(names))) if names else {}
        torch.save(dict(state_dict=sd, meta=meta, optimizer={}), path)
    return sd


@pytest.fixture
def coco_ckpt(tmp_path):
    """A 17-point tiny model saved as an mmengine checkpoint with COCO names."""
    src = build(COCO, seed=1)
    path = tmp_path / 'coco.pth'
    sd = save_ckpt(path, src, COCO)
    return path, sd


def head_rows(sd_or_model):
    sd = sd_or_model if isinstance(sd_or_model, dict) else sd_or_model.state_dict()
    return sd['head.final_layer.weight'], sd['head.final_layer.bias']


def test_full_layout_with_keypoint_map_copies_channels_exactly(coco_ckpt):
    path, sd = coco_ckpt
    model = build(SELF5)
    report = load_pretrained(model, str(path), keypoint_map=SELF5_TO_COCO)
    w, b = head_rows(model)
    old_w, old_b = head_rows(sd)
    for i, name in enumerate(SELF5):
        j = COCO.index(SELF5_TO_COCO[name])
        assert torch.equal(w[i], old_w[j])
        assert torch.equal(b[i], old_b[j])
    assert report.layout == 'full'
    assert report.remapped == [(0, 0, 'head', 'nose'), (1, 9, 'left_hand', 'left_wrist'),
                               (2, 10, 'right_hand', 'right_wrist'),
                               (3, 15, 'left_foot', 'left_ankle'),
                               (4, 16, 'right_foot', 'right_ankle')]
    assert report.reinitialised_keypoints == []
    # every backbone tensor (including BN running stats) came over
    for key, value in model.state_dict().items():
        if key.startswith('backbone.'):
            assert torch.equal(value, sd[key]), key
    assert 'backbone.conv1.weight' in report.loaded
    assert report.ignored == [] and report.shape_mismatched == []
    text = report.summary()
    assert 'head<-nose' in text and 'left_hand<-left_wrist' in text


def test_names_match_case_insensitively_and_unmatched_keep_init(tmp_path):
    src = build(['Nose', 'LEFT_WRIST', 'tail'], seed=1)
    path = tmp_path / 'a.pth'
    sd = save_ckpt(path, src, ['Nose', 'LEFT_WRIST', 'tail'])
    model = build(['nose', 'left_wrist', 'ear'], seed=2)
    fresh_w = model.head.final_layer.weight.detach().clone()
    report = load_pretrained(model, path)
    w, b = head_rows(model)
    assert torch.equal(w[0], sd['head.final_layer.weight'][0])
    assert torch.equal(w[1], sd['head.final_layer.weight'][1])
    assert torch.equal(w[2], fresh_w[2])
    assert not torch.equal(w[2], sd['head.final_layer.weight'][2])
    assert [p[:2] for p in report.remapped] == [(0, 0), (1, 1)]
    assert report.reinitialised_keypoints == ['ear']
    assert 'ear' in report.summary()


def test_backbone_only_layout(tmp_path):
    src = build(COCO, seed=1)
    sd = {k[len('backbone.'):]: v for k, v in src.state_dict().items()
          if k.startswith('backbone.')}
    path = tmp_path / 'imagenet.pth'
    torch.save(sd, path)
    assert detect_layout(sd) == 'backbone'
    model = build(SELF5, seed=2)
    fresh_head = model.head.final_layer.weight.detach().clone()
    report = load_pretrained(model, str(path))
    assert report.layout == 'backbone' and report.prefix == 'backbone'
    assert torch.equal(model.backbone.conv1.weight, sd['conv1.weight'])
    assert torch.equal(model.backbone.stage4[0].fuse_layers[0][1][0].weight,
                       sd['stage4.0.fuse_layers.0.1.0.weight'])
    assert torch.equal(model.head.final_layer.weight, fresh_head)
    assert set(report.reinitialised) == {'head.final_layer.weight', 'head.final_layer.bias'}
    assert len(report.loaded) == len(sd)


def test_bare_state_dict_without_names_same_k_copies_all_with_warning(tmp_path):
    src = build(k=5, seed=1)
    path = tmp_path / 'bare.pth'
    sd = save_ckpt(path, src, bare=True)
    model = build(SELF5, seed=2)
    with pytest.warns(UserWarning, match='copied in order'):
        report = load_pretrained(model, path)
    assert torch.equal(model.head.final_layer.weight, sd['head.final_layer.weight'])
    assert report.remapped == [(i, i, '', '') for i in range(5)]


def test_no_names_different_k_skips_head(tmp_path):
    src = build(k=17, seed=1)
    path = tmp_path / 'bare17.pth'
    save_ckpt(path, src, bare=True)
    model = build(SELF5, seed=2)
    fresh = model.head.final_layer.bias.detach().clone()
    with pytest.warns(UserWarning, match='head skipped'):
        report = load_pretrained(model, path)
    assert torch.equal(model.head.final_layer.bias, fresh)
    assert 'head.final_layer.weight' in report.reinitialised
    assert report.remapped == []
    # the backbone still loaded
    assert torch.equal(model.backbone.conv2.weight, src.backbone.conv2.weight)


def test_shape_mismatch_and_extra_keys_reported_not_fatal(tmp_path, coco_ckpt):
    _, sd = coco_ckpt
    sd = dict(sd)
    sd['backbone.conv1.weight'] = torch.zeros(7, 3, 3, 3)
    sd['neck.extra.weight'] = torch.ones(3)
    path = tmp_path / 'odd.pth'
    torch.save(dict(state_dict=sd, meta=dict(dataset_meta=dict(keypoint_names=COCO))), path)
    model = build(SELF5)
    fresh = model.backbone.conv1.weight.detach().clone()
    report = load_pretrained(model, path, keypoint_map=SELF5_TO_COCO)
    assert report.shape_mismatched == [('backbone.conv1.weight', (32, 3, 3, 3), (7, 3, 3, 3))]
    assert report.ignored == ['neck.extra.weight']
    assert torch.equal(model.backbone.conv1.weight, fresh)
    text = report.summary()
    assert 'shape mismatch' in text and 'neck.extra.weight' in text


def test_head_with_other_feature_width_is_a_shape_mismatch(tmp_path, coco_ckpt):
    _, sd = coco_ckpt
    sd = dict(sd)
    sd['head.final_layer.weight'] = torch.zeros(17, 8, 1, 1)
    path = tmp_path / 'w8.pth'
    torch.save(dict(state_dict=sd, meta=dict(dataset_meta=dict(keypoint_names=COCO))), path)
    report = load_pretrained(build(SELF5), path, keypoint_map=SELF5_TO_COCO)
    assert ('head.final_layer.weight', (5, 16, 1, 1), (17, 8, 1, 1)) in report.shape_mismatched
    assert report.remapped == []


def test_bad_keypoint_map_names_raise(coco_ckpt):
    path, _ = coco_ckpt
    with pytest.raises(KeyError, match="checkpoint points \\['snout'\\]"):
        load_pretrained(build(SELF5), path, keypoint_map=dict(head='snout'))
    with pytest.raises(KeyError, match="model points \\['tail'\\]"):
        load_pretrained(build(SELF5), path, keypoint_map=dict(tail='nose'))


def test_match_keypoints_map_wins_over_same_name():
    pairs = match_keypoints(['a', 'b'], ['b', 'a', 'c'], dict(a='c'))
    assert pairs == [(0, 2, 'a', 'c'), (1, 0, 'b', 'b')]


def test_url_goes_through_the_download_cache(tmp_path, monkeypatch, coco_ckpt):
    path, sd = coco_ckpt
    calls = []

    def fake_fetch(url, target):
        calls.append(url)
        target.write_bytes(path.read_bytes())

    from customkpt import checkpoint_remote
    monkeypatch.setattr(checkpoint_remote, '_fetch', fake_fetch)
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    url = 'https://example.org/models/coco-17.pth'
    model = build(SELF5)
    report = load_pretrained(model, url, keypoint_map=SELF5_TO_COCO)
    assert calls == [url]
    assert (tmp_path / 'hub' / 'checkpoints' / 'coco-17.pth').is_file()
    assert report.source == url and len(report.remapped) == 5
    # a second load uses the cached file
    load_pretrained(build(SELF5), url, keypoint_map=SELF5_TO_COCO)
    assert calls == [url]
    # file:// paths read the local file
    state, meta = read_checkpoint(f'file://{path}')
    assert torch.equal(state['head.final_layer.bias'], sd['head.final_layer.bias'])
    assert meta['dataset_meta']['keypoint_names'] == COCO


class _Exploit:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_checkpoint_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={'backbone.conv1.weight': torch.zeros(1)}, payload=_Exploit()),
               path)
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        load_pretrained(build(SELF5), path)
    raw = tmp_path / 'evil_raw.pth'
    raw.write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(pickle.UnpicklingError, match='evil_raw.pth'):
        read_checkpoint(raw)


def test_missing_file_and_empty_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        read_checkpoint(tmp_path / 'nope.pth')
    path = tmp_path / 'empty.pth'
    torch.save(dict(meta={}), path)
    with pytest.raises(ValueError, match='empty.pth: no weights'):
        read_checkpoint(path)


def test_estimator_pretrained_argument_applies_in_init_weights(coco_ckpt):
    path, sd = coco_ckpt
    cfg = dict(type='TopdownEstimator', backbone=dict(type='HRNet', arch='tiny'),
               head=dict(type='HeatmapHead', in_channels=16, out_channels=5),
               metainfo=dict(keypoint_names=SELF5),
               pretrained=dict(checkpoint=str(path), keypoint_map=SELF5_TO_COCO))
    model = MODELS.build(cfg)
    assert model.transfer_report is None
    model.init_weights()
    assert isinstance(model.transfer_report, TransferReport)
    assert torch.equal(model.head.final_layer.weight[3], sd['head.final_layer.weight'][15])
    assert torch.equal(model.backbone.layer1[0].conv1.weight, sd['backbone.layer1.0.conv1.weight'])
    with pytest.raises(TypeError, match='pretrained must be dict'):
        MODELS.build(dict(cfg, pretrained='x.pth'))


def test_a_file_named_in_checkpoint_meta_is_never_run(tmp_path):
    """A checkpoint's meta is data: a ``from_file`` definition file it names
    (here a config script that would write a marker) is ignored."""
    marker = tmp_path / 'ran.txt'
    script = tmp_path / 'evil_meta.py'
    script.write_text(f'open({str(marker)!r}, "w").write("x")\ndataset_info = dict()\n')
    src = build(k=5, seed=1)
    path = tmp_path / 'meta_names_a_file.pth'
    torch.save(dict(state_dict=src.state_dict(),
                    meta=dict(dataset_meta=dict(from_file=str(script)))), path)
    report = load_pretrained(build(SELF5), str(path))
    assert not marker.exists()
    assert report.source == str(path)


def build_rtmpose(names, seed=0):
    """A narrow t-size RTMPose (CSPNeXt + RTMCC head) for 64x64 crops."""
    torch.manual_seed(seed)
    model = MODELS.build(dict(
        type='TopdownEstimator',
        backbone=dict(type='CSPNeXt', deepen_factor=0.167, widen_factor=0.25, out_indices=(4,)),
        head=dict(type='RTMCCHead', in_channels=256, out_channels=len(names), input_size=(64, 64),
                  gau_cfg=dict(hidden_dims=32, s=16)),
        metainfo=dict(keypoint_names=list(names))))
    model.init_weights()
    return model


def test_rtmpose_head_transfers_by_name_and_the_rest_is_copied(tmp_path):
    src = build_rtmpose(COCO, seed=1)
    path = tmp_path / 'rtmpose_coco.pth'
    sd = save_ckpt(path, src, COCO)
    names = ['right_ear', 'nose', 'tail', 'left_wrist', 'Left_Eye']
    model = build_rtmpose(names, seed=2)
    fresh = model.head.final_layer.weight.detach().clone()
    report = load_pretrained(model, str(path))
    assert report.layout == 'full'
    assert [(i, j) for i, j, *_ in report.remapped] == [(0, 4), (1, 0), (3, 9), (4, 1)]
    assert report.reinitialised_keypoints == ['tail']
    state = model.state_dict()
    for i, j in [(0, 4), (1, 0), (3, 9), (4, 1)]:
        assert torch.equal(state['head.final_layer.weight'][i], sd['head.final_layer.weight'][j])
        assert torch.equal(state['head.final_layer.bias'][i], sd['head.final_layer.bias'][j])
    assert torch.equal(state['head.final_layer.weight'][2], fresh[2])
    rest = [k for k in state if not k.startswith('head.final_layer')]
    assert any(k.startswith('head.gau.') for k in rest) and 'head.cls_x.weight' in rest
    for key in rest:
        assert torch.equal(state[key], sd[key]), key
    assert report.shape_mismatched == [] and report.ignored == []


def test_bare_cspnext_backbone_layout(tmp_path):
    src = build_rtmpose(SELF5, seed=3)
    backbone = {k: v.clone() for k, v in src.backbone.state_dict().items()}
    assert detect_layout(['stem.0.conv.weight', 'stage1.0.conv.weight']) == 'backbone'
    path = tmp_path / 'cspnext.pth'
    torch.save(backbone, path)
    model = build_rtmpose(SELF5, seed=4)
    report = load_pretrained(model, str(path))
    assert report.layout == 'backbone' and report.prefix == 'backbone'
    for key, value in backbone.items():
        assert torch.equal(model.backbone.state_dict()[key], value)
    assert 'head.final_layer.weight' in report.reinitialised
