"""Heatmap head, losses, flip test and the top-down estimator."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData

from customkpt.models import crop_to_image
from customkpt.models.heads import flip_heatmaps
from customkpt.registry import KEYPOINT_CODECS, MODELS
from customkpt.structures import PoseDataSample

CODEC = dict(type='MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=2)
FLIP = [0, 2, 1, 4, 3]


def _estimator(flip_test=False):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='TopdownEstimator', data_preprocessor=dict(type='PoseDataPreprocessor'),
        backbone=dict(type='HRNet', arch='tiny'),
        head=dict(type='HeatmapHead', in_channels=16, out_channels=5, decoder=CODEC),
        test_cfg=dict(flip_test=flip_test)))


def _samples(n, rng):
    codec = KEYPOINT_CODECS.build(CODEC)
    out = []
    for i in range(n):
        kpts = rng.uniform(8, 40, (1, 5, 2)).astype(np.float32)
        enc = codec.encode(kpts, np.ones((1, 5)))
        s = PoseDataSample(metainfo=dict(flip_indices=FLIP, input_size=(48, 64),
                                         input_center=np.array([100.0, 50.0]),
                                         input_scale=np.array([96.0, 128.0])))
        s.gt_fields = PixelData(heatmaps=torch.from_numpy(enc['heatmaps']))
        s.gt_instance_labels = InstanceData(
            keypoint_weights=torch.from_numpy(enc['keypoint_weights']))
        s.gt_instances = InstanceData(bboxes=np.array([[52, -14, 148, 114]], np.float32),
                                      bbox_scores=np.ones(1, np.float32))
        out.append(s)
    return out


def test_losses_respect_weights_and_ohkm_takes_the_hardest():
    pred = torch.zeros(1, 3, 4, 4)
    target = torch.zeros(1, 3, 4, 4)
    target[0, 0] = 1.0   # error 1 per pixel on keypoint 0
    target[0, 1] = 0.5   # 0.25 on keypoint 1
    mse = MODELS.build(dict(type='KeypointMSELoss'))
    assert mse(pred, target, torch.tensor([[1.0, 1.0, 1.0]])).item() == pytest.approx(1.25 / 3)
    assert mse(pred, target, torch.tensor([[0.0, 1.0, 1.0]])).item() == pytest.approx(0.25 / 3)
    ohkm = MODELS.build(dict(type='KeypointOHKMMSELoss', topk=1))
    assert ohkm(pred, target, torch.ones(1, 3)).item() == pytest.approx(1.0)
    ohkm2 = MODELS.build(dict(type='KeypointOHKMMSELoss', topk=2))
    assert ohkm2(pred, target, torch.ones(1, 3)).item() == pytest.approx(0.625)


def test_flip_heatmaps_swaps_partners_and_shifts():
    hm = torch.zeros(1, 5, 4, 6)
    hm[0, 1, 2, 1] = 1.0  # left point at x=1
    out = flip_heatmaps(hm, FLIP, shift=False)
    assert out[0, 2, 2, 4] == 1.0 and out[0, 1].sum() == 0  # now the right slot, x=6-1-1
    shifted = flip_heatmaps(hm, FLIP, shift=True)
    assert shifted[0, 2, 2, 5] == 1.0


def test_crop_to_image_inverts_the_affine_crop():
    center, scale = np.array([100.0, 50.0]), np.array([96.0, 128.0])
    np.testing.assert_allclose(crop_to_image(np.array([[0.0, 0.0], [48.0, 64.0]]), (48, 64),
                                             center, scale), [[52, -14], [148, 114]])
    np.testing.assert_allclose(crop_to_image(np.array([[47.0, 63.0]]), (48, 64), center, scale,
                                             udp=True), [[148, 114]])


def test_training_step_lowers_the_loss():
    model = _estimator()
    rng = np.random.default_rng(0)
    samples = _samples(4, rng)
    inputs = torch.from_numpy(rng.integers(0, 255, (4, 3, 64, 48), dtype=np.uint8))
    optim = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for _ in range(40):
        data = model.data_preprocessor(dict(inputs=list(inputs), data_samples=samples), True)
        loss = model(**data, mode='loss')
        optim.zero_grad()
        loss['loss_kpt'].backward()
        optim.step()
        losses.append(loss['loss_kpt'].item())
    assert losses[-1] < 0.5 * losses[0]
    assert 0.0 <= float(loss['acc_pose']) <= 1.0


def test_predict_maps_peaks_to_image_pixels_with_flip_test():
    model = _estimator(flip_test=True).eval()
    samples = _samples(2, np.random.default_rng(1))
    # Replace the network by known heatmaps: a peak for each point, and on
    # the mirrored input the mirror image with partners swapped.
    peak = torch.zeros(2, 5, 16, 12)
    for k, (x, y) in enumerate([(2, 3), (4, 5), (7, 9), (5, 12), (9, 14)]):
        peak[:, k, y, x] = 1.0
    calls = []

    def fake_head(feats):
        calls.append(1)
        return peak if len(calls) % 2 == 1 else flip_heatmaps(peak, FLIP, shift=False)

    model.head.forward = fake_head
    inputs = torch.zeros(2, 3, 64, 48, dtype=torch.uint8)
    data = model.data_preprocessor(dict(inputs=list(inputs), data_samples=samples), False)
    out = model(**data, mode='predict')
    pred = out[0].pred_instances
    assert pred.keypoints.shape == (1, 5, 2) and pred.keypoint_scores.shape == (1, 5)
    # Head point at heatmap (2, 3): crop (8, 12) -> image 52 + 8*2 = 68, -14 + 12*2 = 10,
    # give or take the quarter-pixel step and the one-pixel flip shift.
    np.testing.assert_allclose(pred.keypoints[0, 0], [68, 10], atol=4.5)
    np.testing.assert_allclose(pred.bboxes, [[52, -14, 148, 114]])
    # Without the partner swap the left/right hands would average into mush.
    np.testing.assert_allclose(pred.keypoints[0, 1], crop_to_image(
        np.array([16.0, 20.0]), (48, 64), [100, 50], [96, 128]), atol=4.5)
    assert pred.keypoint_scores[0, 1] > 0.4
