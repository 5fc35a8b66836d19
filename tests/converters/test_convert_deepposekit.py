"""DeepPoseKit .h5 + skeleton csv -> COCO: points, annotated flags, images,
skeleton and swap table, errors."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

h5py = pytest.importorskip('h5py')

from customkpt.cli.convert import main as convert_main  # noqa: E402
from customkpt.converters import ConversionError, convert_deepposekit, make_category  # noqa: E402
from customkpt.converters.deepposekit import NOT_ANNOTATED  # noqa: E402

SKELETON = 'name,parent,swap\nhead,,\neyeL,head,eyeR\neyeR,head,eyeL\n'


def write_dpk(path: Path, n: int = 4, annotated: bool = True, k: int = 3,
              size=(40, 32), channels: int = 3) -> tuple[Path, np.ndarray, np.ndarray]:
    """A DeepPoseKit file: image i has noise seeded by i; points of image 2
    are not annotated (placeholders), the last point of image 1 neither."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (n, size[1], size[0], channels), dtype=np.uint8)
    ann = rng.uniform(2, min(size) - 2, (n, k, 2))
    flags = np.ones((n, k), bool)
    flags[2] = False
    flags[1, k - 1] = False
    ann[~flags] = -99999.0
    with h5py.File(path, 'w') as fh:
        fh.create_dataset('images', data=images, maxshape=(None,) + images.shape[1:])
        fh.create_dataset('annotations', data=ann, maxshape=(None,) + ann.shape[1:])
        if annotated:
            fh.create_dataset('annotated', data=flags, maxshape=(None, k))
        fh.create_dataset('skeleton', data=np.array([[-1, -1], [0, 2], [0, 1]], np.int32))
    return path, images, ann


@pytest.fixture
def skeleton_csv(tmp_path: Path) -> Path:
    path = tmp_path / 'skeleton.csv'
    path.write_text(SKELETON)
    return path


@pytest.mark.parametrize('annotated', [True, False])
def test_points_images_and_skeleton(tmp_path, skeleton_csv, annotated):
    h5, images, ann = write_dpk(tmp_path / 'data.h5', annotated=annotated)
    out = tmp_path / 'out' / 'images'
    res = convert_deepposekit(h5, out, skeleton_csv, progress=False)
    cat = res.coco['categories'][0]
    assert cat['keypoints'] == ['head', 'eyeL', 'eyeR']
    assert cat['skeleton'] == [[1, 2], [1, 3]] and cat['flip_pairs'] == [[1, 2]]
    imgs = res.coco['images']
    assert [(i['file_name'], i['frame_idx'], i['width'], i['height']) for i in imgs] == [
        ('000000.png', 0, 40, 32), ('000001.png', 1, 40, 32), ('000003.png', 3, 40, 32)]
    for img in imgs:      # written unchanged (PNG is lossless)
        assert np.array_equal(cv2.imread(str(out / img['file_name'])), images[img['frame_idx']])
    a0, a1, _ = res.coco['annotations']
    assert np.allclose(a0['keypoints'], np.c_[ann[0], np.full(3, 2)].ravel())
    assert a1['keypoints'][6:] == [0, 0, 0] and a1['num_keypoints'] == 2
    assert res.image_root == out.resolve()
    assert res.stats.images_left_out == {NOT_ANNOTATED: 1} and res.stats.empty_images == 0
    assert f'1 image(s) left out: {NOT_ANNOTATED}' in res.stats.summary_notes()


def test_grey_images(tmp_path, skeleton_csv):
    h5, images, _ = write_dpk(tmp_path / 'g.h5', channels=1)
    res = convert_deepposekit(h5, tmp_path / 'img', skeleton_csv, progress=False)
    got = cv2.imread(str(tmp_path / 'img' / '000000.png'), cv2.IMREAD_UNCHANGED)
    assert got.shape == (32, 40) and np.array_equal(got, images[0, :, :, 0])
    assert len(res.coco['images']) == 3


def test_asymmetric_swap_table_names_the_points(tmp_path):
    h5, _, _ = write_dpk(tmp_path / 'd.h5')
    csv = tmp_path / 's.csv'
    csv.write_text('name,parent,swap\nhead,,\neyeL,head,eyeR\neyeR,head,\n')
    with pytest.raises(ConversionError, match=r"s\.csv: column swap: the swap table is not "
                                              r"symmetric: 'eyeL' swaps with 'eyeR', but "
                                              r"'eyeR' has no swap"):
        convert_deepposekit(h5, tmp_path / 'img', csv, progress=False)
    csv.write_text('name,parent,swap\nhead,,eyeL\neyeL,head,eyeR\neyeR,head,eyeL\n')
    with pytest.raises(ConversionError, match="'head' swaps with 'eyeL', but 'eyeL' swaps "
                                              "with 'eyeR'"):
        convert_deepposekit(h5, tmp_path / 'img', csv, progress=False)
    csv.write_text('name,parent,swap\nhead,,\neyeL,head,nose\neyeR,head,eyeL\n')
    with pytest.raises(ConversionError, match="'eyeL' swaps with 'nose', which is not a point"):
        convert_deepposekit(h5, tmp_path / 'img', csv, progress=False)


def test_make_category_refuses_pairs_sharing_a_point():
    with pytest.raises(ConversionError, match=r"src: flip pairs are not symmetric: 'eyeL' \(1\) "
                                              r"is paired with both 'eyeR' \(2\) and 'head'"):
        make_category('x', ['head', 'eyeL', 'eyeR'], flip_pairs=[[1, 2], [1, 0]], source='src')


def test_errors_name_file_record_and_field(tmp_path, skeleton_csv):
    h5, _, _ = write_dpk(tmp_path / 'd.h5', k=2)
    with pytest.raises(ConversionError, match=r"d\.h5: dataset annotations has 2 points per "
                                              r"image but .*skeleton\.csv names 3"):
        convert_deepposekit(h5, tmp_path / 'img', skeleton_csv, progress=False)
    h5, _, _ = write_dpk(tmp_path / 'nan.h5')
    with h5py.File(h5, 'a') as fh:
        fh['annotations'][3, 1] = [np.nan, np.nan]
    with pytest.raises(ConversionError, match=r"nan\.h5: image 3: point 'eyeL' is annotated but "
                                              r"has coordinates \[nan, nan\]"):
        convert_deepposekit(h5, tmp_path / 'img', skeleton_csv, progress=False)
    csv = tmp_path / 'cols.csv'
    csv.write_text('name,parent\nhead,\n')
    with pytest.raises(ConversionError, match=r"cols\.csv: missing column\(s\) \['swap'\]"):
        convert_deepposekit(h5, tmp_path / 'img', csv, progress=False)
    csv.write_text('name,parent,swap\nhead,,\neyeL,neck,eyeR\neyeR,head,eyeL\n')
    with pytest.raises(ConversionError, match=r"cols\.csv: line 3: parent 'neck' of 'eyeL'"):
        convert_deepposekit(h5, tmp_path / 'img', csv, progress=False)
    csv.write_bytes(b'\xff\xfe\x00bad')
    with pytest.raises(ConversionError, match=r"cols\.csv: not a readable csv file"):
        convert_deepposekit(h5, tmp_path / 'img', csv, progress=False)
    empty = tmp_path / 'empty.h5'
    with h5py.File(empty, 'w') as fh:
        fh.create_dataset('annotations', data=np.zeros((1, 3, 2)))
    with pytest.raises(ConversionError, match=r"empty\.h5: no dataset 'images'"):
        convert_deepposekit(empty, tmp_path / 'img', skeleton_csv, progress=False)


def test_cli_needs_skeleton_and_writes_images(tmp_path, skeleton_csv):
    h5, _, _ = write_dpk(tmp_path / 'd.h5')
    out = tmp_path / 'ds'
    with pytest.raises(ConversionError, match='deepposekit needs --skeleton'):
        convert_main(['deepposekit', str(h5), str(out)])
    assert convert_main(['deepposekit', str(h5), str(out), '--skeleton', str(skeleton_csv),
                         '--val-every', '2', '--no-progress', '--category-name', 'locust']) == 0
    train = json.loads((out / 'train.json').read_text())
    val = json.loads((out / 'val.json').read_text())
    assert (len(train['images']), len(val['images'])) == (1, 2)
    assert train['categories'][0]['name'] == 'locust'
    assert sorted(p.name for p in (out / 'images').iterdir()) == [
        '000000.png', '000001.png', '000003.png']
