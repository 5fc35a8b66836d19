"""TopdownEstimator and PoseDataPreprocessor: config building, training,
prediction in image pixels and the flip test."""
import logging

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger

from customkpt.core.flip import flip_heatmaps
from customkpt.core.geometry import crop_to_image
from customkpt.registry import MODELS

FLIP = [0, 2, 1, 4, 3]


def _estimator(synth, metainfo='toy', codec=None, **test_cfg):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='TopdownEstimator',
        data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
        backbone=dict(type='HRNet', arch='tiny'),
        head=dict(type='HeatmapHead', in_channels=16, out_channels=5,
                  decoder=codec or synth.codec,
                  loss=dict(type='KeypointMSELoss', use_target_weight=True)),
        test_cfg=test_cfg, metainfo=synth.meta if metainfo == 'toy' else metainfo))


def _batch(model, samples, training=False, seed=0):
    rng = np.random.default_rng(seed)
    inputs = [torch.from_numpy(rng.integers(0, 255, (3, 64, 48), dtype=np.uint8))
              for _ in samples]
    return model.data_preprocessor(dict(inputs=inputs, data_samples=samples), training)


@pytest.mark.parametrize('cfg', [
    dict(type='HRNet', arch='tiny'),
    dict(type='HeatmapHead', in_channels=16, out_channels=3),
    dict(type='KeypointMSELoss', use_target_weight=True),
    dict(type='KeypointOHKMMSELoss', topk=2),
    dict(type='PoseDataPreprocessor'),
    dict(type='TopdownEstimator', backbone=dict(type='HRNet', arch='tiny'),
         head=dict(type='HeatmapHead', in_channels=16, out_channels=3)),
])
def test_every_registered_class_builds_from_a_config(cfg):
    assert type(MODELS.build(cfg)).__name__ == cfg['type']


def test_defaults_and_checkpoint_key_names(synth):
    with torch.device('meta'):
        model = MODELS.build(dict(
            type='TopdownEstimator', backbone=dict(type='HRNet', arch='w32'),
            head=dict(type='HeatmapHead', in_channels=32, out_channels=17)))
    assert model.test_cfg['flip_test'] and model.test_cfg['shift_heatmap']
    assert model.dataset_meta is None and model.neck is None
    assert type(model.data_preprocessor).__name__ == 'PoseDataPreprocessor'
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes['head.final_layer.weight'] == (17, 32, 1, 1)
    assert shapes['head.final_layer.bias'] == (17,)
    assert shapes['backbone.conv1.weight'] == (64, 3, 3, 3)
    assert 'backbone.stage4.2.fuse_layers.0.3.0.weight' in shapes
    assert not any(k.startswith('data_preprocessor') for k in shapes)  # non-persistent


def test_preprocessor_normalises_bgr_to_rgb():
    pre = MODELS.build(dict(type='PoseDataPreprocessor'))
    img = torch.zeros(3, 4, 2, dtype=torch.uint8)
    img[0], img[1], img[2] = 10, 20, 30          # B, G, R
    out = pre(dict(inputs=[img, img], data_samples=None), False)['inputs']
    assert out.shape == (2, 3, 4, 2) and out.dtype == torch.float32
    want = [(30 - 123.675) / 58.395, (20 - 116.28) / 57.12, (10 - 103.53) / 57.375]
    torch.testing.assert_close(out[0, :, 0, 0], torch.tensor(want))


def test_tensor_mode_and_bad_mode(synth):
    model = _estimator(synth).eval()
    data = _batch(model, synth.make_samples(2))
    assert model(data['inputs'], mode='tensor').shape == (2, 5, 16, 12)
    with pytest.raises(ValueError, match='mode'):
        model(data['inputs'], mode='nope')


def test_training_overfits_a_few_samples(synth):
    model = _estimator(synth)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)   # init_weights reports every parameter
    try:
        model.init_weights()           # as the Runner does: head starts near zero
    finally:
        logger.setLevel(level)
    model.train()
    samples = synth.make_samples(4)
    data = _batch(model, samples, training=True)
    optim = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses, accs = [], []
    for _ in range(30):
        out = model(**data, mode='loss')
        optim.zero_grad()
        out['loss_kpt'].backward()
        optim.step()
        losses.append(out['loss_kpt'].item())
        accs.append(out['acc_pose'].item())
    assert losses[-1] < 0.1 * losses[0]
    assert accs[0] < 0.5 <= accs[-1] <= 1.0


def _fake_heatmaps(model, first, second=None):
    """Make the head return ``first`` for the plain input and ``second`` for
    the mirrored one (calls alternate: plain, mirrored)."""
    calls = []

    def forward(feats):
        calls.append(1)
        if second is None or len(calls) % 2 == 1:
            return first.clone()
        return second.clone()

    model.head.forward = forward


def test_predict_maps_a_known_peak_to_image_pixels(synth):
    model = _estimator(synth, flip_test=False, output_heatmaps=True).eval()
    samples = synth.make_samples(2)
    samples[1].set_metainfo(dict(input_center=np.array([10.0, 20.0], np.float32),
                                 input_scale=np.array([48.0, 64.0], np.float32)))
    peak = torch.zeros(2, 5, 16, 12)
    peak[:, :, 5, 3] = 0.8   # heatmap (3, 5) -> crop (12, 20): no neighbours, no shift
    _fake_heatmaps(model, peak)
    data = _batch(model, samples)
    out = model(**data, mode='predict')
    assert out is data['data_samples']
    pred = out[0].pred_instances
    assert pred.keypoints.shape == (1, 5, 2) and pred.keypoints.dtype == np.float32
    assert pred.keypoint_scores.shape == (1, 5)
    # crop / input_size * input_scale + input_center - input_scale / 2
    np.testing.assert_allclose(pred.keypoints[0], [[12 / 48 * 96 + 100 - 48,
                                                    20 / 64 * 128 + 50 - 64]] * 5)
    np.testing.assert_allclose(out[1].pred_instances.keypoints[0],
                               [[12 + 10 - 24, 20 + 20 - 32]] * 5)
    np.testing.assert_allclose(pred.keypoint_scores, 0.8)
    np.testing.assert_allclose(pred.bboxes, synth.bbox)
    np.testing.assert_allclose(pred.bbox_scores, [0.9])
    assert out[0].pred_fields.heatmaps.shape == (5, 16, 12)


def test_crop_to_image():
    """The mapping predict uses (core.geometry), on one region."""
    center, scale = np.array([100.0, 50.0]), np.array([96.0, 128.0])
    np.testing.assert_allclose(crop_to_image(np.array([[0.0, 0.0], [48.0, 64.0]]), (48, 64),
                                             center, scale), [[[52, -14], [148, 114]]])
    np.testing.assert_allclose(crop_to_image(np.array([[47.0, 63.0]]), (48, 64), center, scale,
                                             use_udp=True), [[[148, 114]]])


def test_flip_test_uses_the_models_flip_indices(synth):
    """A perfect model sees the mirrored crop with left and right swapped;
    averaging is exact only when the channels are put back by flip_indices."""
    peak = torch.zeros(1, 5, 16, 12)
    for k, (x, y) in enumerate([(2, 3), (4, 5), (7, 9), (5, 12), (9, 14)]):
        peak[:, k, y, x] = 1.0
    mirrored = flip_heatmaps(peak, synth.flip, shift=False)
    model = _estimator(synth, flip_test=True, shift_heatmap=False).eval()

    _fake_heatmaps(model, peak, mirrored)
    right = model(**_batch(model, synth.make_samples(1)), mode='predict')[0].pred_instances
    np.testing.assert_allclose(right.keypoint_scores, 1.0)

    plain = _estimator(synth, flip_test=False).eval()
    _fake_heatmaps(plain, peak)
    base = plain(**_batch(plain, synth.make_samples(1)), mode='predict')[0].pred_instances
    np.testing.assert_allclose(right.keypoints, base.keypoints)

    # A model whose definition has no pairs (identity table) smears the
    # paired points: their peaks halve.
    unpaired = _estimator(synth, metainfo=dict(synth.meta, flip_pairs=[]), flip_test=True,
                          shift_heatmap=False).eval()
    _fake_heatmaps(unpaired, peak, mirrored)
    same_table = synth.make_samples(1, flip_indices=range(5))
    bad = unpaired(**_batch(unpaired, same_table), mode='predict')[0].pred_instances
    np.testing.assert_allclose(bad.keypoint_scores[0, 0], 1.0)
    np.testing.assert_allclose(bad.keypoint_scores[0, 1:], 0.5)

    # Samples only check the model's table: a different one is an error.
    _fake_heatmaps(model, peak, mirrored)
    with pytest.raises(ValueError, match=r'\[0, 1, 2, 3, 4\].*\[0, 2, 1, 4, 3\]'):
        model(**_batch(model, same_table), mode='predict')


def test_flip_test_runs_the_network_on_the_mirrored_input(synth):
    model = _estimator(synth, flip_test=True, shift_heatmap=True).eval()
    samples = synth.make_samples(2)
    data = _batch(model, samples)
    with torch.no_grad():
        got = model.predict_outputs(data['inputs'], samples)
        plain = model(data['inputs'], mode='tensor')
        mirrored = model(data['inputs'].flip(-1), mode='tensor')
    torch.testing.assert_close(got, 0.5 * (plain + flip_heatmaps(mirrored, synth.flip)))
    # Samples without flip_indices change nothing: the table is the model's.
    for s in samples:
        s.set_metainfo(dict(flip_indices=None))
    with torch.no_grad():
        torch.testing.assert_close(model.predict_outputs(data['inputs'], samples), got)
    preds = model(**data, mode='predict')
    assert preds[1].pred_instances.keypoints.shape == (1, 5, 2)
    assert 'pred_fields' not in preds[1]


def test_predict_needs_the_crop_metainfo(synth):
    model = _estimator(synth, flip_test=False).eval()
    samples = synth.make_samples(1)
    data = _batch(model, samples)
    samples[0] = type(samples[0])(metainfo=dict(flip_indices=synth.flip))
    with pytest.raises(KeyError, match='input_center'):
        model(data['inputs'], samples, mode='predict')


def test_metainfo_is_resolved_into_dataset_meta(synth, tmp_path):
    model = _estimator(synth)
    assert model.dataset_meta['flip_indices'] == synth.flip
    assert model.dataset_meta['keypoint_names'] == synth.meta['keypoint_names']
    # A definition file (MMPose or our keys) works as well.
    path = tmp_path / 'meta.py'
    path.write_text(f'dataset_info = {dict(synth.meta)!r}\n')
    assert _estimator(synth, metainfo=str(path)).dataset_meta == model.dataset_meta
    # The definition is validated at build time.
    with pytest.raises(ValueError, match='flip_indices'):
        _estimator(synth, metainfo=dict(synth.meta, flip_indices=[0, 1, 2, 3, 4]))


def test_flip_test_needs_the_models_table(synth):
    model = _estimator(synth, metainfo=None).eval()
    assert model.dataset_meta is None
    data = _batch(model, synth.make_samples(1))
    with pytest.raises(KeyError, match='ModelMetaHook'):
        model(**data, mode='predict')
    model.dataset_meta = dict(synth.meta, flip_indices=synth.flip)  # as init_model sets it
    assert model(**data, mode='predict')[0].pred_instances.keypoints.shape == (1, 5, 2)


@pytest.mark.parametrize('key,value,where', [
    ('use_udp', True, r'TopdownAffine.*head.decoder MSRAHeatmap implies use_udp=False'),
    ('use_udp', False, r'use_udp=False is not a model setting'),
    ('flip_indices', FLIP, r'metainfo'),
])
def test_test_cfg_keys_owned_elsewhere_are_refused(synth, key, value, where):
    with pytest.raises(ValueError, match=where):
        _estimator(synth, **{key: value})


def test_udp_codec_maps_keypoints_back_with_the_udp_convention(synth):
    udp_codec = dict(type='UDPHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=2)
    peak = torch.zeros(1, 5, 16, 12)
    peak[:, :, 5, 3] = 0.8
    got = {}
    for name, codec in (('msra', synth.codec), ('udp', udp_codec)):
        model = _estimator(synth, codec=codec, flip_test=False).eval()
        _fake_heatmaps(model, peak)
        got[name] = model(**_batch(model, synth.make_samples(1)),
                          mode='predict')[0].pred_instances.keypoints[0]
    # UDP: heatmap (3, 5) -> crop (3 * 47 / 11, 5 * 63 / 15); the crop's
    # 0 .. input_size - 1 spans the box: image = crop / (size - 1) * scale + ...
    np.testing.assert_allclose(got['udp'], [[3 / 11 * 96 + 100 - 48,
                                             5 / 15 * 128 + 50 - 64]] * 5, atol=1e-3)
    np.testing.assert_allclose(got['msra'], [[12 / 48 * 96 + 100 - 48,
                                              20 / 64 * 128 + 50 - 64]] * 5, atol=1e-3)
