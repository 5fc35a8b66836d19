"""Flip pairs of a definition that states none come from its left/right names.

A COCO category has no ``flip_pairs`` field, so a foreign COCO file (the
32-point fly, 35-point locust, ...) states none; without pairs a horizontal
flip would teach the left legs' labels on the right legs.
"""
from __future__ import annotations

import warnings

import pytest

from customkpt.meta import KeypointMeta, KeypointMetaError

# The fly definition of DeepPoseKit / MMPose, as its COCO category lists it.
FLY = (['head', 'eyeL', 'eyeR', 'neck', 'thorax', 'abdomen']
       + [f'{leg}{side}{i}' for side in 'RL' for leg in ('foreleg', 'midleg', 'hindleg')
          for i in range(1, 5)]
       + ['wingL', 'wingR'])
FLY_PAIRS = ([[1, 2]] + [[6 + i, 18 + i] for i in range(12)] + [[30, 31]])


def category(**extra):
    return dict(id=1, name='fly', keypoints=list(FLY), skeleton=[], **extra)


def resolve(metainfo=None, **extra) -> KeypointMeta:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # default-sigma warnings
        return KeypointMeta.resolve(metainfo, category=category(**extra), source='fly.json')


@pytest.mark.parametrize('metainfo', [None, dict(num_joints=32), dict(dataset_name='fly')])
def test_category_without_flip_pairs_gets_the_pairs_of_its_names(metainfo):
    meta = resolve(metainfo)
    assert meta.flip_pairs == FLY_PAIRS and meta.flip_pairs_derived
    table = meta.flip_indices
    assert FLY[table[FLY.index('forelegR4')]] == 'forelegL4'
    assert FLY[table[FLY.index('wingL')]] == 'wingR'
    assert table[FLY.index('head')] == FLY.index('head')


def test_stated_pairs_and_the_opt_out_are_kept():
    assert resolve(flip_pairs=[]).flip_pairs == []                 # the file says: none
    assert resolve(flip_pairs=[[1, 2]]).flip_pairs == [[1, 2]]
    meta = resolve(dict(flip_from_names=False))
    assert meta.flip_pairs == [] and not meta.flip_pairs_derived
    assert resolve(dict(flip_pairs=[[30, 31]])).flip_pairs == [[30, 31]]


def test_config_names_without_pairs_are_paired_and_round_trip():
    names = ['snout', 'leftear', 'rightear', 'tailbase']
    meta = KeypointMeta.from_config(dict(keypoint_names=names, sigmas=[0.05] * 4))
    assert meta.flip_pairs == [[1, 2]] and meta.flip_pairs_derived
    again = KeypointMeta.from_dict(meta.to_dict())           # a checkpoint's definition
    assert again.flip_indices == meta.flip_indices and not again.flip_pairs_derived
    none = KeypointMeta.from_config(dict(keypoint_names=names, sigmas=[0.05] * 4,
                                         flip_pairs=[]))
    assert none.flip_pairs == []
    # The plain constructor derives nothing.
    assert KeypointMeta(names, sigmas=[0.05] * 4).flip_pairs == []


def test_new_names_over_a_base_are_paired_from_the_new_names():
    meta = resolve(dict(keypoint_names=['a', 'x_L', 'x_R']))
    assert meta.flip_pairs == [[1, 2]]


def test_a_metainfo_file_with_swaps_is_not_rederived(tmp_path):
    path = tmp_path / 'info.py'
    path.write_text(
        "dataset_info = dict(keypoint_info={\n"
        "    0: dict(name='left_a', id=0, swap=''),\n"
        "    1: dict(name='right_a', id=1, swap='')})\n")
    meta = KeypointMeta.resolve(str(path))
    assert meta.flip_pairs == [] and not meta.flip_pairs_derived


def test_ambiguous_names_warn_instead_of_failing_unless_asked():
    names = ['left_hand_r', 'right_hand_r', 'left_hand_l']
    with pytest.warns(UserWarning, match='matches both'):
        meta = KeypointMeta.from_config(dict(keypoint_names=names, sigmas=[0.05] * 3))
    assert meta.flip_pairs == []
    with pytest.raises(KeypointMetaError, match='matches both'):
        KeypointMeta.from_config(dict(keypoint_names=names, sigmas=[0.05] * 3,
                                      flip_from_names=True))
