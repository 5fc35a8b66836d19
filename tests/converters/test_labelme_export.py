"""customkpt.converters.labelme_export: predictions -> Labelme files that the
Labelme converter reads back."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from customkpt.converters import convert_labelme
from customkpt.converters.labelme_export import LabelmeInstance, write_labelme

NAMES = ['head', 'left_hand', 'right_hand']


def test_written_files_read_back_to_the_same_points(tmp_path):
    cv2.imwrite(str(tmp_path / 'f1.png'), np.zeros((40, 60, 3), np.uint8))
    a = np.array([[10.5, 12.25], [20.0, 30.0], [np.nan, np.nan]])
    b = np.array([[40.0, 5.0], [45.0, 8.0], [50.0, 9.5]])
    path = write_labelme(tmp_path / 'f1.json', 'f1.png', 60, 40,
                         [LabelmeInstance(3, a, np.array([0.9, 0.5, 0.1])),
                          LabelmeInstance(7, b)], NAMES)
    data = json.loads(path.read_text())
    assert data['imagePath'] == 'f1.png' and data['imageData'] is None
    assert (data['imageWidth'], data['imageHeight']) == (60, 40)
    first = data['shapes'][0]
    assert first == dict(label='head', points=[[10.5, 12.25]], group_id=3,
                         description='score 0.900', shape_type='point', flags={})
    assert len(data['shapes']) == 5  # the NaN point is left out
    res = convert_labelme(tmp_path, keypoints=NAMES, progress=False)
    anns = res.coco['annotations']
    assert [a['group_id'] for a in anns] == [3, 7]
    kp = np.array(anns[0]['keypoints']).reshape(3, 3)
    np.testing.assert_allclose(kp[:2], [[10.5, 12.25, 2], [20.0, 30.0, 2]])
    assert kp[2].tolist() == [0, 0, 0]
    np.testing.assert_allclose(np.array(anns[1]['keypoints']).reshape(3, 3)[:, :2], b)


def test_shared_group_ids_and_bad_sizes_are_refused(tmp_path):
    inst = LabelmeInstance(1, np.zeros((3, 2)))
    with pytest.raises(ValueError, match='share a group_id'):
        write_labelme(tmp_path / 'x.json', 'x.png', 10, 10, [inst, inst], NAMES)
    with pytest.raises(ValueError, match='not positive'):
        write_labelme(tmp_path / 'x.json', 'x.png', 0, 10, [inst], NAMES)
