"""GenerateTarget, PackPoseInputs and a seeded end-to-end pipeline."""
import random

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData

from customkpt.datasets.transforms import DEFAULT_META_KEYS
from customkpt.registry import KEYPOINT_CODECS
from customkpt.structures import PoseDataSample

from .common import FLIP, KPTS, build, dotted_image, make_sample, run

INPUT, HEATMAP = (48, 64), (12, 16)
MSRA = dict(type='MSRAHeatmap', input_size=INPUT, heatmap_size=HEATMAP, sigma=2)
UDP = dict(type='UDPHeatmap', input_size=INPUT, heatmap_size=HEATMAP, sigma=2)


def _cropped(use_udp=False, sample=None):
    pipeline = [build(dict(type='GetBBoxCenterScale')),
                build(dict(type='TopdownAffine', input_size=INPUT, use_udp=use_udp))]
    return run(pipeline, sample or make_sample())


def _peak(heatmap):
    y, x = np.unravel_index(np.argmax(heatmap), heatmap.shape)
    return np.array([x, y])


@pytest.mark.parametrize('codec,use_udp', [(MSRA, False), (UDP, True)])
def test_target_weights_zero_for_unlabelled_and_out_of_crop_points(codec, use_udp):
    sample = make_sample()
    sample['keypoints_visible'][0, 3] = 0
    # A tight box around point 0 and 2: points 1, 3 and 4 fall far outside the crop.
    sample['bbox'] = np.array([[58, 28, 87, 67]], np.float32)
    sample['keypoints'][0, 1] = [5, 150]
    r = build(dict(type='GenerateTarget', encoder=codec))(_cropped(use_udp, sample))
    tk = r['transformed_keypoints'][0]
    assert tk[1, 0] < -30 and tk[4, 1] > INPUT[1] + 30  # well beyond the Gaussian's reach
    assert ((tk[[0, 2]] >= 0) & (tk[[0, 2]] < INPUT)).all()
    np.testing.assert_array_equal(r['keypoint_weights'], [[1, 0, 1, 0, 0]])
    assert r['keypoint_weights'].dtype == np.float32 and r['keypoint_weights'].shape == (1, 5)
    assert r['heatmaps'].shape == (5, 16, 12) and r['heatmaps'].dtype == np.float32
    assert r['heatmaps'][[1, 3, 4]].max() == 0 and r['heatmaps'][[0, 2]].max() > 0.5
    scale = (np.array(HEATMAP) - 1) / (np.array(INPUT) - 1) if use_udp else \
        np.array(HEATMAP) / np.array(INPUT)
    for k in (0, 2):
        assert np.abs(_peak(r['heatmaps'][k]) - tk[k] * scale).max() <= 0.5 + 1e-6


def test_dataset_keypoint_weights_multiply_when_asked():
    joint = np.array([1.0, 1.5, 2.0, 1.0, 0.5], np.float32)
    r = _cropped()
    r['keypoints_visible'][0, 0] = 0
    r['dataset_keypoint_weights'] = joint
    off = build(dict(type='GenerateTarget', encoder=MSRA))(dict(r))
    on = build(dict(type='GenerateTarget', encoder=MSRA,
                    use_dataset_keypoint_weights=True))(dict(r))
    np.testing.assert_array_equal(off['keypoint_weights'], [[0, 1, 1, 1, 1]])
    np.testing.assert_allclose(on['keypoint_weights'], [[0, 1.5, 2.0, 1.0, 0.5]])
    assert on['keypoint_weights'].dtype == np.float32 and on['keypoint_weights'].shape == (1, 5)
    del r['dataset_keypoint_weights']
    missing = build(dict(type='GenerateTarget', encoder=MSRA, use_dataset_keypoint_weights=True))
    np.testing.assert_array_equal(missing(dict(r))['keypoint_weights'], [[0, 1, 1, 1, 1]])


def test_codec_object_is_accepted():
    codec = KEYPOINT_CODECS.build(MSRA)
    t = build(dict(type='GenerateTarget', encoder=codec))
    assert t.encoder is codec and t(_cropped())['heatmaps'].shape == (5, 16, 12)
    with pytest.raises(TypeError, match='codec'):
        build(dict(type='GenerateTarget', encoder=42))


def _packed(**extra):
    r = _cropped()
    r['head_size'] = np.array([12.0], np.float32)
    r = build(dict(type='GenerateTarget', encoder=MSRA))(r)
    r.update(flip=False, flip_direction=None, **extra)
    return r, build(dict(type='PackPoseInputs'))(dict(r))


def test_pack_matches_the_documented_layout():
    r, packed = _packed()
    assert set(packed) == {'inputs', 'data_samples'}
    inputs = packed['inputs']
    assert isinstance(inputs, torch.Tensor) and inputs.dtype == torch.uint8
    assert inputs.shape == (3, 64, 48) and inputs.is_contiguous()
    np.testing.assert_array_equal(inputs.numpy(), r['img'].transpose(2, 0, 1))  # BGR kept
    s = packed['data_samples']
    assert isinstance(s, PoseDataSample)
    assert set(s.metainfo) == set(DEFAULT_META_KEYS)
    assert s.metainfo['input_size'] == INPUT and s.metainfo['flip_indices'] == FLIP
    assert s.metainfo['img_shape'] == (64, 48) and s.metainfo['ori_shape'] == (160, 128)
    gt = s.gt_instances
    assert isinstance(gt, InstanceData)
    shapes = dict(bboxes=(1, 4), bbox_scores=(1,), keypoints=(1, 5, 2), keypoints_visible=(1, 5),
                  areas=(1,), head_size=(1,))
    assert set(gt.keys()) == set(shapes)
    for field, shape in shapes.items():
        value = gt.get(field)
        assert isinstance(value, np.ndarray) and value.dtype == np.float32, field
        assert value.shape == shape, field
    np.testing.assert_array_equal(gt.keypoints, KPTS)  # image pixels, not crop pixels
    assert isinstance(s.gt_fields, PixelData)
    heatmaps = s.gt_fields.heatmaps
    assert isinstance(heatmaps, torch.Tensor) and heatmaps.dtype == torch.float32
    assert heatmaps.shape == (5, 16, 12)
    weights = s.gt_instance_labels.keypoint_weights
    assert isinstance(weights, torch.Tensor) and weights.dtype == torch.float32
    assert weights.shape == (1, 5)


SIMCC = dict(type='SimCCLabel', input_size=INPUT, sigma=(2.0, 2.0), simcc_split_ratio=2.0)


def test_simcc_target_and_packing():
    sample = make_sample()
    sample['keypoints_visible'][0, 3] = 0
    sample['bbox'] = np.array([[58, 28, 87, 67]], np.float32)  # points 1, 3, 4 far outside
    sample['keypoints'][0, 1] = [5, 150]
    r = build(dict(type='GenerateTarget', encoder=SIMCC))(_cropped(False, sample))
    assert 'heatmaps' not in r
    np.testing.assert_array_equal(r['keypoint_weights'], [[1, 0, 1, 0, 0]])
    x, y = r['keypoint_x_labels'], r['keypoint_y_labels']
    assert x.shape == (1, 5, 96) and y.shape == (1, 5, 128) and x.dtype == np.float32
    tk = r['transformed_keypoints'][0]
    for k in (0, 2):
        assert abs(x[0, k].argmax() / 2 - tk[k, 0]) <= 0.25 + 1e-6
        assert abs(y[0, k].argmax() / 2 - tk[k, 1]) <= 0.25 + 1e-6
    assert x[0, [1, 3, 4]].max() == 0
    s = build(dict(type='PackPoseInputs'))(dict(r))['data_samples']
    labels = s.gt_instance_labels
    assert set(labels.keys()) == {'keypoint_weights', 'keypoint_x_labels', 'keypoint_y_labels'}
    for key, shape in [('keypoint_x_labels', (1, 5, 96)), ('keypoint_y_labels', (1, 5, 128)),
                       ('keypoint_weights', (1, 5))]:
        value = labels.get(key)
        assert isinstance(value, torch.Tensor) and value.dtype == torch.float32, key
        assert tuple(value.shape) == shape, key
    np.testing.assert_array_equal(labels.keypoint_x_labels.numpy(), x)
    assert 'gt_fields' not in s


def test_pack_without_targets_or_annotations():
    img = np.zeros((8, 6, 3), np.uint8)
    packed = build(dict(type='PackPoseInputs', meta_keys=('img_id', 'missing')))(
        dict(img=img, img_id=3, area=5.0, bbox=np.array([1, 2, 3, 4], np.float32)))
    s = packed['data_samples']
    assert s.metainfo == {'img_id': 3}
    assert 'gt_fields' not in s and 'gt_instance_labels' not in s
    assert s.gt_instances.areas.shape == (1,) and s.gt_instances.bboxes.shape == (1, 4)
    gray = build(dict(type='PackPoseInputs'))(dict(img=np.zeros((8, 6), np.uint8)))
    assert gray['inputs'].shape == (1, 8, 6)


def test_seeded_training_pipeline_is_deterministic(tmp_path):
    path = tmp_path / 'dots.png'
    cv2.imwrite(str(path), dotted_image())
    cfgs = [dict(type='LoadImage', cache='disk', cache_dir=str(tmp_path / 'cache')),
            dict(type='GetBBoxCenterScale', padding=1.25),
            dict(type='RandomFlip', prob=0.5),
            dict(type='RandomHalfBody', prob=0.3, min_total_keypoints=1, upper_body_ids=[0, 1, 2],
                 lower_body_ids=[3, 4]),
            dict(type='RandomBBoxTransform'),
            dict(type='TopdownAffine', input_size=INPUT),
            dict(type='PhotometricDistortion'),
            dict(type='GenerateTarget', encoder=MSRA),
            dict(type='PackPoseInputs')]
    pipeline = [build(c) for c in cfgs]

    def outputs(seed):
        np.random.seed(seed)
        random.seed(seed)
        samples = []
        for _ in range(4):
            s = make_sample()
            del s['img']
            s['img_path'] = str(path)
            samples.append(run(pipeline, s))
        return samples

    a, b, c = outputs(0), outputs(0), outputs(1)  # cold cache, then warm
    for pa, pb in zip(a, b):
        assert torch.equal(pa['inputs'], pb['inputs'])
        assert torch.equal(pa['data_samples'].gt_fields.heatmaps,
                           pb['data_samples'].gt_fields.heatmaps)
        assert pa['data_samples'].metainfo['flip'] == pb['data_samples'].metainfo['flip']
    assert any(not torch.equal(pa['inputs'], pc['inputs']) for pa, pc in zip(a, c))
