"""The definition readers: the fields each source gives before validation."""
from __future__ import annotations

import pytest

from customkpt.meta import KeypointMeta, KeypointMetaError
from customkpt.meta.sources import (check_config_keys, coco_category_fields, config_fields,
                                    index_pairs, mmpose_info_fields, read_metainfo_file)


def test_index_pairs_casts_and_names_the_bad_value():
    assert index_pairs([(0, 1), ['2', 3]], 'skeleton', 'src') == [[0, 1], [2, 3]]
    with pytest.raises(KeypointMetaError, match=r'src: skeleton must be a list of \[a, b\]'):
        index_pairs([1, 2], 'skeleton', 'src')


def test_coco_category_fields_are_zero_based():
    fields = coco_category_fields(dict(name='m', keypoints=['a', 'b'], skeleton=[[1, 2]]), 'cat')
    assert fields == dict(keypoint_names=['a', 'b'], skeleton=[[0, 1]], flip_pairs=[],
                          dataset_name='m', source='cat')


def test_mmpose_info_fields_pair_swaps_and_order_links():
    info = dict(keypoint_info={1: dict(name='r', id=1, swap='l', type='lower', color=[1, 2, 3]),
                               0: dict(name='l', id=0, swap='r', type='upper', color=[4, 5, 6])},
                skeleton_info={0: dict(link=('l', 'r'), color=[7, 8, 9])})
    fields = mmpose_info_fields(info, 'info')
    assert fields['keypoint_names'] == ['l', 'r']
    assert fields['flip_pairs'] == [[0, 1]]
    assert fields['skeleton'] == [[0, 1]] and fields['skeleton_colors'] == [[7, 8, 9]]
    assert fields['upper_body_ids'] == [0] and fields['lower_body_ids'] == [1]
    assert fields['keypoint_colors'] == [[4, 5, 6], [1, 2, 3]]
    with pytest.raises(KeypointMetaError, match="skeleton link 0 names unknown 'x'"):
        mmpose_info_fields(dict(info, skeleton_info={0: dict(link=('l', 'x'))}), 'info')


def test_check_config_keys_lists_the_unknown():
    check_config_keys(dict(keypoint_names=['a']), 'cfg')
    with pytest.raises(KeypointMetaError, match=r"cfg: unknown metainfo keys \['colour'\]"):
        check_config_keys(dict(colour=1), 'cfg')


def test_config_fields_inherit_override_and_drop_per_point_data():
    base = KeypointMeta(keypoint_names=['a', 'b'], skeleton=[[0, 1]], sigmas=[0.1, 0.2],
                        source='base')
    fields, source = config_fields(dict(dataset_name='x'), base, 'cfg')
    assert source == 'cfg (on top of base)'
    assert fields['dataset_name'] == 'x' and fields['skeleton'] == [[0, 1]]
    assert list(fields['sigmas']) == pytest.approx([0.1, 0.2])
    fields, _ = config_fields(dict(keypoint_names=['a', 'b', 'c']), base, 'cfg')
    assert fields['keypoint_names'] == ['a', 'b', 'c']
    assert 'sigmas' not in fields and 'skeleton' not in fields
    fields, _ = config_fields(dict(num_joints=2), None, 'cfg')
    assert fields['keypoint_names'] == ['kpt_0', 'kpt_1']
    with pytest.raises(KeypointMetaError, match='num_joints=3 but base defines 2 keypoints'):
        config_fields(dict(num_joints=3), base, 'cfg')


def test_config_fields_derive_flip_pairs_and_halves():
    fields, _ = config_fields(dict(keypoint_names=['head', 'left_knee', 'right_knee'],
                                   flip_from_names=True, body_parts_from_names=True), None, 'c')
    assert fields['flip_pairs'] == [[1, 2]]
    assert fields['upper_body_ids'] == [0] and fields['lower_body_ids'] == [1, 2]


def test_read_metainfo_file(tmp_path):
    with pytest.raises(KeypointMetaError, match='metainfo file not found'):
        read_metainfo_file(tmp_path / 'missing.py')
    path = tmp_path / 'info.py'
    path.write_text("dataset_info = dict(keypoint_info={0: dict(name='a', id=0)})\n")
    assert read_metainfo_file(path) == dict(keypoint_info={0: dict(name='a', id=0)})
    path.write_text("keypoint_names = ['a', 'b']\n")
    assert read_metainfo_file(path)['keypoint_names'] == ['a', 'b']


def test_a_one_sided_mmpose_swap_is_warned_about_naming_the_points():
    import warnings
    info = dict(keypoint_info={0: dict(name='l', id=0, swap='r'), 1: dict(name='r', id=1),
                               2: dict(name='a', id=2, swap='b'),
                               3: dict(name='b', id=3, swap='a')})
    with pytest.warns(UserWarning, match=r"info: keypoint 'l' swaps with 'r' but 'r' has no "
                                         r"swap; flipping exchanges 'l' and 'r'") as caught:
        fields = mmpose_info_fields(info, 'info')
    assert fields['flip_pairs'] == [[0, 1], [2, 3]]
    assert len([w for w in caught if 'swaps with' in str(w.message)]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        both = {0: dict(name='a', id=0, swap='b'), 1: dict(name='b', id=1, swap='a')}
        mmpose_info_fields(dict(keypoint_info=both), 'info')  # both sides: no warning


def test_definition_warnings_print_as_one_line_without_source(tmp_path):
    import subprocess
    import sys
    script = tmp_path / 'user_script.py'
    script.write_text("from customkpt.meta import KeypointMeta\n"
                      "KeypointMeta.from_config(dict(keypoint_names=['snout', 'tail']))\n")
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, check=True)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and 'no OKS sigmas given for' in lines[0], lines
