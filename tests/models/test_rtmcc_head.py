"""RTMCCHead and the real-time model (CSPNeXt + RTMCC + SimCC) in the
estimator: layout, loss, training, flip test and image-pixel predictions."""
import logging

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.structures import InstanceData

from customkpt.core.flip import flip_vectors
from customkpt.core.geometry import crop_to_image
from customkpt.models.heads.rtmcc_head import simcc_accuracy
from customkpt.registry import KEYPOINT_CODECS, MODELS
from customkpt.structures import PoseDataSample

SIZE = (64, 64)
CODEC = dict(type='SimCCLabel', input_size=SIZE, sigma=(2.0, 2.0), simcc_split_ratio=2.0)
# An asymmetric 7-point definition: 1 <-> 4 and 2 <-> 6 swap, 0, 3 and 5 stay.
NAMES = ['nose', 'left_paw', 'left_ear', 'tail', 'right_paw', 'spine', 'right_ear']
META7 = dict(dataset_name='toy7', keypoint_names=NAMES, flip_pairs=[[1, 4], [2, 6]],
             sigmas=[0.05] * 7)
FLIP7 = [0, 4, 6, 3, 1, 5, 2]
CENTER = np.array([100.0, 50.0], np.float32)
SCALE = np.array([128.0, 128.0], np.float32)  # twice the 64x64 crop


def _head(k=7, **kwargs):
    cfg = dict(type='RTMCCHead', in_channels=24, out_channels=k, input_size=SIZE,
               gau_cfg=dict(hidden_dims=32, s=16), decoder=CODEC)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _model(seed=0, init=True, **test_cfg):
    """The t-size model (narrower: widen 0.25) for 64x64 crops; ``init``
    runs the head's small-weight init as the Runner does, else the outputs
    keep PyTorch's default init (larger, for comparing predictions)."""
    torch.manual_seed(seed)
    model = MODELS.build(dict(
        type='TopdownEstimator',
        backbone=dict(type='CSPNeXt', arch='P5', deepen_factor=0.167, widen_factor=0.25,
                      out_indices=(4,)),
        head=dict(type='RTMCCHead', in_channels=256, out_channels=7, input_size=SIZE,
                  gau_cfg=dict(hidden_dims=32, s=16), decoder=CODEC),
        test_cfg=test_cfg, metainfo=META7))
    if not init:
        return model
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights reports every parameter
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model


def _samples(n, seed=0):
    rng = np.random.default_rng(seed)
    codec = KEYPOINT_CODECS.build(CODEC)
    samples = []
    for _ in range(n):
        kpts = rng.uniform(6, 58, (1, 7, 2)).astype(np.float32)
        enc = codec.encode(kpts, np.ones((1, 7), np.float32))
        sample = PoseDataSample(metainfo=dict(input_size=SIZE, input_center=CENTER.copy(),
                                              input_scale=SCALE.copy(), flip_indices=FLIP7))
        sample.gt_instance_labels = InstanceData(**{
            k: torch.from_numpy(enc[k])
            for k in ('keypoint_x_labels', 'keypoint_y_labels', 'keypoint_weights')})
        samples.append(sample)
    return samples


def _calibrated(model, data):
    """Eval mode with BatchNorm statistics of ``data`` (fresh random BN
    statistics leave the tiny network nearly blind to its input)."""
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None  # a cumulative average: one batch sets it
            module.reset_running_stats()
    model.train()
    with torch.no_grad():
        model(data['inputs'], mode='tensor')
    return model.eval()


def _batch(model, samples, training=False, seed=0):
    rng = np.random.default_rng(seed)
    inputs = [torch.from_numpy(rng.integers(0, 255, (3, 64, 64), dtype=np.uint8))
              for _ in samples]
    return model.data_preprocessor(dict(inputs=inputs, data_samples=samples), training)


@pytest.mark.parametrize('cfg', [
    dict(type='CSPNeXt', deepen_factor=0.167, widen_factor=0.375, out_indices=(4,)),
    dict(type='RTMCCHead', in_channels=384, out_channels=3),
    dict(type='KLDiscretLoss', beta=10.0, label_softmax=True),
])
def test_every_registered_part_builds_from_a_config(cfg):
    assert type(MODELS.build(cfg)).__name__ == cfg['type']


def test_forward_shapes_and_only_final_layer_depends_on_k():
    head = _head(7)
    x, y = head([torch.randn(2, 24, 2, 2)])
    assert tuple(x.shape) == (2, 7, 128) and tuple(y.shape) == (2, 7, 128)
    assert head.in_featuremap_size == (2, 2)  # input // 32
    shapes7 = {k: tuple(v.shape) for k, v in head.state_dict().items()}
    shapes3 = {k: tuple(v.shape) for k, v in _head(3).state_dict().items()}
    assert set(shapes7) == set(shapes3)
    assert {k for k in shapes7 if shapes7[k] != shapes3[k]} == {'final_layer.weight',
                                                                 'final_layer.bias'}
    assert shapes7['final_layer.weight'] == (7, 24, 7, 7)
    assert shapes7['mlp.1.weight'] == (32, 4) and shapes7['gau.uv.weight'] == (2 * 64 + 16, 32)


def test_bad_gau_settings():
    with pytest.raises(ValueError, match='use_rel_bias'):
        _head(gau_cfg=dict(use_rel_bias=True))
    with pytest.raises(ValueError, match="unknown gau_cfg keys \\['heads'\\]"):
        _head(gau_cfg=dict(heads=2))
    with pytest.raises(ValueError, match='out_channels'):
        MODELS.build(dict(type='RTMCCHead', in_channels=8))


def test_loss_weights_and_accuracy():
    head = _head(7)
    feats = [torch.randn(2, 24, 2, 2)]
    samples = _samples(2)
    out = head.loss(feats, samples)
    assert set(out) == {'loss_kpt', 'acc_pose'} and out['loss_kpt'].item() > 0
    for s in samples:
        s.gt_instance_labels.keypoint_weights = torch.zeros(1, 7)
    assert head.loss(feats, samples)['loss_kpt'].item() == 0.0
    target = (np.zeros((1, 2, 10)), np.zeros((1, 2, 20)))
    target[0][0, :, 5] = 1
    target[1][0, :, 10] = 1
    pred = (np.zeros((1, 2, 10)), np.zeros((1, 2, 20)))
    pred[0][0, 0, 5] = pred[1][0, 0, 10] = 1   # point 0 exact
    pred[0][0, 1, 9] = pred[1][0, 1, 10] = 1   # point 1 off by 0.4 of the width
    assert simcc_accuracy(pred, target) == 0.5
    assert simcc_accuracy(pred, target, np.array([[1, 0]])) == 1.0


def test_training_overfits_a_few_samples():
    model = _model().train()
    data = _batch(model, _samples(4), training=True)
    optim = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for _ in range(25):
        out = model(**data, mode='loss')
        optim.zero_grad()
        out['loss_kpt'].backward()
        optim.step()
        losses.append(out['loss_kpt'].item())
    assert losses[-1] < 0.6 * losses[0]


def test_flip_test_output_of_a_mirrored_input_is_the_mirrored_output():
    model = _model(init=False, flip_test=True)
    data = _batch(model, _samples(2))
    _calibrated(model, data)
    inputs = data['inputs']
    with torch.no_grad():
        x, y = model.predict_outputs(inputs, data['data_samples'])
        mx, my = model.predict_outputs(inputs.flip(-1), data['data_samples'])
        fx, fy = flip_vectors(x, y, FLIP7)
        torch.testing.assert_close(mx, fx)
        torch.testing.assert_close(my, fy)
        # The average really uses the table: one forward each way.
        px, py = model(inputs, mode='tensor')
        qx, qy = flip_vectors(*model(inputs.flip(-1), mode='tensor'), FLIP7)
        torch.testing.assert_close(x, 0.5 * (px + qx))
        torch.testing.assert_close(y, 0.5 * (py + qy))
        assert not torch.allclose(x, px, atol=1e-3)
    # Decoded: the mirrored crop's points are the mirrored points, partners swapped.
    kpts = model.head.decode((x, y))[0].keypoints[0]
    mirrored = model.head.decode((mx, my))[0].keypoints[0]
    np.testing.assert_allclose(mirrored[FLIP7, 0], (128 - 1) / 2 - kpts[:, 0])
    np.testing.assert_allclose(mirrored[FLIP7, 1], kpts[:, 1])


def test_predict_maps_to_image_pixels_and_keeps_the_vectors():
    model = _model(init=False, flip_test=False, output_heatmaps=True)
    data = _batch(model, _samples(2))
    _calibrated(model, data)
    with torch.no_grad():
        x, y = model(data['inputs'], mode='tensor')
    out = model(**data, mode='predict')
    crop = model.head.decode((x, y))
    for sample, want in zip(out, crop):
        pred = sample.pred_instances
        assert pred.keypoints.shape == (1, 7, 2) and pred.keypoint_scores.shape == (1, 7)
        np.testing.assert_allclose(pred.keypoints, crop_to_image(
            want.keypoints, SIZE, CENTER, SCALE, False), rtol=1e-6)
        np.testing.assert_allclose(pred.keypoint_scores, want.keypoint_scores)
        assert tuple(sample.pred_instance_labels.keypoint_x_labels.shape) == (1, 7, 128)
        assert tuple(sample.pred_instance_labels.keypoint_y_labels.shape) == (1, 7, 128)
