"""Small synthetic top-down samples for the model tests: 64x48 crops,
16x12 heatmaps, five keypoints (0 unpaired, 1<->2 and 3<->4 partners)."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData

from customkpt.registry import KEYPOINT_CODECS
from customkpt.structures import PoseDataSample

CODEC = dict(type='MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=2)
FLIP = [0, 2, 1, 4, 3]
# The keypoint definition behind FLIP, as a model's ``metainfo``.
META = dict(dataset_name='toy', keypoint_names=['nose', 'left_a', 'right_a', 'left_b', 'right_b'],
            flip_pairs=[[1, 2], [3, 4]], sigmas=[0.05] * 5)
CENTER = np.array([100.0, 50.0], np.float32)
SCALE = np.array([96.0, 128.0], np.float32)   # twice the 48x64 crop
BBOX = np.array([[52.0, -14.0, 148.0, 114.0]], np.float32)


def make_samples(n, seed=0, flip_indices=FLIP):
    """``n`` PoseDataSamples with encoded targets and the crop metainfo."""
    rng = np.random.default_rng(seed)
    codec = KEYPOINT_CODECS.build(CODEC)
    samples = []
    for _ in range(n):
        kpts = rng.uniform(6, 42, (1, 5, 2)).astype(np.float32)
        enc = codec.encode(kpts, np.ones((1, 5), np.float32))
        sample = PoseDataSample(metainfo=dict(
            flip_indices=list(flip_indices), input_size=(48, 64), input_center=CENTER.copy(),
            input_scale=SCALE.copy()))
        sample.gt_fields = PixelData(heatmaps=torch.from_numpy(enc['heatmaps']))
        sample.gt_instance_labels = InstanceData(
            keypoint_weights=torch.from_numpy(enc['keypoint_weights']))
        sample.gt_instances = InstanceData(bboxes=BBOX.copy(),
                                           bbox_scores=np.array([0.9], np.float32),
                                           keypoints=kpts / 48 * 96 + CENTER - SCALE / 2)
        samples.append(sample)
    return samples


@pytest.fixture
def synth():
    """The sample factory and its constants."""
    return SimpleNamespace(make_samples=make_samples, codec=CODEC, flip=FLIP, meta=META,
                           center=CENTER, scale=SCALE, bbox=BBOX)
