"""Whole-image transforms: flip + zoom/shift + letterbox keep the points on
their pixels (left/right swapped by the table), and the centre targets are
packed with the instances' classes."""
import numpy as np
import pytest
import torch

from customkpt.core.geometry import crop_to_image
from customkpt.registry import TRANSFORMS

from .common import COLOURS, FLIP, make_sample

CODEC = dict(type='CentreLabel', input_size=(96, 64), stride=4, num_classes=2, num_keypoints=5)


def _two_instances(sample):
    """The common sample with a second, smaller instance of class 1."""
    sample['bbox'] = np.concatenate([sample['bbox'], [[2, 2, 22, 30]]]).astype(np.float32)
    sample['keypoints'] = np.concatenate([sample['keypoints'],
                                          np.full((1, 5, 2), 10, np.float32)])
    sample['keypoints_visible'] = np.array([[1] * 5, [1, 0, 0, 0, 0]], np.float32)
    sample['bbox_label'] = np.array([0, 1])
    sample['bbox_score'] = np.ones(2, np.float32)
    sample['area'] = np.array([7000.0, 560.0], np.float32)
    return sample


@pytest.mark.parametrize('flip', [False, True])
def test_points_stay_on_their_pixels_through_flip_zoom_and_letterbox(flip):
    np.random.seed(1)
    steps = [TRANSFORMS.build(cfg) for cfg in (
        dict(type='RandomFlip', prob=1.0 if flip else 0.0),
        dict(type='RandomImageScaleShift', scale_range=(0.8, 1.2), shift_factor=0.1),
        dict(type='ImageAffine', input_size=(96, 64)))]
    results = make_sample()
    for step in steps:
        results = step(results)
    assert results['img'].shape == (64, 96, 3) and results['input_size'] == (96, 64)
    for k, (x, y) in enumerate(results['transformed_keypoints'][0]):
        colour = results['img'][int(round(y)), int(round(x))].astype(int)
        expected = COLOURS[FLIP[k] if flip else k].astype(int)
        assert np.abs(colour - expected).max() < 40, (k, colour, expected)
    # the input region maps input pixels back onto the image pixels
    back = crop_to_image(results['transformed_keypoints'], results['input_size'],
                         results['input_center'], results['input_scale'])
    np.testing.assert_allclose(back, results['keypoints'], atol=1e-3)
    corners = results['transformed_bboxes'].reshape(-1, 2, 2)
    np.testing.assert_allclose(crop_to_image(corners, (96, 64), results['input_center'],
                                             results['input_scale']).reshape(-1, 4),
                               results['bbox'], atol=1e-3)


def test_letterbox_keeps_the_aspect_ratio_and_centres_the_image():
    results = TRANSFORMS.build(dict(type='ImageAffine', input_size=(96, 64)))(make_sample())
    # a 128 x 160 image on 96 x 64: scale 0.4, 51.2 px wide, centred
    np.testing.assert_allclose(results['input_center'], [64, 80])
    np.testing.assert_allclose(results['input_scale'], [240, 160])
    assert (results['img'][:, :20] == 0).all() and (results['img'][:, -20:] == 0).all()


def test_centre_targets_are_packed_with_the_classes():
    steps = [TRANSFORMS.build(cfg) for cfg in (
        dict(type='ImageAffine', input_size=(96, 64)),
        dict(type='GenerateCentreTarget', encoder=CODEC), dict(type='PackImageInputs'))]
    results = _two_instances(make_sample())
    for step in steps:
        results = step(results)
    sample = results['data_samples']
    assert results['inputs'].shape == (3, 64, 96)
    np.testing.assert_array_equal(sample.gt_instances.labels, [0, 1])
    assert sample.gt_instances.keypoints.shape == (2, 5, 2)
    fields = sample.gt_fields
    assert fields.centre_heatmap.shape == (2, 16, 24) and fields.keypoint_offsets.shape[0] == 10
    assert isinstance(fields.centre_heatmap, torch.Tensor)
    assert float(fields.centre_heatmap[0].max()) == 1.0 == float(fields.centre_heatmap[1].max())
    assert float(fields.centre_weight.sum()) == 2.0
    assert sample.metainfo['input_size'] == (96, 64)


def test_keypoint_heatmap_targets_are_packed_when_the_codec_has_them():
    for heatmaps in (False, True):
        steps = [TRANSFORMS.build(cfg) for cfg in (
            dict(type='ImageAffine', input_size=(96, 64)),
            dict(type='GenerateCentreTarget', encoder=dict(CODEC, keypoint_heatmaps=heatmaps)),
            dict(type='PackImageInputs'))]
        results = _two_instances(make_sample())
        for step in steps:
            results = step(results)
        fields = results['data_samples'].gt_fields
        names = {'keypoint_heatmap', 'keypoint_heatmap_offset', 'keypoint_heatmap_weight'}
        assert (names <= set(fields.keys())) is heatmaps
        if heatmaps:
            assert fields.keypoint_heatmap.shape == (5, 16, 24)
            # six labelled points (five of the first instance, one of the second)
            assert float(fields.keypoint_heatmap_weight.sum()) == 6.0
            assert float(fields.keypoint_heatmap.amax(dim=(1, 2)).min()) == 1.0


def test_target_size_must_match_the_input():
    steps = [TRANSFORMS.build(dict(type='ImageAffine', input_size=(64, 64))),
             TRANSFORMS.build(dict(type='GenerateCentreTarget', encoder=CODEC))]
    results = steps[0](_two_instances(make_sample()))
    with pytest.raises(ValueError, match='expects 96x64'):
        steps[1](results)
    with pytest.raises(TypeError, match='CentreLabel'):
        TRANSFORMS.build(dict(type='GenerateCentreTarget',
                              encoder=dict(type='MSRAHeatmap', input_size=(64, 64),
                                           heatmap_size=(16, 16))))
    with pytest.raises(ValueError, match='scale_range'):
        TRANSFORMS.build(dict(type='RandomImageScaleShift', scale_range=(0, 1)))
