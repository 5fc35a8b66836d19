"""PredictionDrawingHook writes ground truth beside predictions."""
from types import SimpleNamespace

import cv2
import numpy as np
from mmengine.structures import InstanceData

from customkpt.meta import KeypointMeta
from customkpt.registry import HOOKS
from customkpt.structures import PoseDataSample


def test_prediction_drawing_hook_writes_side_by_side_images(tmp_path):
    img_path = tmp_path / 'im.png'
    cv2.imwrite(str(img_path), np.zeros((40, 60, 3), np.uint8))
    meta = KeypointMeta(['a', 'b'], skeleton=[[0, 1]], sigmas=[0.1, 0.1]).to_dict()
    runner = SimpleNamespace(test_dataloader=SimpleNamespace(
        dataset=SimpleNamespace(metainfo=meta)))
    samples = []
    for i in range(3):
        s = PoseDataSample(metainfo=dict(img_id=i, id=10 + i, img_path=str(img_path)))
        kpts = np.array([[[20.0, 30.0], [45.0, 32.0]]], np.float32)  # below the titles
        box = np.array([[5, 5, 40, 30]], np.float32)
        s.gt_instances = InstanceData(keypoints=kpts, keypoints_visible=np.ones((1, 2)),
                                      bboxes=box)
        s.pred_instances = InstanceData(keypoints=kpts + 2, keypoint_scores=np.ones((1, 2)),
                                        bboxes=box)
        samples.append(s)
    hook = HOOKS.build(dict(type='PredictionDrawingHook', out_dir=str(tmp_path / 'out'),
                            max_images=2))
    hook.before_test(runner)
    hook.after_test_iter(runner, 0, None, samples)
    files = sorted((tmp_path / 'out').glob('*.png'))
    assert [f.name for f in files] == ['0_10.png', '1_11.png']
    drawn = cv2.imread(str(files[0]))
    assert drawn.shape == (40, 120, 3)
    colour = meta['keypoint_colors'][0][::-1]  # RGB -> BGR
    np.testing.assert_array_equal(drawn[30, 20], colour)       # ground truth, left half
    np.testing.assert_array_equal(drawn[32, 60 + 22], colour)  # prediction, right half
