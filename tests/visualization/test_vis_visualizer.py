"""Tests of the mmengine PoseVisualizer."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.structures import InstanceData

import customkpt  # noqa: F401
from customkpt.meta import KeypointMeta
from customkpt.registry import VISUALIZERS
from customkpt.structures import PoseDataSample
from customkpt.visualization import PoseVisualizer

META = KeypointMeta(keypoint_names=['head', 'left_hand', 'right_hand'],
                    skeleton=[[0, 1], [0, 2]], flip_pairs=[[1, 2]],
                    sigmas=[0.05] * 3).to_dict()


def sample() -> PoseDataSample:
    s = PoseDataSample()
    s.gt_instances = InstanceData(
        keypoints=np.array([[[40, 20], [20, 60], [60, 60]]], np.float32),
        keypoints_visible=np.array([[1, 1, 0]], np.float32),
        bboxes=np.array([[5, 5, 75, 75]], np.float32))
    s.pred_instances = InstanceData(
        keypoints=np.array([[[41, 21], [21, 61], [61, 61]]], np.float32),
        keypoint_scores=np.array([[0.9, 0.2, 0.8]], np.float32))
    return s


def build(tmp_path: Path, name: str) -> PoseVisualizer:
    vis = VISUALIZERS.build(dict(type='PoseVisualizer', name=name, save_dir=str(tmp_path),
                                 vis_backends=[dict(type='LocalVisBackend')], radius=3))
    assert isinstance(vis, PoseVisualizer)
    return vis


def test_build_from_config_and_draw_side_by_side(tmp_path: Path) -> None:
    vis = build(tmp_path, 'vis_test_side')
    vis.set_dataset_meta(META)
    img = np.full((80, 80, 3), 30, np.uint8)
    out = vis.add_datasample('sample', img, sample(), out_file=str(tmp_path / 'o.png'))
    assert out.shape[0] == 80 and out.shape[1] > 160  # two panels and a gap
    written = cv2.imread(str(tmp_path / 'o.png'))
    np.testing.assert_array_equal(written, out)
    colours = META['keypoint_colors']
    # Ground truth panel: head drawn, right hand (invisible) not.
    assert tuple(out[20, 40]) == tuple(colours[0][::-1])
    assert tuple(out[60, 60]) == (30, 30, 30)
    # Prediction panel starts at 80 + gap: the low-score left hand is skipped.
    x0 = out.shape[1] - 80
    assert tuple(out[61, x0 + 61]) == tuple(colours[2][::-1])
    assert tuple(out[61, x0 + 21]) == (30, 30, 30)


def test_backend_receives_rgb_image(tmp_path: Path) -> None:
    vis = build(tmp_path, 'vis_test_backend')
    vis.set_dataset_meta(KeypointMeta.from_dict(META))  # the object form works too
    img = np.zeros((80, 80, 3), np.uint8)
    drawn = vis.add_datasample('smp', img, sample(), draw_pred=False, step=3)
    files = list((tmp_path / 'vis_data' / 'vis_image').glob('smp_3.png'))
    assert len(files) == 1
    saved = cv2.imread(str(files[0]))  # LocalVisBackend converts the RGB it got to BGR
    np.testing.assert_array_equal(saved, drawn)
    assert drawn.shape == (80, 80, 3)


def test_rgb_channel_order(tmp_path: Path) -> None:
    vis = build(tmp_path, 'vis_test_rgb')
    vis.set_dataset_meta(META)
    img = np.zeros((80, 80, 3), np.uint8)
    img[..., 0] = 200  # red in RGB
    out = vis.add_datasample('x', img, PoseDataSample(), channel_order='rgb',
                             out_file=str(tmp_path / 'x.png'))
    assert tuple(out[0, 79]) == (0, 0, 200)


def test_meta_required(tmp_path: Path) -> None:
    vis = build(tmp_path, 'vis_test_nometa')
    with pytest.raises(RuntimeError, match='set_dataset_meta'):
        vis.add_datasample('x', np.zeros((10, 10, 3), np.uint8), sample())
