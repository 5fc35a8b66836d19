"""``customkpt to-dlc``: a COCO json -> CollectedData_<scorer>.csv, read back by
``customkpt convert dlc``."""
from __future__ import annotations

import json

import cv2
import numpy as np

from customkpt import cli


def _dataset(root):
    (root / 'imgs').mkdir(parents=True)
    for name in ('a.png', 'b.png'):
        cv2.imwrite(str(root / 'imgs' / name), np.zeros((40, 50, 3), np.uint8))
    return {'images': [{'id': 1, 'file_name': 'imgs/a.png', 'width': 50, 'height': 40},
                       {'id': 2, 'file_name': 'imgs/b.png', 'width': 50, 'height': 40}],
            'categories': [{'id': 1, 'name': 'm', 'keypoints': ['nose', 'tail']}],
            'annotations': [{'id': 1, 'image_id': 1, 'category_id': 1,
                             'keypoints': [10.5, 20.25, 2, 0, 0, 0]},
                            {'id': 2, 'image_id': 2, 'category_id': 1,
                             'keypoints': [1, 2, 1, 30, 31, 2]}]}


def test_to_dlc_and_back(tmp_path, capsys):
    coco = _dataset(tmp_path)
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(coco))
    assert cli.main(['to-dlc', str(ann), str(tmp_path), '--scorer', 'lab']) == 0
    out = capsys.readouterr().out
    table = tmp_path / 'CollectedData_lab.csv'
    assert out.splitlines() == [f'wrote {table}: 2 images, 2 instances, 3 labelled points '
                                '(single-animal)']
    assert table.read_text().splitlines()[3:] == ['imgs/a.png,10.5,20.25,,',
                                                  'imgs/b.png,1.0,2.0,30.0,31.0']
    assert cli.main(['convert', 'dlc', str(table), str(tmp_path / 'back'), '--no-split',
                     '--no-progress']) == 0
    back = json.loads((tmp_path / 'back' / 'all.json').read_text())
    assert [a['keypoints'] for a in back['annotations']] == [
        [10.5, 20.25, 2, 0, 0, 0], [1.0, 2.0, 2, 30.0, 31.0, 2]]   # v = 1 comes back as 2


def test_to_dlc_notes_and_errors(tmp_path, capsys):
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(_dataset(tmp_path)))
    assert cli.main(['to-dlc', str(ann), str(tmp_path / 'elsewhere')]) == 0
    assert ('note: imgs/a.png is not found relative to ' in capsys.readouterr().out)
    assert (tmp_path / 'elsewhere' / 'CollectedData_customkpt.csv').is_file()
    assert cli.main(['to-dlc', str(tmp_path / 'nope.json'), str(tmp_path)]) == 2
    assert 'error: annotation file not found' in capsys.readouterr().err
    ann.write_text('[1, 2]')
    assert cli.main(['to-dlc', str(ann), str(tmp_path)]) == 2
    assert 'expected a COCO dict' in capsys.readouterr().err
    ann.write_text(json.dumps({'images': [{'id': 1, 'file_name': 'x'}], 'categories': []}))
    assert cli.main(['to-dlc', str(ann), str(tmp_path)]) == 2
    assert 'found 0 keypoint categories' in capsys.readouterr().err
