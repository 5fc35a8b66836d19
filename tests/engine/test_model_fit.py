"""A checkpoint or dataset with another keypoint count than the model is
refused, naming both numbers, before anything runs with a random head."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from customkpt.engine.config import load_config
from customkpt.engine.model_fit import (KeypointCountError, build_bare_model,
                                        check_checkpoint_fits, check_checkpoint_fits_config,
                                        check_dataset_fits, num_model_keypoints, weights_of)

ROOT = Path(__file__).resolve().parents[2]
CONFIG5 = str(ROOT / 'configs' / 'hrnet_self5_cpu.py')
FOUR = """
_base_ = [{base!r}]
num_joints = 4
keypoint_names = ['head', 'left_hand', 'right_hand', 'left_foot']
flip_pairs = [[1, 2]]
skeleton = [[0, 1], [0, 2], [0, 3]]
sigmas = [0.026, 0.062, 0.062, 0.089]
"""


@pytest.fixture(scope='module')
def five_point_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('ckpt') / 'five.pth'
    model = build_bare_model(load_config(CONFIG5))
    names = ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot']
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(keypoint_names=names))), path)
    return path


def four_point_config(tmp_path: Path) -> str:
    path = tmp_path / 'four.py'
    path.write_text(FOUR.format(base=CONFIG5))
    return str(path)


def test_a_five_point_head_does_not_fit_a_four_point_model(tmp_path, five_point_checkpoint):
    model = build_bare_model(load_config(four_point_config(tmp_path)))
    assert num_model_keypoints(model) == 4
    weights = weights_of(torch.load(five_point_checkpoint, weights_only=True))
    with pytest.raises(KeypointCountError, match=r'five.pth: its head is for 5 keypoints but '
                                                 r'the model has 4.*model.pretrained'):
        check_checkpoint_fits(model, weights, str(five_point_checkpoint))
    with pytest.raises(KeypointCountError, match='5 keypoints but the model has 4'):
        check_checkpoint_fits_config(load_config(four_point_config(tmp_path)),
                                     str(five_point_checkpoint))
    # The same checkpoint fits the five-point config.
    check_checkpoint_fits_config(load_config(CONFIG5), str(five_point_checkpoint))


def test_a_checkpoint_naming_other_points_than_the_head_is_refused(five_point_checkpoint):
    model = build_bare_model(load_config(CONFIG5))
    weights = weights_of(torch.load(five_point_checkpoint, weights_only=True))
    with pytest.raises(KeypointCountError, match='names 3 keypoints but the model has 5'):
        check_checkpoint_fits(model, weights, 'x.pth', dict(keypoint_names=['a', 'b', 'c']))


def test_weights_of_strips_the_ddp_prefix():
    w = torch.zeros(2)
    assert weights_of(dict(state_dict={'module.head.b': w, 'meta': 1})) == {'head.b': w}
    assert weights_of({'head.b': w}) == {'head.b': w}


def test_dataset_check_names_both_numbers():
    model = SimpleNamespace(head=SimpleNamespace(out_channels=5))
    check_dataset_fits(model, dict(num_keypoints=5), 'train')
    check_dataset_fits(model, {}, 'train')  # nothing to compare
    with pytest.raises(KeypointCountError,
                       match=r'predicts 5 keypoints .*out_channels=5.* train dataset defines 4'):
        check_dataset_fits(model, dict(keypoint_names=list('abcd')), 'train')
