"""customkpt.core.presets: the built-in COCO, MPII and AI Challenger
definitions are self-consistent and equal the metainfo files in configs/."""
from __future__ import annotations

from pathlib import Path

import pytest

from customkpt.core import presets
from customkpt.core.presets import PRESETS, preset_metainfo
from customkpt.meta import KeypointMeta

ROOT = Path(__file__).resolve().parents[2]
SIZES = dict(coco=17, mpii=16, aic=14)
SIDES = (('left_', 'right_'), ('l_', 'r_'))


def _partner(name: str) -> str | None:
    for a, b in SIDES:
        for x, y in ((a, b), (b, a)):
            if name.startswith(x):
                return y + name[len(x):]
    return None


@pytest.mark.parametrize('name', sorted(SIZES))
def test_lengths_and_indices(name):
    info = PRESETS[name]
    k = SIZES[name]
    names = info['keypoint_names']
    assert len(names) == len(set(names)) == k
    assert len(info['sigmas']) == len(info['joint_weights']) == k
    assert all(0 < s < 0.2 for s in info['sigmas'])
    for pairs in (info['flip_pairs'], info['skeleton']):
        assert all(len(p) == 2 and p[0] != p[1] and 0 <= min(p) and max(p) < k for p in pairs)
    assert sorted(info['upper_body_ids'] + info['lower_body_ids']) == list(range(k))
    assert info['dataset_name'] == name
    prefix = name.upper()
    assert getattr(presets, f'{prefix}_NAMES') is names
    assert getattr(presets, f'{prefix}_SIGMAS') is info['sigmas']
    assert getattr(presets, f'{prefix}_METAINFO') is info


@pytest.mark.parametrize('name', sorted(SIZES))
def test_flip_pairs_are_the_left_right_partners(name):
    info = PRESETS[name]
    names = info['keypoint_names']
    want = sorted(sorted((i, names.index(_partner(n)))) for i, n in enumerate(names)
                  if _partner(n) in names and i < names.index(_partner(n)))
    assert sorted(sorted(p) for p in info['flip_pairs']) == want
    assert all(_partner(n) is None or _partner(n) in names for n in names)
    # partners share their loss weight, and their sigma except in AI
    # Challenger's published (measured, so asymmetric) sigmas
    for a, b in info['flip_pairs']:
        assert info['joint_weights'][a] == info['joint_weights'][b]
        if name != 'aic':
            assert info['sigmas'][a] == info['sigmas'][b]


@pytest.mark.parametrize('name', ['coco'])
def test_equal_to_the_metainfo_files_in_configs(name):
    """configs/_base_/datasets/coco.py (MMPose layout) says the same."""
    from_file = KeypointMeta.from_file(str(ROOT / 'configs/_base_/datasets' / f'{name}.py'))
    ours = KeypointMeta.from_config(PRESETS[name]).to_dict()
    theirs = from_file.to_dict()
    for key in ('dataset_name', 'keypoint_names', 'flip_pairs', 'flip_indices', 'skeleton',
                'sigmas', 'joint_weights', 'upper_body_ids', 'lower_body_ids'):
        assert ours[key] == theirs[key], key


def test_preset_metainfo_is_a_copy_and_unknown_names_fail():
    info = preset_metainfo('mpii')
    assert info == PRESETS['mpii']
    info['keypoint_names'].append('tail')
    assert len(PRESETS['mpii']['keypoint_names']) == 16
    with pytest.raises(KeyError, match="'horse'.*aic"):
        preset_metainfo('horse')
