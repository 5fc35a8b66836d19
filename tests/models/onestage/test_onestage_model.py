"""OneStageEstimator: the loss falls on a fixed batch, predictions are mirror
equivariant under flip test with an asymmetric K=7 table (with and without
keypoint heatmaps), the keypoint-heatmap losses on hand-made maps, a
detector has no keypoint branch, and the parts refuse what does not fit."""
import logging

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.structures import PixelData

from customkpt.codecs import CentreLabel, build_codec
from customkpt.core.flip import flip_boxes, flip_keypoints
from customkpt.registry import MODELS
from customkpt.structures import PoseDataSample

FLIP7 = [0, 4, 5, 3, 1, 2, 6]
META = dict(dataset_name='seven', keypoint_names=[f'p{i}' for i in range(7)],
            flip_pairs=[[1, 4], [2, 5]], sigmas=[0.05] * 7)
SIZE = (64, 64)


def build(num_keypoints=7, flip_test=False, num_classes=2, **decoder):
    codec = dict(type='CentreLabel', input_size=SIZE, stride=4, num_classes=num_classes,
                 num_keypoints=num_keypoints, **decoder)
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='OneStageEstimator', metainfo=META, category_ids=[3, 7][:num_classes],
        backbone=dict(type='CSPNeXt', deepen_factor=0.167, widen_factor=0.125,
                      out_indices=(1, 2, 3, 4)),
        neck=dict(type='LiteFPN', in_channels=[16, 32, 64, 128], out_channels=16),
        head=dict(type='CentreHead', in_channels=16, feat_channels=16, decoder=codec),
        test_cfg=dict(flip_test=flip_test)))


def batch(n=2, seed=0, keypoint_heatmaps=False):
    """Inputs (n, 3, 64, 64) and samples with the codec's targets."""
    rng = np.random.default_rng(seed)
    codec = CentreLabel(SIZE, stride=4, num_classes=2, num_keypoints=7,
                        keypoint_heatmaps=keypoint_heatmaps)
    samples = []
    for _ in range(n):
        centres = rng.uniform(16, 48, (2, 2))
        boxes = np.concatenate([centres - 10, centres + 10], 1)
        kpts = rng.uniform(boxes[:, None, :2], boxes[:, None, 2:], (2, 7, 2))
        maps = codec.encode(boxes, np.array([0, 1]), kpts, np.ones((2, 7)))
        sample = PoseDataSample(metainfo=dict(input_size=SIZE, input_center=np.array([32., 32.]),
                                              input_scale=np.array([64., 64.]), ori_shape=SIZE))
        sample.gt_fields = PixelData(**{k: torch.from_numpy(v) for k, v in maps.items()})
        samples.append(sample)
    return torch.from_numpy(rng.normal(0, 1, (n, 3, 64, 64)).astype(np.float32)), samples


@pytest.mark.parametrize('heatmaps', [False, True])
def test_loss_decreases_on_a_fixed_batch(heatmaps):
    model = build(keypoint_heatmaps=heatmaps)
    inputs, samples = batch(keypoint_heatmaps=heatmaps)
    optim = torch.optim.Adam(model.parameters(), lr=3e-3)
    totals = []
    names = {'loss_centre', 'loss_size', 'loss_offset', 'loss_kpt', 'loss_vis'}
    if heatmaps:
        names |= {'loss_kpt_heatmap', 'loss_kpt_heatmap_offset'}
    for _ in range(12):
        losses = model(inputs, samples, mode='loss')
        assert set(losses) == names
        total = sum(losses.values())
        optim.zero_grad()
        total.backward()
        optim.step()
        totals.append(float(total.detach()))
    assert all(np.isfinite(totals)) and totals[-1] < 0.6 * totals[0], totals


def _samples(n, clip=True):
    meta = dict(input_size=SIZE, input_center=np.array([32., 32.]),
                input_scale=np.array([64., 64.]))
    if clip:  # boxes are clipped to an image of ori_shape
        meta['ori_shape'] = SIZE
    return [PoseDataSample(metainfo=dict(meta)) for _ in range(n)]


def _predict(model, inputs, clip=True):
    return [s.pred_instances for s in model.predict(inputs, _samples(len(inputs), clip))]


@pytest.mark.parametrize('heatmaps', [False, True])
def test_flip_test_predictions_are_mirror_equivariant_with_the_table(heatmaps):
    """Mirroring the image mirrors every object and swaps its points by the
    definition's table (not the identity); with keypoint heatmaps, the
    snapped points too."""
    model = build(flip_test=True, max_detections=6, nms='none', score_thr=0.0,
                  keypoint_heatmaps=heatmaps, snap_distance=None).eval()
    with torch.no_grad():  # distinct scores and boxes of some size from random weights
        torch.nn.init.normal_(model.head.branches['centre_heatmap'][-1].weight, std=1.0)
        model.head.branches['box_size'][-1].bias.fill_(3.0)
        if heatmaps:     # distinct peaks, many of them above peak_thr
            torch.nn.init.normal_(model.head.branches['keypoint_heatmap'][-1].weight, std=1.0)
            model.head.branches['keypoint_heatmap'][-1].bias.fill_(0.0)
    inputs, _ = batch(1)
    plain, = _predict(model, inputs, clip=False)
    mirrored, = _predict(model, inputs.flip(-1), clip=False)
    assert len(plain) == len(mirrored) == 6
    assert len(np.unique(plain.bbox_scores)) == 6
    order = [int(np.abs(mirrored.bbox_scores - s).argmin()) for s in plain.bbox_scores]
    back_boxes = flip_boxes(mirrored.bboxes[order], SIZE[0])
    back_kpts, back_scores = flip_keypoints(mirrored.keypoints[order],
                                            mirrored.keypoint_scores[order], SIZE[0], FLIP7)
    np.testing.assert_allclose(back_boxes, plain.bboxes, atol=1e-3)
    np.testing.assert_allclose(back_kpts, plain.keypoints, atol=1e-3)
    np.testing.assert_allclose(back_scores, plain.keypoint_scores, atol=1e-5)
    np.testing.assert_array_equal(mirrored.labels[order], plain.labels)
    assert set(plain.category_ids.tolist()) <= {3, 7}
    if heatmaps:  # the peaks moved some of the points, not all
        with torch.no_grad():
            outputs = {n: v.numpy() for n, v in model.predict_outputs(inputs, _samples(1)).items()}
        refined = model.head.decoder.batch_decode(**outputs)[0]
        alone = build_codec(dict(model.head.decoder.to_dict(), keypoint_heatmaps=False)
                            ).batch_decode(**outputs)[0]
        moved = np.abs(refined['keypoints'] - alone['keypoints']).max(-1) > 1e-3
        assert 3 < moved.sum() < moved.size
        assert (refined['keypoint_scores'] != alone['keypoint_scores'])[moved].all()


def test_a_detector_has_no_keypoint_branch():
    model = build(num_keypoints=0).eval()
    assert model.head.out_channels is None and not model.with_keypoints
    assert set(model.head.branches) == {'centre_heatmap', 'box_size', 'centre_offset'}
    pred, = _predict(model, batch(1)[0])
    assert 'keypoints' not in pred and pred.bboxes.shape[1] == 4


def test_parts_refuse_what_does_not_fit():
    with pytest.raises(ValueError, match='category_ids'):
        MODELS.build(dict(
            type='OneStageEstimator', category_ids=[1, 2, 3],
            backbone=dict(type='CSPNeXt', widen_factor=0.125, out_indices=(1, 2, 3, 4)),
            neck=dict(type='LiteFPN', in_channels=[16, 32, 64, 128], out_channels=16),
            head=dict(type='CentreHead', in_channels=16,
                      decoder=dict(type='CentreLabel', input_size=SIZE, num_classes=2))))
    with pytest.raises(ValueError, match='oks_sigmas'):
        MODELS.build(dict(type='CentreHead', in_channels=16, keypoint_loss='oks',
                          decoder=dict(type='CentreLabel', input_size=SIZE, num_keypoints=7)))
    with pytest.raises(ValueError, match='CentreLabel'):
        MODELS.build(dict(type='CentreHead', in_channels=16,
                          decoder=dict(type='MSRAHeatmap', input_size=SIZE,
                                       heatmap_size=(16, 16))))
    model = build().eval()
    bad = PoseDataSample(metainfo=dict(input_size=(32, 32), input_center=np.array([16., 16.]),
                                       input_scale=np.array([32., 32.])))
    with pytest.raises(ValueError, match='input_size'):
        model.predict(torch.zeros(1, 3, 64, 64), [bad])


def test_oks_keypoint_loss_trains_too():
    model = build()
    model.head.keypoint_loss, model.head.oks_sigmas = 'oks', META['sigmas']
    inputs, samples = batch()
    losses = model(inputs, samples, mode='loss')
    assert 0 < float(losses['loss_kpt']) <= 1
    losses['loss_kpt'].backward()
    assert model.head.branches['keypoint_offsets'][-1].weight.grad.abs().sum() > 0


def test_keypoint_heatmap_outputs_and_their_losses_on_hand_made_maps():
    """The head has the two outputs (heatmap probabilities, offsets); on 2 x 2
    maps with zero logits (p = 0.5) the focal loss is 0.25 ln 2 at the one
    point, 0.0625 * 0.25 ln 2 at the cell of target 0.5 and 0.25 ln 2 at each
    zero cell; the offset's L1 counts the labelled cell only."""
    model = build(num_keypoints=1, num_classes=1, keypoint_heatmaps=True)
    outputs = model.predict_outputs(torch.zeros(2, 3, 64, 64))
    assert outputs['keypoint_heatmap'].shape == (2, 1, 16, 16)
    assert outputs['keypoint_heatmap_offset'].shape == (2, 2, 16, 16)
    assert 0 < float(outputs['keypoint_heatmap'].min()) <= float(
        outputs['keypoint_heatmap'].max()) < 1
    head = MODELS.build(dict(type='CentreHead', in_channels=16, loss_weights=dict(
        keypoint_heatmap=2.0), decoder=dict(type='CentreLabel', input_size=(8, 8), stride=4,
                                            num_keypoints=1, keypoint_heatmaps=True)))
    zeros = {n: torch.zeros(1, c, 2, 2) for n, c in head.decoder.output_channels().items()}
    raw = dict(zeros, keypoint_heatmap_offset=torch.tensor([[[[0.5, 9.0], [9.0, 9.0]],
                                                             [[0.5, 9.0], [9.0, 9.0]]]]))
    targets = dict(zeros, centre_weight=torch.zeros(1, 1, 2, 2), keypoint_visibility=zeros[
        'keypoint_scores'], keypoint_heatmap=torch.tensor([[[[1.0, 0.5], [0.0, 0.0]]]]),
        keypoint_heatmap_offset=torch.tensor([[[[0.25, 0], [0, 0]], [[0.75, 0], [0, 0]]]]),
        keypoint_heatmap_weight=torch.tensor([[[[1.0, 0], [0, 0]]]]))
    losses = head.loss_by_outputs(raw, targets)
    ln2 = float(np.log(2))
    np.testing.assert_allclose(float(losses['loss_kpt_heatmap']),
                               2.0 * (0.25 * ln2 + 0.0625 * 0.25 * ln2 + 2 * 0.25 * ln2),
                               rtol=1e-5)
    np.testing.assert_allclose(float(losses['loss_kpt_heatmap_offset']), 0.25, rtol=1e-6)
    inputs, samples = batch(1)          # targets without the keypoint heatmaps
    with pytest.raises(KeyError, match='keypoint_heatmap'):
        build(keypoint_heatmaps=True)(inputs, samples, mode='loss')


def test_weights_without_keypoint_heatmaps_are_named():
    """A checkpoint of a model trained without keypoint heatmaps loads into
    one with them only with a warning that names the knob."""
    old = build(keypoint_heatmaps=False).state_dict()
    model = build(keypoint_heatmaps=True)
    logger = MMLogger.get_current_instance()
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger.addHandler(handler)
    try:
        model.load_state_dict(old, strict=False)
        assert any('keypoint_heatmaps = False' in m for m in messages)
        messages.clear()
        model.load_state_dict(model.state_dict())
        assert not any('keypoint_heatmaps' in m for m in messages)
    finally:
        logger.removeHandler(handler)
