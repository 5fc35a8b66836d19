"""KeypointMeta: every source, overrides, flip derivation, errors, round trip,
mapping between definitions."""
from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from customkpt.meta import KeypointMeta, KeypointMetaError, default_sigmas, derive_flip_pairs

REPO_ROOT = Path(__file__).resolve().parents[2]
COCO_FILE = REPO_ROOT / 'configs' / '_base_' / 'datasets' / 'coco.py'
COCO_NAMES = ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
              'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
              'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle']
MOUSE = ['snout', 'leftear', 'rightear', 'tailbase']


def quiet(**cfg) -> KeypointMeta:
    """from_config with sigmas so that no default-sigma warning is issued."""
    cfg.setdefault('sigmas', [0.05] * len(cfg.get('keypoint_names', [])))
    return KeypointMeta.from_config(cfg)


def write_mmpose_info(path: Path, sigmas: bool = True) -> Path:
    path.write_text(textwrap.dedent(f"""
        dataset_info = dict(
            dataset_name='mouse',
            keypoint_info={{
                0: dict(name='snout', id=0, color=[255, 0, 0], type='upper', swap=''),
                1: dict(name='leftear', id=1, color=[0, 255, 0], type='upper', swap='rightear'),
                2: dict(name='rightear', id=2, color=[0, 0, 255], type='upper', swap='leftear'),
                3: dict(name='tailbase', id=3, color=[9, 9, 9], type='lower', swap=''),
            }},
            skeleton_info={{
                0: dict(link=('snout', 'leftear'), id=0, color=[1, 2, 3]),
                1: dict(link=('snout', 'tailbase'), id=1, color=[4, 5, 6]),
            }},
            joint_weights=[1.0, 1.2, 1.2, 1.5],
            {"sigmas=[0.03, 0.04, 0.04, 0.09]," if sigmas else ""}
        )
    """))
    return path


# ------------------------------------------------------------------ sources
def test_from_coco_category_reads_one_based_skeleton():
    cat = {'id': 1, 'name': 'mouse', 'keypoints': MOUSE, 'skeleton': [[1, 2], [1, 4]],
           'flip_pairs': [[1, 2]]}
    meta = KeypointMeta.from_coco_category(cat)
    assert meta.keypoint_names == MOUSE and meta.dataset_name == 'mouse'
    assert meta.skeleton == [[0, 1], [0, 3]]
    assert meta.flip_indices == [0, 2, 1, 3]
    with pytest.warns(UserWarning, match='0-based'):
        zero = KeypointMeta.from_coco_category(dict(cat, skeleton=[[0, 1]]))
    assert zero.skeleton == [[0, 1]]
    with pytest.raises(KeypointMetaError, match='no "keypoints"'):
        KeypointMeta.from_coco_category({'id': 1, 'name': 'x'})


def test_from_config_with_all_keys():
    meta = KeypointMeta.from_config(dict(
        dataset_name='self5', num_joints=3, keypoint_names=['head', 'l_hand', 'r_hand'],
        flip_pairs=[[1, 2]], skeleton=[[0, 1], [0, 2]], sigmas=[0.1, 0.2, 0.2],
        joint_weights=[1, 2, 2], upper_body_ids=[0, 1, 2], lower_body_ids=[]))
    d = meta.to_dict()
    assert d['num_keypoints'] == 3 and d['flip_indices'] == [0, 2, 1]
    assert d['sigmas'] == pytest.approx([0.1, 0.2, 0.2])
    assert d['joint_weights'] == [1.0, 2.0, 2.0]
    assert len(d['keypoint_colors']) == 3 and len(d['skeleton_colors']) == 2
    assert KeypointMeta.from_config(dict(num_joints=2, sigmas=[0.1, 0.1])).keypoint_names == \
        ['kpt_0', 'kpt_1']


def test_from_mmpose_dataset_info_file(tmp_path):
    meta = KeypointMeta.from_file(write_mmpose_info(tmp_path / 'mouse_info.py'))
    assert meta.keypoint_names == MOUSE and meta.dataset_name == 'mouse'
    assert meta.flip_pairs == [[1, 2]]
    assert meta.skeleton == [[0, 1], [0, 3]] and meta.skeleton_colors == [[1, 2, 3], [4, 5, 6]]
    assert meta.upper_body_ids == [0, 1, 2] and meta.lower_body_ids == [3]
    assert meta.keypoint_colors[3] == [9, 9, 9]
    np.testing.assert_allclose(meta.sigmas, [0.03, 0.04, 0.04, 0.09])
    np.testing.assert_allclose(meta.joint_weights, [1.0, 1.2, 1.2, 1.5])


def test_project_coco_metainfo_file():
    meta = KeypointMeta.from_file(COCO_FILE)
    assert meta.keypoint_names == COCO_NAMES and meta.dataset_name == 'coco'
    assert meta.flip_indices == [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    assert len(meta.skeleton) == 19
    assert meta.sigmas[0] == pytest.approx(0.026) and meta.sigmas[11] == pytest.approx(0.107)
    assert meta.upper_body_ids == list(range(11)) and meta.lower_body_ids == list(range(11, 17))
    # The flip pairs in the file agree with the ones the names imply.
    assert meta.flip_pairs == derive_flip_pairs(COCO_NAMES)


def test_config_keys_override_a_file(tmp_path):
    path = write_mmpose_info(tmp_path / 'mouse_info.py')
    meta = KeypointMeta.resolve(dict(from_file=str(path), sigmas=[0.1] * 4, dataset_name='m2'))
    assert meta.dataset_name == 'm2'
    np.testing.assert_allclose(meta.sigmas, [0.1] * 4)
    assert meta.flip_pairs == [[1, 2]]             # kept from the file
    # A path alone is the file.
    assert KeypointMeta.resolve(str(path)).dataset_name == 'mouse'


def test_config_overrides_a_category_and_new_names_drop_per_point_data():
    cat = {'id': 1, 'name': 'mouse', 'keypoints': MOUSE, 'skeleton': [[1, 2]]}
    meta = KeypointMeta.resolve(dict(flip_pairs=[[1, 2]], sigmas=[0.1] * 4), category=cat)
    assert meta.keypoint_names == MOUSE and meta.flip_pairs == [[1, 2]]
    assert meta.skeleton == [[0, 1]]
    with pytest.warns(UserWarning, match='no OKS sigmas'):
        fewer = KeypointMeta.resolve(dict(keypoint_names=['a', 'b']), category=cat)
    assert fewer.skeleton == [] and fewer.sigmas.shape == (2,)
    assert KeypointMeta.resolve(None, category=cat).keypoint_names == MOUSE
    with pytest.raises(KeypointMetaError, match='no keypoint definition'):
        KeypointMeta.resolve(None)


# ---------------------------------------------------------- flip from names
@pytest.mark.parametrize('names, pairs', [
    (['nose', 'left_hand', 'right_hand'], [[1, 2]]),
    (['l_hand', 'r_hand', 'tail'], [[0, 1]]),
    (['LHand', 'RHand', 'Head'], [[0, 1]]),
    (['hand_L', 'hand_R', 'hip'], [[0, 1]]),
    (MOUSE, [[1, 2]]),
    (['front_left_paw', 'front_right_paw', 'back_left_paw', 'back_right_paw'], [[0, 1], [2, 3]]),
    (['Left-Ear', 'Right-Ear'], [[0, 1]]),
    (['left_eye', 'nose', 'right_ear'], []),          # no partner: unpaired
    (['lateral', 'rear', 'ring'], []),                # 'l'/'r' inside words do not count
])
def test_flip_pairs_derived_from_names(names, pairs):
    assert derive_flip_pairs(names) == pairs
    meta = KeypointMeta.from_config(dict(keypoint_names=names, flip_from_names=True,
                                         sigmas=[0.05] * len(names)))
    assert meta.flip_pairs == pairs


def test_flip_from_names_does_not_replace_given_pairs():
    meta = quiet(keypoint_names=['a', 'left_x', 'right_x'], flip_pairs=[[0, 1]],
                 flip_from_names=True)
    assert meta.flip_pairs == [[0, 1]]


def test_ambiguous_names_are_an_error():
    with pytest.raises(KeypointMetaError, match='matches both'):
        derive_flip_pairs(['left_hand_r', 'right_hand_r', 'left_hand_l'])


# ------------------------------------------------------------------- errors
@pytest.mark.parametrize('cfg, match', [
    (dict(num_joints=4, keypoint_names=['a', 'b', 'c']), 'num_joints=4'),
    (dict(keypoint_names=['a', 'b'], flip_pairs=[[0, 2]]), 'outside 0..1'),
    (dict(keypoint_names=['a', 'b', 'c'], flip_pairs=[[0, 1], [1, 2]]), 'not symmetric'),
    (dict(keypoint_names=['a', 'b'], flip_pairs=[[1, 1]]), 'with itself'),
    (dict(keypoint_names=['a', 'b', 'a']), 'duplicate keypoint names'),
    (dict(keypoint_names=['a', 'b'], sigmas=[0.1]), 'sigmas has 1 values'),
    (dict(keypoint_names=['a', 'b'], sigmas=[0.1, 0.0]), 'sigmas must be positive'),
    (dict(keypoint_names=['a', 'b'], sigmas=[0.1, -1]), 'sigmas must be positive'),
    (dict(keypoint_names=['a', 'b'], sigmas=[0.1, float('nan')]), 'NaN or inf'),
    (dict(keypoint_names=['a', 'b'], joint_weights=[1, 2, 3]), 'joint_weights has 3'),
    (dict(keypoint_names=['a', 'b'], joint_weights=[1, -2]), 'must not be negative'),
    (dict(keypoint_names=['a', 'b'], skeleton=[[0, 5]]), 'skeleton link'),
    (dict(keypoint_names=['a', 'b'], flip_pairs=[[0, 1]], flip_indices=[0, 1]), 'disagree'),
    (dict(keypoint_names=['a', 'b'], flip_pairs=[1, 2]), 'index pairs'),
    (dict(keypoint_names=[]), 'no keypoints'),
    (dict(keypoint_names=['a'], num_kpts=1), 'unknown metainfo keys'),
    (dict(sigmas=[0.1]), 'no keypoint definition'),
])
def test_every_error_is_named(cfg, match):
    cfg.setdefault('sigmas', [0.05] * len(cfg.get('keypoint_names', [])))
    with pytest.raises(KeypointMetaError, match=match):
        KeypointMeta.from_config(cfg)


def test_num_joints_disagreeing_with_a_file_names_the_file(tmp_path):
    path = write_mmpose_info(tmp_path / 'mouse_info.py')
    with pytest.raises(KeypointMetaError, match='mouse_info.py defines 4 keypoints'):
        KeypointMeta.from_config(dict(from_file=str(path), num_joints=5))


def test_errors_in_mmpose_files(tmp_path):
    good = write_mmpose_info(tmp_path / 'good.py').read_text()
    for old, new, match in (("swap='rightear'", "swap='rightearr'", 'unknown name'),
                            ("('snout', 'tailbase')", "('snout', 'tail')", 'names unknown'),
                            ('1: dict(name=\'leftear\', id=1', '1: dict(name=\'leftear\', id=7',
                             'ids must run')):
        path = tmp_path / 'bad.py'
        path.write_text(good.replace(old, new))
        with pytest.raises(KeypointMetaError, match=match):
            KeypointMeta.from_file(path)
    with pytest.raises(KeypointMetaError, match='not found'):
        KeypointMeta.from_file(tmp_path / 'nope.py')


# ------------------------------------------------------------------ sigmas
def test_default_sigmas_warning_is_issued_once_per_definition():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        meta = KeypointMeta.from_config(dict(keypoint_names=MOUSE))
        KeypointMeta.from_dict(meta.to_dict())          # round trip: sigmas now given
        meta.to_dict()
    messages = [str(w.message) for w in caught if 'no OKS sigmas' in str(w.message)]
    assert len(messages) == 1 and 'snout' in messages[0]
    np.testing.assert_allclose(meta.sigmas, default_sigmas(MOUSE))


def test_default_sigmas_by_part_name():
    np.testing.assert_allclose(default_sigmas(['nose', 'left_wrist', 'snout', 'paw_R', 'blob']),
                               [0.026, 0.062, 0.026, 0.062, 0.067], rtol=1e-6)


# -------------------------------------------------------------- round trip
def test_to_dict_from_dict_round_trip_is_plain_python():
    meta = KeypointMeta.from_file(COCO_FILE)
    d = meta.to_dict()

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return isinstance(value, (str, int, float))
    assert plain(d)
    again = KeypointMeta.from_dict(d)
    assert again.to_dict() == d
    np.testing.assert_array_equal(again.sigmas, meta.sigmas)
    assert again.flip_pairs == meta.flip_pairs and again.skeleton == meta.skeleton


# ----------------------------------------------------------------- mapping
def test_index_map_from_by_name_rename_and_errors():
    target = quiet(keypoint_names=['head', 'left_ear', 'right_ear', 'tail'])
    source = quiet(keypoint_names=['rightear', 'snout', 'leftear', 'whisker'])
    np.testing.assert_array_equal(target.index_map_from(source), [-1, -1, -1, -1])
    renamed = target.index_map_from(source, {'snout': 'head', 'leftear': 'left_ear',
                                             'rightear': 'right_ear'})
    assert renamed.dtype == np.int64
    np.testing.assert_array_equal(renamed, [1, 2, 0, -1])
    same = quiet(keypoint_names=['tail', 'head'])
    np.testing.assert_array_equal(target.index_map_from(same), [1, -1, -1, 0])
    with pytest.raises(KeypointMetaError, match='unknown points'):
        target.index_map_from(source, {'nose': 'head'})
    with pytest.raises(KeypointMetaError, match='unknown points'):
        target.index_map_from(source, {'snout': 'nose'})


def test_sample_fields_carry_flip_halves_and_weights():
    meta = KeypointMeta(['nose', 'l_hip', 'r_hip'], flip_pairs=[[1, 2]], upper_body_ids=[0],
                        lower_body_ids=[1, 2], sigmas=[0.1] * 3, joint_weights=[1, 2, 2])
    f = meta.sample_fields()
    assert f['flip_indices'] == [0, 2, 1]
    assert f['upper_body_ids'] == [0] and f['lower_body_ids'] == [1, 2]
    np.testing.assert_array_equal(f['dataset_keypoint_weights'], [1, 2, 2])
