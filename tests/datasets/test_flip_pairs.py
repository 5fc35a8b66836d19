"""The flip table a COCO file without ``flip_pairs`` trains with.

A COCO category has no ``flip_pairs`` field. The dataset pairs the points by
their left/right names, so a horizontal flip swaps the labels of mirrored
legs, and warns about side-named points it cannot pair.
"""
from __future__ import annotations

import numpy as np
import pytest

from customkpt.datasets import CocoKeypointDataset

from .conftest import ann

NAMES = ['head', 'legR1', 'legR2', 'legL1', 'legL2', 'tail']


def build(path, **kwargs) -> CocoKeypointDataset:
    return CocoKeypointDataset(ann_file=path.name, data_root=str(path.parent),
                               data_prefix=dict(img='img/'), **kwargs)


@pytest.fixture
def logged(monkeypatch) -> list[str]:
    from customkpt.datasets import base
    messages: list[str] = []
    monkeypatch.setattr(base, 'print_log', lambda msg, **kw: messages.append(msg))
    return messages


def _file(write_coco, names):
    points = [(10 + 5 * i, 20, 2) for i in range(len(names))]
    return write_coco([{'id': 1, 'file_name': 'a.png'}],
                      [ann(1, 1, points, bbox=[5, 5, 50, 30])], names)


def test_a_flip_swaps_the_legs_of_a_file_without_flip_pairs(write_coco, logged):
    ds = build(_file(write_coco, NAMES), metainfo=dict(sigmas=[0.05] * 6),
               pipeline=[dict(type='LoadImage'), dict(type='RandomFlip', prob=1.0)])
    assert ds.metainfo['flip_pairs'] == [[1, 3], [2, 4]]
    assert any('derived from its keypoint names: legR1<->legL1, legR2<->legL2' in m
               for m in logged)
    sample = ds[0]
    width = 64
    before = ds.get_data_info(0)['keypoints'][0]
    after = sample['keypoints'][0]
    # The mirrored right leg is the left leg of the flipped image.
    np.testing.assert_allclose(after[NAMES.index('legL1')],
                               [width - 1 - before[NAMES.index('legR1'), 0], 20])
    np.testing.assert_allclose(after[NAMES.index('head')], [width - 1 - before[0, 0], 20])


def test_opting_out_keeps_no_pairs_and_no_warning(write_coco, logged):
    ds = build(_file(write_coco, NAMES), metainfo=dict(sigmas=[0.05] * 6,
                                                       flip_from_names=False))
    assert ds.metainfo['flip_pairs'] == [] and ds.metainfo['flip_indices'] == list(range(6))
    assert not [m for m in logged if 'flip' in m]


def test_side_named_points_without_partner_are_flagged(write_coco, logged):
    names = ['paw1LH', 'paw2LF', 'paw3RF', 'paw4RH', 'nose', 'leftear', 'rightear']
    ds = build(_file(write_coco, names), metainfo=dict(sigmas=[0.05] * 7))
    assert ds.metainfo['flip_pairs'] == [[5, 6]]
    warnings = [m for m in logged if 'no flip partner' in m]
    assert len(warnings) == 1
    assert "['paw1LH', 'paw2LF', 'paw3RF', 'paw4RH']" in warnings[0]
    logged.clear()
    build(_file(write_coco, names), metainfo=dict(sigmas=[0.05] * 7,
                                                  flip_pairs=[[0, 3], [1, 2], [5, 6]]))
    assert not [m for m in logged if 'no flip partner' in m]
