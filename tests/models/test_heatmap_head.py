"""HeatmapHead: layers and key names, loss, accuracy, flip-test averaging."""
import numpy as np
import pytest
import torch

from customkpt.core.flip import flip_heatmaps
from customkpt.models.heads import heatmap_accuracy
from customkpt.registry import MODELS


def _head(synth, **kw):
    torch.manual_seed(0)
    cfg = dict(type='HeatmapHead', in_channels=16, out_channels=5, decoder=synth.codec)
    cfg.update(kw)
    return MODELS.build(cfg)


def test_hrnet_head_is_one_final_layer(synth):
    head = _head(synth, in_channels=32)
    shapes = {k: tuple(v.shape) for k, v in head.state_dict().items()}
    assert shapes == {'final_layer.weight': (5, 32, 1, 1), 'final_layer.bias': (5,)}
    feats = [torch.rand(2, 32, 16, 12)]
    assert head(feats).shape == (2, 5, 16, 12)
    with pytest.raises(ValueError, match='out_channels'):
        MODELS.build(dict(type='HeatmapHead', in_channels=32))


def test_deconv_and_conv_layers(synth):
    head = _head(synth, deconv_out_channels=(8, 8), deconv_kernel_sizes=(4, 3),
                 conv_out_channels=(6,), conv_kernel_sizes=(1,), final_layer_kernel=3)
    keys = set(head.state_dict())
    assert {'deconv_layers.0.weight', 'deconv_layers.1.running_var', 'deconv_layers.3.weight',
            'conv_layers.0.weight', 'final_layer.weight'} <= keys
    assert head.final_layer.weight.shape == (5, 6, 3, 3)
    assert head([torch.rand(1, 16, 8, 6)]).shape == (1, 5, 32, 24)
    with pytest.raises(ValueError, match='deconv kernel'):
        _head(synth, deconv_out_channels=(8,), deconv_kernel_sizes=(5,))


def test_loss_and_zero_weight(synth):
    head = _head(synth)
    samples = synth.make_samples(2)
    samples[0].gt_instance_labels.keypoint_weights[0, 3] = 0.0
    feats = [torch.rand(2, 16, 16, 12)]
    losses = head.loss(feats, samples)
    assert set(losses) == {'loss_kpt', 'acc_pose'}
    assert losses['loss_kpt'].ndim == 0 and losses['loss_kpt'].item() > 0
    assert 0.0 <= losses['acc_pose'].item() <= 1.0
    # The zero-weight keypoint's target does not matter.
    samples[0].gt_fields.heatmaps[3] = 100.0
    assert head.loss(feats, samples)['loss_kpt'].item() == pytest.approx(
        losses['loss_kpt'].item())


def test_heatmap_accuracy():
    target = np.zeros((1, 3, 16, 12), np.float32)
    pred = np.zeros_like(target)
    for k, (x, y) in enumerate([(2, 2), (6, 8), (10, 14)]):
        target[0, k, y, x] = 1
    pred[0, 0, 2, 2] = 1      # exact
    pred[0, 1, 8, 9] = 1      # 3 px off in x: 3/12 > 0.05
    pred[0, 2, 14, 10] = 1    # exact, but weight 0
    weights = np.array([[1, 1, 0]], np.float32)
    assert heatmap_accuracy(pred, target, weights) == pytest.approx(0.5)
    assert heatmap_accuracy(pred, target) == pytest.approx(2 / 3)
    assert heatmap_accuracy(pred, np.zeros_like(target)) == 0.0


def test_predict_decodes_and_flip_averages(synth):
    head = _head(synth)
    feats = [torch.rand(2, 16, 16, 12)]
    flipped = [torch.rand(2, 16, 16, 12)]
    preds = head.predict(feats, None, dict(flip_test=False))
    assert len(preds) == 2
    assert preds[0].keypoints.shape == (1, 5, 2) and preds[0].keypoint_scores.shape == (1, 5)
    assert preds[0].keypoints.dtype == np.float32
    cfg = dict(flip_test=True, shift_heatmap=True)
    averaged = head.predict_outputs((feats, flipped), synth.flip, cfg)
    want = 0.5 * (head(feats) + flip_heatmaps(head(flipped), synth.flip, shift=True))
    torch.testing.assert_close(averaged, want)
    unshifted = head.predict_outputs((feats, flipped), synth.flip, dict(cfg, shift_heatmap=False))
    torch.testing.assert_close(
        unshifted, 0.5 * (head(feats) + flip_heatmaps(head(flipped), synth.flip, shift=False)))
    # Per-sample tables (B, K) are accepted.
    per_sample = head.predict_outputs((feats, flipped), [synth.flip, list(range(5))], cfg)
    torch.testing.assert_close(per_sample[0], want[0])
    assert not torch.allclose(per_sample[1], want[1])
    # Without a table the flip test refuses to guess.
    with pytest.raises(KeyError, match='flip_indices'):
        head.predict_outputs((feats, flipped), None, cfg)
    with pytest.raises(ValueError, match='flip_mode'):
        head.predict_outputs((feats, flipped), synth.flip, dict(cfg, flip_mode='feature'))
    with pytest.raises(RuntimeError, match='decoder'):
        _head(synth, decoder=None).predict(feats, None, dict(flip_test=False))
