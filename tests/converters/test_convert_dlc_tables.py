"""DeepLabCut-layout tables without a DeepLabCut project: Lightning Pose
folders, lone .csv / .h5 tables, body parts from the header."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from customkpt.cli import main as cli_main
from customkpt.converters import ConversionError, convert_dlc, format_summary
from customkpt.converters.dlc_tables import h5_available

MIRROR = Path(__file__).resolve().parents[2] / '..' / 'shared' / 'data' / 'mirror-mouse'


def write_table(path: Path, parts: list[str], rows: list[tuple[list[str], dict]],
                individuals: list[str] | None = None, scorer: str = 'me') -> Path:
    """A table in DeepLabCut's published CSV layout: 3 header rows (4 with
    ``individuals``), then index cells (1 path column or ``labeled-data,
    video, file``) and x, y per column; a missing point is two empty cells."""
    cols = [(i, p) for i in individuals for p in parts] if individuals else \
        [(None, p) for p in parts]
    n_index = max(len(index) for index, _ in rows)
    pad = [''] * (n_index - 1)
    lines = [['scorer'] + pad + [scorer] * 2 * len(cols)]
    if individuals:
        lines.append(['individuals'] + pad + [i for i, _ in cols for _ in 'xy'])
    lines.append(['bodyparts'] + pad + [p for _, p in cols for _ in 'xy'])
    lines.append(['coords'] + pad + ['x', 'y'] * len(cols))
    for index, points in rows:
        cells = list(index)
        for key in cols:
            xy = points.get(key if individuals else key[1])
            cells += ['', ''] if xy is None else [repr(float(xy[0])), repr(float(xy[1]))]
        lines.append(cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', newline='') as fh:
        csv.writer(fh).writerows(lines)
    return path


def _kpts(ann: dict) -> np.ndarray:
    return np.asarray(ann['keypoints'], float).reshape(-1, 3)


def test_lightning_pose_folder_several_tables(tmp_path, write_image):
    """CollectedData.csv and CollectedData_new.csv at the top, paths relative
    to that folder, body parts (in header order, unioned) from the tables."""
    lp = tmp_path / 'lp'
    for name in ('a/img1.png', 'a/img2.png', 'b/img10.png'):
        write_image(lp / 'labeled-data' / name, 40, 30)
    write_table(lp / 'CollectedData.csv', ['nose', 'ear_L', 'ear_R'], [
        (['labeled-data/a/img2.png'], {'nose': (1.5, 2.25), 'ear_R': (3.0, 4.0)}),
        (['labeled-data/a/img1.png'], {'nose': (5.0, 6.0), 'ear_L': (7.0, 8.0)})])
    write_table(lp / 'CollectedData_new.csv', ['nose', 'tail'], [
        (['labeled-data/b/img10.png'], {'tail': (9.0, 10.0)})])
    res = convert_dlc(lp, progress=False)
    cat = res.coco['categories'][0]
    assert cat['keypoints'] == ['nose', 'ear_L', 'ear_R', 'tail']
    assert cat['flip_pairs'] == [[1, 2]] and cat['name'] == 'animal'
    assert res.image_root == lp.resolve()
    assert [(i['file_name'], i['folder']) for i in res.coco['images']] == [
        ('labeled-data/a/img1.png', 'a'), ('labeled-data/a/img2.png', 'a'),
        ('labeled-data/b/img10.png', 'b')]
    k = [_kpts(a) for a in res.coco['annotations']]
    assert k[0].tolist() == [[5, 6, 2], [7, 8, 2], [0, 0, 0], [0, 0, 0]]
    assert k[1].tolist() == [[1.5, 2.25, 2], [0, 0, 0], [3, 4, 2], [0, 0, 0]]
    assert k[2].tolist() == [[0, 0, 0]] * 3 + [[9, 10, 2]]
    assert res.stats.notes == []


def test_lone_table_in_a_project_three_index_columns(tmp_path, write_image):
    """A CollectedData_*.csv given by path: the image root is the project it
    lies in, and its config.yaml (when there) orders the body parts."""
    proj = tmp_path / 'proj'
    write_image(proj / 'labeled-data' / 'v1' / 'f0.png', 50, 40)
    table = write_table(proj / 'labeled-data' / 'v1' / 'CollectedData_me.csv', ['b', 'a'], [
        (['labeled-data', 'v1', 'f0.png'], {'a': (1.0, 2.0), 'b': (3.0, 4.0)})])
    res = convert_dlc(table, progress=False)
    assert res.image_root == proj.resolve()
    assert res.coco['images'][0]['file_name'] == 'labeled-data/v1/f0.png'
    assert res.keypoint_names == ['b', 'a']
    assert _kpts(res.coco['annotations'][0])[:, :2].tolist() == [[3, 4], [1, 2]]
    (proj / 'config.yaml').write_text(yaml.safe_dump({'Task': 'mice', 'bodyparts': ['a', 'b'],
                                                      'skeleton': [['a', 'b']]}))
    res = convert_dlc(table, progress=False)
    assert res.keypoint_names == ['a', 'b'] and res.coco['categories'][0]['name'] == 'mice'
    assert res.coco['categories'][0]['skeleton'] == [[1, 2]]
    assert _kpts(res.coco['annotations'][0])[:, :2].tolist() == [[1, 2], [3, 4]]


def test_lone_table_paths_relative_to_its_folder(tmp_path, write_image):
    write_image(tmp_path / 'shots' / 'x.png', 20, 20)
    table = write_table(tmp_path / 'labels.csv', ['p'], [(['shots/x.png'], {'p': (4.0, 5.0)})])
    res = convert_dlc(table, progress=False)
    assert res.image_root == tmp_path.resolve()
    assert res.coco['images'][0]['file_name'] == 'shots/x.png'
    assert res.coco['images'][0]['folder'] == 'shots'


def test_project_without_config_reads_labeled_data(tmp_path, write_image):
    proj = tmp_path / 'p'
    write_image(proj / 'labeled-data' / 'v' / 'i.png', 20, 20)
    write_table(proj / 'labeled-data' / 'v' / 'CollectedData_x.csv', ['q'], [
        (['labeled-data/v/i.png'], {'q': (1.0, 1.0)})])
    res = convert_dlc(proj, progress=False)
    assert res.coco['images'][0]['file_name'] == 'labeled-data/v/i.png'
    assert any('no config.yaml' in n for n in res.stats.notes)


def test_missing_image_names_both_places(tmp_path, write_image):
    proj = tmp_path / 'proj'
    table = write_table(proj / 'labeled-data' / 'v' / 'CollectedData_me.csv', ['p'], [
        (['labeled-data/v/gone.png'], {'p': (1.0, 1.0)})])
    with pytest.raises(ConversionError) as info:
        convert_dlc(table, progress=False)
    msg = str(info.value)
    assert msg.startswith(f"{table}: line 4: image 'labeled-data/v/gone.png' not found")
    assert (f'{proj / "labeled-data/v/gone.png"} (relative to the project root {proj} = by '
            'file name beside the table)') in msg    # the same file: named once
    assert (f'{table.parent / "labeled-data/v/gone.png"} (relative to the table\'s folder '
            f'{table.parent})') in msg
    lp = write_table(tmp_path / 'lp' / 'CollectedData.csv', ['p'], [(['img.png'], {'p': (1, 1)})])
    with pytest.raises(ConversionError, match=r'project root .*lp = relative to the table'):
        convert_dlc(lp.parent, progress=False)


def test_multi_animal_header_without_config(tmp_path, write_image):
    write_image(tmp_path / 'im' / 'a.png', 60, 60)
    write_image(tmp_path / 'im' / 'b.png', 60, 60)
    write_table(tmp_path / 'CollectedData.csv', ['head', 'tail'], [
        (['im/a.png'], {('m2', 'head'): (1.0, 2.0), ('m1', 'tail'): (3.0, 4.0),
                        ('single', 'head'): (5.0, 5.0)}),
        (['im/b.png'], {('m2', 'tail'): (7.0, 8.0)})], individuals=['m2', 'm1', 'single'])
    res = convert_dlc(tmp_path, progress=False)
    anns = res.coco['annotations']
    assert res.keypoint_names == ['head', 'tail']
    assert [(a['image_id'], a['individual']) for a in anns] == [(1, 'm2'), (1, 'm1'), (2, 'm2')]
    assert _kpts(anns[1]).tolist() == [[0, 0, 0], [3, 4, 2]]
    assert any(n.startswith('1 labelled unique') for n in res.stats.notes)
    assert not any('config.yaml' in n for n in res.stats.notes)


def test_ambiguous_or_unpaired_side_names_give_no_wrong_pair(tmp_path, write_image):
    write_image(tmp_path / 'i.png', 30, 30)
    parts = ['left_hand_r', 'right_hand_r', 'left_hand_l', 'paw1LH', 'paw4RH']
    write_table(tmp_path / 'CollectedData.csv', parts,
                [(['i.png'], {p: (1.0 + i, 2.0) for i, p in enumerate(parts)})])
    res = convert_dlc(tmp_path, progress=False)
    assert res.coco['categories'][0]['flip_pairs'] == []
    (note,) = res.stats.notes
    assert note.startswith("no flip pairs derived: cannot derive flip pairs: 'left_hand_r' "
                           'matches both')
    parts = ['nose', 'ear_L', 'ear_R', 'paw1LH', 'paw4RH', 'toe1_L', 'toe2_L', 'toe3_R']
    write_table(tmp_path / 'CollectedData.csv', parts,
                [(['i.png'], {p: (1.0 + i, 2.0) for i, p in enumerate(parts)})])
    res = convert_dlc(tmp_path, progress=False)
    assert res.coco['categories'][0]['flip_pairs'] == [[1, 2]]
    (note,) = res.stats.notes
    assert ("no flip pair and a horizontal flip keeps their labels: ['paw1LH', 'paw4RH', "
            "'toe1_L', 'toe2_L', 'toe3_R']") in note
    assert note.endswith('paw1LH<->paw4RH = [[3, 4]]')   # the toes match ambiguously


def test_bad_inputs(tmp_path):
    (tmp_path / 'notes.txt').write_text('x')
    with pytest.raises(ConversionError, match=r'notes.txt: not a label table'):
        convert_dlc(tmp_path / 'notes.txt', progress=False)
    bad = tmp_path / 'CollectedData.csv'
    bad.write_text('frame,x,y\n0,1,2\n')
    with pytest.raises(ConversionError, match=r'CollectedData.csv: line 1: expected a '
                                              'DeepLabCut header row starting with "scorer"'):
        convert_dlc(tmp_path, progress=False)


@pytest.mark.skipif(h5_available(), reason='pandas/PyTables installed: .h5 tables are read')
def test_h5_table_without_pandas_is_a_clear_error(tmp_path):
    (tmp_path / 'CollectedData.h5').write_bytes(b'\x89HDF')
    for src in (tmp_path, tmp_path / 'CollectedData.h5'):
        with pytest.raises(ConversionError, match='needs pandas and PyTables'):
            convert_dlc(src, progress=False)


@pytest.fixture
def mirror_mouse() -> Path:
    if not (MIRROR / 'CollectedData.csv').is_file():
        pytest.skip(f'real data not available: {MIRROR.resolve()} is absent (the shared data '
                    'folder ../shared/data sits beside the repository)')
    return MIRROR


def test_real_mirror_mouse(mirror_mouse, tmp_path, capsys):
    with open(mirror_mouse / 'CollectedData.csv', newline='') as fh:
        rows = list(csv.reader(fh))
    names = list(dict.fromkeys(rows[1][1:]))
    table = {r[0]: r[1:] for r in rows[3:]}
    res = convert_dlc(mirror_mouse, progress=False)
    coco = res.coco
    assert res.keypoint_names == names and len(names) == 17
    assert 'paw1LH_top' in names and 'paw1LH_bot' in names
    assert len(coco['images']) == 90 and len(coco['annotations']) == 90
    assert res.image_root == mirror_mouse.resolve()
    assert sorted(i['file_name'] for i in coco['images']) == sorted(table)
    by_id = {i['id']: i for i in coco['images']}
    empty = 0
    for ann in coco['annotations']:
        img = by_id[ann['image_id']]
        assert (img['width'], img['height']) == (396, 406) and img['folder'] == 'labeled-data'
        cells = table[img['file_name']]
        k = _kpts(ann)
        for j in range(17):
            x, y = cells[2 * j:2 * j + 2]
            if x == '':
                empty += 2
                assert k[j].tolist() == [0, 0, 0]
            else:
                assert k[j].tolist() == [float(x), float(y), 2]
    assert empty == 268 and sum(res.stats.labelled_per_keypoint) == 1530 - 134
    assert coco['categories'][0]['flip_pairs'] == []
    (note,) = res.stats.notes
    assert 'paw1LH_top' in note and 'paw4RH_bot' in note and 'tailBase_top' not in note.split(
        'labels:')[1].split(';')[0]
    assert 'paw1LH_top<->paw4RH_top, paw2LF_top<->paw3RF_top' in note
    assert note.endswith('= [[0, 3], [1, 2], [8, 11], [9, 10]]')
    assert 'note: 8 names mark a side' in format_summary(res)

    assert cli_main(['convert', 'dlc', str(mirror_mouse / 'CollectedData.csv'),
                     str(tmp_path / 'out'), '--no-split', '--no-progress']) == 0
    assert 'images: 90' in capsys.readouterr().out
    assert (tmp_path / 'out' / 'all.json').is_file()
    copy = tmp_path / 'lp'
    shutil.copytree(mirror_mouse, copy, ignore=shutil.ignore_patterns('videos'))
    (copy / 'labeled-data' / 'img05.png').unlink()
    with pytest.raises(ConversionError, match=r"line \d+: image 'labeled-data/img05.png' "
                                              'not found'):
        convert_dlc(copy, progress=False)
