"""``train --data``: recognising the formats, converting and splitting, and
reading the keypoint definition from the train file."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from customkpt.apis.quickstart import (LOOKED_FOR, derive_definition, find_image_root,
                                       prepare_data, read_train_facts, recognise)
from customkpt.errors import UserError
from customkpt.meta.errors import KeypointMetaWarning

from . import quickstart_kit as kit

pytestmark = pytest.mark.filterwarnings("ignore::customkpt.meta.errors.KeypointMetaWarning")


# ------------------------------------------------------------------ recognise
def test_a_coco_file_is_its_train_split_and_a_folder_pairs_train_and_val(tmp_path):
    train = kit.coco(tmp_path / 'one', 6)
    found = recognise(train)
    assert (found.kind, found.path, found.val_path, found.name) == ('coco', train, None, 'one')
    folder = tmp_path / 'pair'
    kit.coco(folder / 'annotations', 4, file_name='person_keypoints_train2017.json')
    val = kit.coco(folder / 'annotations', 2, file_name='person_keypoints_val2017.json')
    found = recognise(folder)
    assert found.kind == 'coco' and found.val_path == val and found.name == 'pair'
    assert found.path.name == 'person_keypoints_train2017.json'
    kit.coco(tmp_path / 'tv', 3, file_name='trainval.json')
    found = recognise(tmp_path / 'tv')
    assert found.path.name == 'trainval.json' and found.val_path is None  # not its own val


def test_deeplabcut_projects_tables_and_labelme_folders(tmp_path):
    project = kit.dlc_project(tmp_path / 'mouse-2024', 4)
    table = project / 'labeled-data' / 'video1' / 'CollectedData_me.csv'
    for given in (project, project / 'config.yaml', table):
        found = recognise(given)
        assert (found.kind, found.path, found.name) == ('dlc', given, 'mouse-2024')
    found = recognise(kit.labelme(tmp_path / 'shots', 3))
    assert (found.kind, found.name) == ('labelme', 'shots')


def test_a_folder_of_nothing_known_lists_what_was_looked_for(tmp_path):
    (tmp_path / 'notes.txt').write_text('x')
    (tmp_path / 'list.json').write_text('[1, 2]')
    with pytest.raises(UserError) as err:
        recognise(tmp_path)
    message = str(err.value)
    assert message.startswith(f'--data {tmp_path}: cannot tell what data this is')
    assert all(what in message for what in LOOKED_FOR)
    assert 'Found: list.json, notes.txt' in message
    assert 'customkpt convert FORMAT SRC OUT' in message


@pytest.mark.parametrize('content, expected', [
    ('{"shapes": []}', 'this is one Labelme file; give the folder'),
    ('{"images": []}', 'not a COCO-keypoint file (it needs "images", "annotations" and '
                       '"categories"; found [\'images\'])'),
    ('{broken', 'cannot read it as json'),
])
def test_a_json_that_is_not_coco_keypoints_says_what_it_is(tmp_path, content, expected):
    path = tmp_path / 'labels.json'
    path.write_text(content)
    with pytest.raises(UserError, match='^--data .*labels.json: ') as err:
        recognise(path)
    assert expected in str(err.value)


def test_missing_paths_and_unknown_files_are_refused(tmp_path):
    with pytest.raises(UserError, match='no such file or folder'):
        recognise(tmp_path / 'nowhere')
    (tmp_path / 'a.txt').write_text('')
    with pytest.raises(UserError, match='not a file this command reads'):
        recognise(tmp_path / 'a.txt')


# -------------------------------------------------------------------- prepare
def test_a_train_only_file_is_split_seeded_with_at_least_one_val_image(tmp_path):
    source = recognise(kit.coco(tmp_path / 'd', 20))
    data = prepare_data(source, tmp_path / 'w')
    train = json.loads(data.train_file.read_text())
    val = json.loads(data.val_file.read_text())
    assert data.train_file == (tmp_path / 'w' / 'data' / 'train.json').resolve()
    assert (len(train['images']), len(val['images'])) == (17, 3)  # round(20 * 0.15)
    assert data.train_images == data.val_images == (tmp_path / 'd' / 'images').resolve()
    again = prepare_data(source, tmp_path / 'w2')
    assert json.loads(again.val_file.read_text()) == val
    small = prepare_data(recognise(kit.coco(tmp_path / 's', 3)), tmp_path / 'w3',
                         val_fraction=0.1)
    assert len(json.loads(small.val_file.read_text())['images']) == 1


def test_a_given_val_split_is_used_as_it_is(tmp_path):
    train = kit.coco(tmp_path, 5)
    val = kit.coco(tmp_path, 2, file_name='val.json')
    data = prepare_data(recognise(tmp_path), tmp_path / 'w')
    assert (data.train_file, data.val_file) == (train, val)
    assert not (tmp_path / 'w' / 'data').exists()
    with pytest.raises(UserError, match='--val-fraction: .* already has a val split'):
        prepare_data(recognise(tmp_path), tmp_path / 'w', val_fraction=0.2)


def test_deeplabcut_and_labelme_data_are_converted_into_the_work_dir(tmp_path):
    project = kit.dlc_project(tmp_path / 'proj', 10)
    data = prepare_data(recognise(project), tmp_path / 'w')
    assert data.train_images == project.resolve()
    val = json.loads(data.val_file.read_text())
    assert len(val['images']) == 2 and val['categories'][0]['keypoints'] == kit.NAMES
    assert any('converted the dlc data' in line for line in data.lines)
    with pytest.raises(UserError, match='--images is for COCO-keypoint files'):
        prepare_data(recognise(project), tmp_path / 'w', images=tmp_path)
    shots = kit.labelme(tmp_path / 'shots', 4)
    # the work dir inside the Labelme folder is not searched for more files
    data = prepare_data(recognise(shots), shots / 'work')
    assert data.train_file == (shots / 'work' / 'data' / 'train.json').resolve()
    assert data.train_images == shots.resolve()


def test_too_few_images_or_a_bad_fraction_are_refused(tmp_path):
    with pytest.raises(UserError, match='1 labelled image.*at least 2'):
        prepare_data(recognise(kit.coco(tmp_path / 'one', 1)), tmp_path / 'w')
    with pytest.raises(UserError, match='--val-fraction must be between 0 and 1, got 1.0'):
        prepare_data(recognise(kit.coco(tmp_path / 'd', 4)), tmp_path / 'w', val_fraction=1.0)


def test_the_image_root_is_found_beside_the_file_or_given(tmp_path):
    train = kit.coco(tmp_path / 'ann', 3, image_dir='../pictures')
    with pytest.raises(UserError, match="image 'frame001.png' is not under .*pass --images ROOT"):
        find_image_root(train)
    assert find_image_root(train, tmp_path / 'pictures') == (tmp_path / 'pictures').resolve()
    with pytest.raises(UserError, match='is not under .*elsewhere$'):
        find_image_root(train, tmp_path / 'elsewhere')


# ---------------------------------------------------------------------- facts
def test_flip_pairs_come_from_the_names_when_the_category_has_none(tmp_path):
    with pytest.warns(KeypointMetaWarning, match='no OKS sigmas given'):
        facts = read_train_facts(kit.coco(tmp_path, 4))
    assert facts.definition == dict(dataset_name='mouse', keypoint_names=kit.NAMES,
                                    skeleton=[[0, 3]], flip_pairs=[[1, 2]], sigmas=None)
    assert (facts.num_images, facts.num_instances) == (4, 4)
    assert facts.median_aspect == pytest.approx(0.5)


def test_the_category_s_own_flip_pairs_and_sigmas_are_kept():
    category = dict(name='x', keypoints=['a', 'b', 'left_c', 'right_c'], flip_pairs=[[0, 1]],
                    sigmas=[0.1, 0.1, 0.2, 0.2])
    with warnings.catch_warnings():
        warnings.simplefilter('error', KeypointMetaWarning)
        definition, meta = derive_definition(category, 'test')
    assert definition['flip_pairs'] == [[0, 1]] == meta.flip_pairs
    assert definition['sigmas'] == pytest.approx([0.1, 0.1, 0.2, 0.2])
    category['flip_pairs'] = []   # stated: none, whatever the names say
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', KeypointMetaWarning)
        assert derive_definition(category, 'test')[0]['flip_pairs'] == []


def test_a_file_without_one_keypoint_category_or_instances_is_refused(tmp_path):
    path = kit.coco(tmp_path, 2)
    coco = json.loads(path.read_text())
    coco['categories'].append(dict(coco['categories'][0], id=2, name='rat'))
    path.write_text(json.dumps(coco))
    with pytest.raises(UserError, match=r"exactly one .*found 2 \[\(1, 'mouse'\), \(2, 'rat'\)\]"):
        read_train_facts(path)
    coco['categories'].pop()
    for ann in coco['annotations']:
        ann['keypoints'] = [0] * 12
    path.write_text(json.dumps(coco))
    with pytest.raises(UserError, match='no instance to train on'):
        read_train_facts(path)


def test_boxes_missing_from_the_file_are_derived_from_the_points(tmp_path):
    path = kit.coco(tmp_path, 3)
    coco = json.loads(path.read_text())
    for ann in coco['annotations']:
        del ann['bbox']
    path.write_text(json.dumps(coco))
    facts = read_train_facts(Path(path))
    # points span 10 x 24 pixels; padding grows both sides by the same margin
    assert facts.median_aspect == pytest.approx((10 + 12) / (24 + 12))
