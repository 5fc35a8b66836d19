"""DeepLabCut -> COCO: the real openfield project and generated projects."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from customkpt.converters import (ConversionError, SplitSpec, convert_dlc, split_image_ids,
                                  write_splits)
from customkpt.converters.dlc_tables import h5_available


def _csv_rows(project: Path) -> dict[str, list[str]]:
    """Image path -> the value cells, read straight from the real CSV."""
    path = next((project / 'labeled-data' / 'm4s1').glob('CollectedData_*.csv'))
    with open(path, newline='') as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows[:3]] == ['scorer', 'bodyparts', 'coords']
    return {r[0]: r[1:] for r in rows[3:]}


def _labelled_xy(ann: dict) -> np.ndarray:
    k = np.asarray(ann['keypoints'], dtype=float).reshape(-1, 3)
    return k[k[:, 2] > 0, :2]


def test_real_project_layout_and_values(mouse_project):
    res = convert_dlc(mouse_project, progress=False)
    coco = res.coco
    cat = coco['categories'][0]
    assert cat['keypoints'] == ['snout', 'leftear', 'rightear', 'tailbase']
    assert cat['flip_pairs'] == [[1, 2]]
    assert cat['skeleton'] == []
    assert len(coco['images']) == 116 and len(coco['annotations']) == 116
    assert res.image_root == mouse_project.resolve()
    assert res.stats.labelled_per_keypoint == [116] * 4

    rows = _csv_rows(mouse_project)
    images = {img['id']: img for img in coco['images']}
    assert sorted(img['file_name'] for img in images.values()) == sorted(rows)
    for ann in coco['annotations']:
        img = images[ann['image_id']]
        assert (img['width'], img['height']) == (640, 480)
        assert img['folder'] == 'm4s1' and img['video'] == 'm4s1'
        assert (mouse_project / img['file_name']).is_file()
        expected = [float(c) for c in rows[img['file_name']]]
        kpts = np.asarray(ann['keypoints'], dtype=float).reshape(4, 3)
        assert kpts[:, :2].ravel().tolist() == expected  # exact CSV values
        assert kpts[:, 2].tolist() == [2, 2, 2, 2] and ann['num_keypoints'] == 4
        x, y, w, h = ann['bbox']
        xy = _labelled_xy(ann)
        assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= 640 and y + h <= 480
        assert (xy[:, 0] >= x).all() and (xy[:, 0] <= x + w).all()
        assert (xy[:, 1] >= y).all() and (xy[:, 1] <= y + h).all()
        assert ann['area'] == pytest.approx(w * h)
        assert ann['category_id'] == 1 and ann['iscrowd'] == 0


def test_real_project_bbox_padding(mouse_project):
    """Each side moves out by pad x the extent's longer side (unless clipped)."""
    res = convert_dlc(mouse_project, bbox_pad=0.1, progress=False)
    ann = res.coco['annotations'][5]
    xy = _labelled_xy(ann)
    lo, hi = xy.min(0), xy.max(0)
    margin = max(0.1 * (hi - lo).max(), 8.0)
    x, y, w, h = ann['bbox']
    exp_x0, exp_y0 = max(lo[0] - margin, 0), max(lo[1] - margin, 0)
    assert (x, y) == pytest.approx((exp_x0, exp_y0))
    assert x + w == pytest.approx(min(hi[0] + margin, 640))
    assert y + h == pytest.approx(min(hi[1] + margin, 480))


def test_real_project_val_every_7_by_id(mouse_project, tmp_path):
    res = convert_dlc(mouse_project, progress=False)
    ids = [img['id'] for img in res.coco['images']]
    assert ids == list(range(1, 117))
    names = [img['file_name'] for img in res.coco['images']]
    assert names == sorted(names)  # ids follow the (zero-padded) frame names
    out = write_splits(res, tmp_path, SplitSpec(mode='every', every=7))
    assert (out.images['train'], out.images['val']) == (99, 17)
    val = json.loads((tmp_path / 'val.json').read_text())
    train = json.loads((tmp_path / 'train.json').read_text())
    assert [img['id'] for img in val['images']] == list(range(1, 117, 7))
    assert {a['image_id'] for a in val['annotations']} == set(range(1, 117, 7))
    assert not {img['id'] for img in train['images']} & set(range(1, 117, 7))
    assert len(train['annotations']) == 99 and len(val['annotations']) == 17
    assert val['images'][1]['file_name'] == 'labeled-data/m4s1/img0007.png'


def test_real_project_output_is_deterministic(mouse_project, tmp_path):
    for run in ('a', 'b'):
        write_splits(convert_dlc(mouse_project, progress=False), tmp_path / run,
                     SplitSpec(mode='random', val_fraction=0.15, seed=3))
    for name in ('train.json', 'val.json'):
        assert (tmp_path / 'a' / name).read_bytes() == (tmp_path / 'b' / name).read_bytes()
    train, val = split_image_ids(
        convert_dlc(mouse_project, progress=False).coco['images'],
        SplitSpec(mode='random', val_fraction=0.15, seed=3))
    assert len(val) == round(116 * 0.15) and not set(train) & set(val)


def test_real_project_empty_cells_are_unlabelled(mouse_project, tmp_path):
    """A copy of the real project with some cells blanked (the real CSV has none)."""
    proj = tmp_path / 'mouse'
    (proj / 'labeled-data' / 'm4s1').mkdir(parents=True)
    shutil.copy(mouse_project / 'config.yaml', proj / 'config.yaml')
    src = next((mouse_project / 'labeled-data' / 'm4s1').glob('CollectedData_*.csv'))
    with open(src, newline='') as fh:
        rows = list(csv.reader(fh))[:9]  # header + 6 frames
    rows[3][3:5] = ['', '']      # img0000: leftear
    rows[4][1:9] = [''] * 8      # img0001: nothing labelled
    rows[5][7:9] = ['', '']      # img0002: tailbase
    with open(proj / 'labeled-data' / 'm4s1' / src.name, 'w', newline='') as fh:
        csv.writer(fh).writerows(rows)
    for r in rows[3:]:
        shutil.copy(mouse_project / r[0], proj / r[0])
    res = convert_dlc(proj, progress=False)
    assert len(res.coco['images']) == 6
    assert len(res.coco['annotations']) == 5  # the empty frame has no instance
    assert res.stats.skipped == {'no labelled point': 1}
    by_img = {a['image_id']: a for a in res.coco['annotations']}
    assert 2 not in by_img
    k0 = by_img[1]['keypoints']
    assert k0[3:6] == [0, 0, 0] and by_img[1]['num_keypoints'] == 3
    assert k0[0:3] == [float(rows[3][1]), float(rows[3][2]), 2]
    assert by_img[3]['keypoints'][9:12] == [0, 0, 0]
    assert res.stats.labelled_per_keypoint == [5, 4, 5, 4]


def _frames(n: int, parts: list[str], individuals: list[str] | None = None, seed: int = 0):
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        pts = {}
        for ind in individuals or [None]:
            for bp in parts:
                key = (ind, bp) if individuals else bp
                pts[key] = tuple(np.round(rng.uniform(5, 40, 2), 3))
        frames.append((f'img{i:03d}.png', pts))
    return frames


def test_multi_animal_two_folders(make_dlc_project):
    parts = ['snout', 'leftear', 'rightear', 'tail']
    inds = ['mus1', 'mus2']
    fa = _frames(3, parts, inds, seed=1)
    fb = _frames(2, parts, inds, seed=2)
    fb[1][1][('single', 'feeder')] = (3.0, 4.0)
    fa[0][1][('mus2', 'snout')] = None          # one point unlabelled
    for bp in parts:                            # mus1 absent from one frame
        fa[2][1][('mus1', bp)] = None
    proj = make_dlc_project({'videoA': fa, 'videoB': fb}, parts, individuals=inds,
                            index_cols={'videoB': 3}, unique=['feeder'],
                            skeleton=[['snout', 'leftear'], ['snout', 'rightear'],
                                      ['snout', 'nose']])
    res = convert_dlc(proj, progress=False)
    coco = res.coco
    cat = coco['categories'][0]
    assert cat['keypoints'] == parts and cat['name'] == 'test'
    assert cat['flip_pairs'] == [[1, 2]]
    assert cat['skeleton'] == [[1, 2], [1, 3]]  # 1-based; the unknown link dropped
    assert any('nose' in n for n in res.stats.notes)
    assert any('unique' in n and n.startswith('1 ') for n in res.stats.notes)
    assert [img['file_name'] for img in coco['images']] == [
        'labeled-data/videoA/img000.png', 'labeled-data/videoA/img001.png',
        'labeled-data/videoA/img002.png', 'labeled-data/videoB/img000.png',
        'labeled-data/videoB/img001.png']
    assert [img['folder'] for img in coco['images']] == ['videoA'] * 3 + ['videoB'] * 2
    assert len(coco['annotations']) == 9 and res.stats.skipped == {'no labelled point': 1}
    anns = coco['annotations']
    assert [(a['image_id'], a['individual']) for a in anns] == [
        (1, 'mus1'), (1, 'mus2'), (2, 'mus1'), (2, 'mus2'), (3, 'mus2'),
        (4, 'mus1'), (4, 'mus2'), (5, 'mus1'), (5, 'mus2')]
    assert anns[1]['keypoints'][:3] == [0, 0, 0] and anns[1]['num_keypoints'] == 3
    x, y = fb[1][1][('mus2', 'tail')]
    assert anns[8]['keypoints'][9:12] == [x, y, 2]
    assert res.stats.labelled_per_keypoint == [8, 9, 9, 9]


def test_split_by_folder_keeps_folders_together(make_dlc_project):
    parts = ['head', 'tail']
    folders = {f'vid{i}': _frames(n, parts, seed=i) for i, n in enumerate([4, 6, 3, 5, 2])}
    res = convert_dlc(make_dlc_project(folders, parts), progress=False)
    folder_of = {img['id']: img['folder'] for img in res.coco['images']}
    seen_val = set()
    for seed in range(6):
        train, val = split_image_ids(res.coco['images'],
                                     SplitSpec(mode='group', group_key='folder',
                                               val_fraction=0.3, seed=seed))
        assert train and val and len(train) + len(val) == 20
        train_f = {folder_of[i] for i in train}
        val_f = {folder_of[i] for i in val}
        assert not train_f & val_f
        assert len(val) >= 0.3 * 20
        # groups are added only until the target is reached: dropping the
        # last one added would leave val short of it
        sizes = {f: sum(1 for v in folder_of.values() if v == f) for f in val_f}
        assert min(len(val) - sizes[f] for f in val_f) < 0.3 * 20
        seen_val.add(frozenset(val_f))
    assert len(seen_val) > 1  # the seed matters
    with pytest.raises(ConversionError, match='one folder'):
        split_image_ids(res.coco['images'][:4], SplitSpec(mode='group', group_key='folder'))


def test_bad_csv_cell_names_file_line_column(make_dlc_project):
    proj = make_dlc_project({'v': _frames(3, ['a', 'b'])}, ['a', 'b'])
    path = proj / 'labeled-data' / 'v' / 'CollectedData_tester.csv'
    lines = path.read_text().splitlines()
    cells = lines[5].split(',')
    cells[3] = 'oops'                 # line 6 (1-based), column 4: b x
    lines[5] = ','.join(cells)
    path.write_text('\n'.join(lines) + '\n')
    with pytest.raises(ConversionError) as info:
        convert_dlc(proj, progress=False)
    msg = str(info.value)
    assert str(path) in msg and 'line 6' in msg and 'column 4' in msg and "'oops'" in msg
    assert 'b x' in msg


def test_half_labelled_point_and_unknown_bodypart_are_errors(make_dlc_project, tmp_path):
    proj = make_dlc_project({'v': _frames(2, ['a', 'b'])}, ['a', 'b'])
    path = proj / 'labeled-data' / 'v' / 'CollectedData_tester.csv'
    text = path.read_text().splitlines()
    cells = text[3].split(',')
    cells[2] = ''
    path.write_text('\n'.join([*text[:3], ','.join(cells), *text[4:]]) + '\n')
    with pytest.raises(ConversionError, match=r'line 4, column 3: a has x but no y'):
        convert_dlc(proj, progress=False)

    proj2 = make_dlc_project({'v': _frames(2, ['a', 'c'])}, ['a', 'c'], root=tmp_path / 'p2')
    cfg = (proj2 / 'config.yaml').read_text().replace('- c', '- b')
    (proj2 / 'config.yaml').write_text(cfg)
    with pytest.raises(ConversionError, match=r"body parts \['c'\] are not in bodyparts"):
        convert_dlc(proj2, progress=False)


def test_missing_config_and_image(make_dlc_project, tmp_path):
    with pytest.raises(ConversionError, match=r'nothing not found: expected a DeepLabCut '
                                              r'project folder \(with config.yaml\)'):
        convert_dlc(tmp_path / 'nothing', progress=False)
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ConversionError, match=r'empty: neither a DeepLabCut project '
                                              r'\(config.yaml not found\) nor a folder'):
        convert_dlc(tmp_path / 'empty', progress=False)
    proj = make_dlc_project({'v': _frames(2, ['a'])}, ['a'])
    (proj / 'labeled-data' / 'v' / 'img001.png').unlink()
    with pytest.raises(ConversionError, match=r"line 5: image 'labeled-data/v/img001.png' "
                                              'not found'):
        convert_dlc(proj, progress=False)


@pytest.mark.skipif(h5_available(), reason='pandas/PyTables installed: .h5 tables are read')
def test_h5_only_folder_is_skipped_with_a_note(make_dlc_project):
    proj = make_dlc_project({'v': _frames(2, ['a'])}, ['a'])
    h5_dir = proj / 'labeled-data' / 'w'
    h5_dir.mkdir()
    (h5_dir / 'CollectedData_tester.h5').write_bytes(b'\x89HDF')
    res = convert_dlc(proj, progress=False)
    assert len(res.coco['images']) == 2
    assert any('labeled-data/w' in n and '.h5' in n for n in res.stats.notes)


def test_image_ids_follow_natural_file_order(make_dlc_project):
    """Rows in any order, frames numbered without zero padding."""
    frames = [(f'img{i}.png', {'a': (1.0 + i, 2.0)}) for i in (10, 2, 1, 33, 3)]
    res = convert_dlc(make_dlc_project({'zeta': frames[:3], 'alpha': frames[3:]}, ['a']),
                      progress=False)
    assert [img['file_name'].split('/', 1)[1] for img in res.coco['images']] == [
        'alpha/img3.png', 'alpha/img33.png', 'zeta/img1.png', 'zeta/img2.png',
        'zeta/img10.png']
    assert [a['keypoints'][0] for a in res.coco['annotations']] == [4.0, 34.0, 2.0, 3.0, 11.0]


@pytest.mark.skipif(not h5_available(), reason='pandas and PyTables are not installed: '
                                               '.h5 tables are not read')
def test_h5_table_gives_the_same_result_as_the_csv(mouse_project, tmp_path):
    proj = tmp_path / 'mouse'
    folder = proj / 'labeled-data' / 'm4s1'
    folder.mkdir(parents=True)
    shutil.copy(mouse_project / 'config.yaml', proj / 'config.yaml')
    src = mouse_project / 'labeled-data' / 'm4s1'
    for path in src.iterdir():
        if path.suffix == '.png':
            (folder / path.name).symlink_to(path)
    shutil.copy(next(src.glob('CollectedData_*.h5')), folder)
    from_h5 = convert_dlc(proj, progress=False).coco
    assert from_h5 == convert_dlc(mouse_project, progress=False).coco
