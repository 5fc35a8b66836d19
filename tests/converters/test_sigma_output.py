"""Writing estimated sigmas where the keypoint definition is read from."""
from __future__ import annotations

import json

import numpy as np
import pytest

from customkpt.converters.common import ConversionError
from customkpt.converters.sigma_output import final_sigmas, output_format, write_sigmas
from customkpt.meta import KeypointMeta

NAMES = ['snout', 'left_ear', 'right_ear']
SIGMAS = [0.021, 0.043, 0.05]


@pytest.fixture
def ann_file(tmp_path):
    data = dict(info=dict(note='kept'), images=[dict(id=1, file_name='x.jpg')], annotations=[],
                categories=[dict(id=3, name='bg'),
                            dict(id=1, name='mouse', keypoints=NAMES, skeleton=[[1, 2]],
                                 flip_pairs=[[1, 2]])])
    path = tmp_path / 'val.json'
    path.write_text(json.dumps(data))
    return path


def meta_of(path):
    cat = json.loads(path.read_text())['categories'][1]
    return KeypointMeta.from_coco_category(cat)


def test_an_annotation_copy_carries_the_sigmas_the_definition_reads(ann_file, tmp_path):
    meta = meta_of(ann_file)
    before = ann_file.read_text()
    out = write_sigmas(tmp_path / 'out' / 'val_sigmas.json', 'annotations', SIGMAS, meta,
                       ann_file)
    assert ann_file.read_text() == before
    data = json.loads(out.read_text())
    assert data['categories'][1]['sigmas'] == SIGMAS and 'sigmas' not in data['categories'][0]
    assert data['info'] == dict(note='kept')
    got = KeypointMeta.resolve(None, category=data['categories'][1])
    np.testing.assert_allclose(got.sigmas, SIGMAS, rtol=1e-6)
    assert not got.sigmas_defaulted and got.flip_pairs == [[1, 2]]
    with pytest.raises(ConversionError, match='lists the points'):
        write_sigmas(tmp_path / 'x.json', 'annotations', SIGMAS[:2],
                     KeypointMeta.from_config(dict(keypoint_names=NAMES[:2], sigmas=SIGMAS[:2])),
                     ann_file)


@pytest.mark.parametrize('suffix', ['.py', '.json', '.yaml'])
def test_a_metainfo_file_holds_the_whole_definition(ann_file, tmp_path, suffix):
    meta = meta_of(ann_file)
    out = write_sigmas(tmp_path / f'mouse{suffix}', 'metainfo', SIGMAS, meta)
    got = KeypointMeta.from_file(out)
    np.testing.assert_allclose(got.sigmas, SIGMAS, rtol=1e-6)
    assert got.keypoint_names == NAMES and got.flip_pairs == [[1, 2]]
    assert got.skeleton == [[0, 1]] and got.dataset_name == 'mouse'


def test_points_without_an_estimate_keep_their_sigma_and_zero_is_refused():
    values, kept = final_sigmas(np.array([0.0312345678, np.nan, 0.04]), np.array([1, 2, 3.]),
                                NAMES)
    assert values == [0.031235, 2.0, 0.04] and kept == ['left_ear']
    with pytest.raises(ConversionError, match=r"sigma of \['right_ear'\] is 0"):
        final_sigmas(np.array([0.1, 0.1, 0.0]), np.ones(3), NAMES)


def test_output_format_follows_the_suffix():
    assert output_format('a.json') == 'annotations'
    assert output_format('a.json', 'metainfo') == 'metainfo'
    assert output_format('a.yml') == 'metainfo' and output_format('m.py') == 'metainfo'
    with pytest.raises(ConversionError, match='written as .json'):
        output_format('a.py', 'annotations')
    with pytest.raises(ConversionError, match='metainfo file is one of'):
        output_format('a.txt')
