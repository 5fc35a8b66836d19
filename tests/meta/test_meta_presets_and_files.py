"""Built-in definitions by name and metainfo files read as data."""
from pathlib import Path

import pytest

from customkpt.core.presets import AIC_NAMES, COCO_NAMES, MPII_NAMES
from customkpt.meta import KeypointMeta, KeypointMetaError

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize('name, names', [('coco', COCO_NAMES), ('mpii', MPII_NAMES),
                                         ('aic', AIC_NAMES), ('COCO', COCO_NAMES)])
def test_a_preset_name_is_a_definition(name, names):
    meta = KeypointMeta.resolve(name)
    assert meta.keypoint_names == names
    assert not meta.sigmas_defaulted
    assert sorted(meta.flip_indices) == list(range(len(names)))


def test_preset_equals_the_mmpose_layout_file():
    preset = KeypointMeta.resolve('coco').to_dict()
    from_file = KeypointMeta.resolve(str(REPO_ROOT / 'configs/_base_/datasets/coco.py'))
    for key in ('keypoint_names', 'flip_indices', 'sigmas', 'skeleton', 'upper_body_ids'):
        assert preset[key] == from_file.to_dict()[key], key


def test_preset_with_overrides():
    meta = KeypointMeta.resolve(dict(preset='coco', sigmas=[0.05] * 17, dataset_name='mine'))
    assert meta.keypoint_names == COCO_NAMES and meta.dataset_name == 'mine'
    assert meta.sigmas == pytest.approx([0.05] * 17)


def test_unknown_preset_and_preset_plus_file_are_errors(tmp_path):
    with pytest.raises(KeypointMetaError, match=r"unknown keypoint preset 'cocoa'"):
        KeypointMeta.resolve(dict(preset='cocoa'))
    with pytest.raises(KeypointMetaError, match='either preset or from_file'):
        KeypointMeta.resolve(dict(preset='coco', from_file=str(tmp_path / 'x.py')))


def test_yaml_metainfo_is_read_with_the_safe_loader(tmp_path):
    marker = tmp_path / 'ran'
    path = tmp_path / 'meta.yaml'
    path.write_text('keypoint_names: !!python/object/apply:os.system '
                    f'["touch {marker}"]\n')
    with pytest.raises(KeypointMetaError, match='cannot be read'):
        KeypointMeta.resolve(str(path))
    assert not marker.exists()


def test_yaml_and_json_metainfo_files(tmp_path):
    (tmp_path / 'm.yaml').write_text('keypoint_names: [snout, left_ear, right_ear]\nflip_from_names: true\n')
    (tmp_path / 'm.json').write_text('{"keypoint_names": ["snout", "left_ear", "right_ear"], "flip_from_names": true}')
    for name in ('m.yaml', 'm.json'):
        meta = KeypointMeta.resolve(str(tmp_path / name))
        assert meta.flip_pairs == [[1, 2]]
    (tmp_path / 'list.json').write_text('[1, 2]')
    with pytest.raises(KeypointMetaError, match='must hold a mapping'):
        KeypointMeta.resolve(str(tmp_path / 'list.json'))
