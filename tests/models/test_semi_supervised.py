"""UnlabelledLosses inside TopdownEstimator: the labelled half of the batch
trains as before, the unlabelled clips are decoded into image pixels for
the unsupervised losses."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from customkpt.core.geometry import crop_to_image
from customkpt.models.losses import KLDiscretLoss
from customkpt.models.losses.unsupervised_shape import gaussian_heatmaps, gaussian_vectors
from customkpt.models.semi_supervised import UnlabelledLosses
from customkpt.registry import KEYPOINT_CODECS, MODELS
from customkpt.structures import PoseDataSample

LOSSES = dict(temporal=dict(type='TemporalDifferenceLoss', dead_zone=1.0),
              shape=dict(type='HeatmapShapeLoss'))


def _estimator(synth, semi=None):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='TopdownEstimator', backbone=dict(type='HRNet', arch='tiny'),
        head=dict(type='HeatmapHead', in_channels=16, out_channels=5, decoder=synth.codec),
        metainfo=synth.meta, semi_supervised=semi))


def _frames(synth, clips, length=3, centre_shift=0.0):
    """``clips x length`` unlabelled samples in clip order."""
    out = []
    for c in range(clips):
        for t in range(length):
            sample = PoseDataSample(metainfo=dict(
                unlabelled=True, clip_frame=t, clip_length=length, input_size=(48, 64),
                input_center=synth.center + centre_shift * t, input_scale=synth.scale.copy()))
            sample.gt_instances = InstanceData(bboxes=synth.bbox.copy(),
                                               bbox_scores=np.ones(1, np.float32))
            out.append(sample)
    return out


def _inputs(n, seed=0):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.uniform(-1, 1, (n, 3, 64, 48)).astype(np.float32))


def test_labelled_losses_are_those_of_the_labelled_samples_alone(synth):
    plain = _estimator(synth).eval()          # eval: BatchNorm does not mix the samples
    semi = _estimator(synth, dict(losses=LOSSES)).eval()
    semi.load_state_dict(plain.state_dict())   # the losses add no checkpoint keys
    assert plain.state_dict().keys() == semi.state_dict().keys()
    labelled = synth.make_samples(2)
    inputs = _inputs(2 + 6)
    with torch.no_grad():
        want = plain.loss(inputs[:2], labelled)
        got = semi.loss(inputs, labelled + _frames(synth, 2))
    torch.testing.assert_close(got['loss_kpt'], want['loss_kpt'])
    assert set(got) == {'loss_kpt', 'acc_pose', 'loss_temporal', 'loss_shape'}
    assert all(torch.isfinite(got[k]) for k in ('loss_temporal', 'loss_shape'))


def test_a_batch_without_clips_reports_zero_unsupervised_losses(synth):
    model = _estimator(synth, dict(losses=LOSSES))
    losses = model.loss(_inputs(2), synth.make_samples(2))
    assert losses['loss_temporal'].item() == 0 and losses['loss_shape'].item() == 0


def test_the_ramp_weight_scales_every_unsupervised_loss(synth):
    model = _estimator(synth, dict(losses=LOSSES)).eval()
    batch = (_inputs(5), synth.make_samples(2) + _frames(synth, 1))
    with torch.no_grad():
        full = model.loss(*batch)
        model.unlabelled.weight = 0.25
        ramped = model.loss(*batch)
    for key in ('loss_temporal', 'loss_shape'):
        torch.testing.assert_close(ramped[key], 0.25 * full[key])
    torch.testing.assert_close(ramped['loss_kpt'], full['loss_kpt'])


def test_unlabelled_frames_must_come_as_whole_ordered_clips(synth):
    model = _estimator(synth, dict(losses=LOSSES))
    frames = _frames(synth, 1)
    frames[0], frames[1] = frames[1], frames[0]
    with pytest.raises(ValueError, match='whole clips'):
        model.loss(_inputs(5), synth.make_samples(2) + frames)
    with pytest.raises(ValueError, match='needs labelled samples'):
        model.loss(_inputs(3), _frames(synth, 1))


def test_heatmap_peaks_are_decoded_into_image_pixels(synth):
    losses = UnlabelledLosses(LOSSES)
    codec = KEYPOINT_CODECS.build(synth.codec)
    head = SimpleNamespace(decoder=codec)
    peaks = torch.tensor([[3.2, 4.6], [9.0, 12.5]]).expand(3, 2, 2).contiguous()
    frames = _frames(synth, 1, centre_shift=10.0)
    batch = losses.make_batch(head, gaussian_heatmaps(peaks, (12, 16), 2.0), frames)
    torch.testing.assert_close(batch.peaks, peaks, atol=0.01, rtol=0)
    crop = peaks.numpy() * codec.scale_factor
    for t, sample in enumerate(frames):
        want = crop_to_image(crop[t:t + 1], (48, 64), sample.metainfo['input_center'],
                             synth.scale)
        np.testing.assert_allclose(batch.keypoints[t].numpy(), want[0], atol=0.05)
    # The crops move 10 px right per frame and the points stay in the crop:
    moves = batch.clip_keypoints[0, 1:] - batch.clip_keypoints[0, :-1]
    np.testing.assert_allclose(moves[..., 0].numpy(), 10.0, atol=1e-3)


def test_simcc_vectors_are_decoded_with_the_head_beta(synth):
    codec = KEYPOINT_CODECS.build(dict(type='SimCCLabel', input_size=(48, 64), sigma=3.0))
    head = SimpleNamespace(decoder=codec, loss_module=KLDiscretLoss(beta=7.0))
    bins = torch.tensor([[30.0, 50.0]])                    # (x bin, y bin) of one keypoint
    vectors = (gaussian_vectors(bins[..., :1].expand(3, 1), 96, 3.0),
               gaussian_vectors(bins[..., 1:].expand(3, 1), 128, 3.0))
    batch = UnlabelledLosses(dict(temporal=dict(type='TemporalDifferenceLoss'))).make_batch(
        head, vectors, _frames(synth, 1))
    assert batch.beta == 7.0
    torch.testing.assert_close(batch.peaks[0, 0], bins[0], atol=0.01, rtol=0)
    want = crop_to_image(bins.numpy()[None] / 2.0, (48, 64), synth.center, synth.scale)
    np.testing.assert_allclose(batch.keypoints[0].numpy(), want[0], atol=0.05)


def test_an_ema_copy_made_before_the_subspace_fit_still_swaps(synth):
    # EMAHook copies the model before SemiSupervisedHook fits the subspace,
    # and before validation swaps every parameter and buffer of the two; the
    # subspace must not be a buffer that the copy lacks.
    from mmengine.model import ExponentialMovingAverage
    model = _estimator(synth, dict(losses=dict(pca=dict(type='PoseSubspaceLoss'))))
    ema = ExponentialMovingAverage(model, update_buffers=True)
    model.unlabelled.losses['pca'].set_subspace(np.zeros(10), np.eye(10)[:3])
    ema.update_parameters(model)
    for averaged, source in zip(ema.module.buffers(), model.buffers()):   # EMAHook's swap
        averaged.data.copy_(source.data)
    assert not any('unlabelled' in key for key in model.state_dict())


def test_the_flip_loss_compares_each_frame_with_its_mirror_image(synth):
    from customkpt.core.flip import flip_heatmaps
    semi = dict(losses=dict(flip=dict(type='FlipConsistencyLoss')))
    model = _estimator(synth, semi).eval()     # eval: the extra crops do not move BatchNorm
    labelled, frames = synth.make_samples(2), _frames(synth, 2)
    inputs = _inputs(2 + 6)
    with torch.no_grad():
        got = model.loss(inputs, labelled + frames)
        heatmaps = model.head(model.extract_feat(inputs[2:]))
        mirrored = flip_heatmaps(model.head(model.extract_feat(inputs[2:].flip(-1))),
                                 model.flip_indices(), shift=True)
        plain = _estimator(synth).eval()
        plain.load_state_dict(model.state_dict())
        want_kpt = plain.loss(inputs[:2], labelled)['loss_kpt']
    assert model.flip_indices() != list(range(5))        # the table swaps left and right
    torch.testing.assert_close(got['loss_flip'], ((heatmaps - mirrored) ** 2).mean())
    torch.testing.assert_close(got['loss_kpt'], want_kpt)
    assert got['loss_flip'].item() > 0


def test_a_view_loss_gets_the_outputs_of_its_own_crops_beside_the_mirrored_ones(synth):
    from customkpt.core.flip import flip_heatmaps
    semi = dict(losses=dict(flip=dict(type='FlipConsistencyLoss'),
                            augment=dict(type='AugmentedPseudoLabelLoss', score_thr=0.0)))
    model = _estimator(synth, semi).eval()
    labelled, frames = synth.make_samples(2), _frames(synth, 2)
    inputs = _inputs(2 + 6)
    torch.manual_seed(3)
    with torch.no_grad():
        got = model.loss(inputs, labelled + frames)
        torch.manual_seed(3)                       # the same draws again
        views, affines = model.unlabelled.losses['augment'].make_view(inputs[2:])
        heatmaps = model.head(model.extract_feat(inputs[2:]))
        view_out = model.head(model.extract_feat(views))
        mirrored = flip_heatmaps(model.head(model.extract_feat(inputs[2:].flip(-1))),
                                 model.flip_indices(), shift=True)
        batch = model.unlabelled.make_batch(model.head, heatmaps, frames)
        want = model.unlabelled.losses['augment'].compute(batch, view_out, affines)
    assert not np.allclose(affines[:, :, :2], np.eye(2))
    torch.testing.assert_close(got['loss_flip'], ((heatmaps - mirrored) ** 2).mean())
    torch.testing.assert_close(got['loss_augment'], want)
    assert got['loss_augment'].item() > 0


def test_mirrored_simcc_vectors_and_heatmaps_are_mirrored_back_with_the_model_table():
    table = [1, 0, 2]
    model = SimpleNamespace(flip_indices=lambda samples: table,
                            test_cfg=dict(shift_heatmap=False))
    x, y = torch.rand(2, 3, 8), torch.rand(2, 3, 5)
    fx, fy = UnlabelledLosses.unflip(model, (x, y), [])
    torch.testing.assert_close(fx, x[:, table].flip(-1))
    torch.testing.assert_close(fy, y[:, table])
    heatmaps = torch.rand(2, 3, 4, 6)
    torch.testing.assert_close(UnlabelledLosses.unflip(model, heatmaps, []),
                               heatmaps[:, table].flip(-1))
