"""The shared writer: boxes, image sizes, categories, splits."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from customkpt.converters import (CocoBuilder, ConversionError, SplitSpec, bbox_from_points,
                                  image_size, make_category, split_image_ids)
from customkpt.converters.common import natural_key


def test_bbox_from_points_padding_margin_and_clipping():
    pts = np.array([[20.0, 30.0], [60.0, 40.0]])          # extent 40 x 10
    assert bbox_from_points(pts, 200, 200, pad=0.25) == [10.0, 20.0, 60.0, 30.0]
    assert bbox_from_points(pts, 200, 200, pad=0.0, min_margin=2) == [18.0, 28.0, 44.0, 14.0]
    assert bbox_from_points(pts, 50, 200, pad=0.25) == [10.0, 20.0, 40.0, 30.0]  # clipped
    assert bbox_from_points(np.array([[5.0, 5.0]]), 100, 100, min_margin=8) == [0.0, 0.0,
                                                                                 13.0, 13.0]
    assert bbox_from_points(np.array([[-50.0, -50.0]]), 100, 100) is None


def test_image_size_png_jpeg_exif_and_fallback(tmp_path, write_image):
    assert image_size(write_image(tmp_path / 'a.png', 33, 21)) == (33, 21)
    assert image_size(write_image(tmp_path / 'a.jpg', 35, 19)) == (35, 19)
    assert image_size(write_image(tmp_path / 'a.bmp', 7, 9)) == (7, 9)
    with pytest.raises(ConversionError, match='image not found'):
        image_size(tmp_path / 'missing.png')
    (tmp_path / 'junk.png').write_bytes(b'not an image')
    with pytest.raises(ConversionError, match='cannot read image'):
        image_size(tmp_path / 'junk.png')
    pil = pytest.importorskip('PIL.Image')
    img = pil.new('RGB', (40, 24))
    exif = img.getexif()
    exif[0x0112] = 6                                     # rotate 90 degrees on display
    img.save(tmp_path / 'rot.jpg', exif=exif.tobytes())
    decoded = cv2.imread(str(tmp_path / 'rot.jpg'))
    assert image_size(tmp_path / 'rot.jpg') == (decoded.shape[1], decoded.shape[0]) == (24, 40)


def test_make_category_and_builder():
    cat = make_category('m', ['nose', 'left_ear', 'right_ear'], [[0, 1], [0, 2]])
    assert cat['skeleton'] == [[1, 2], [1, 3]] and cat['flip_pairs'] == [[1, 2]]
    assert make_category('m', ['a', 'b'], flip_pairs=[])['flip_pairs'] == []
    with pytest.raises(ConversionError, match='duplicate'):
        make_category('m', ['a', 'a'])
    with pytest.raises(ConversionError, match='outside'):
        make_category('m', ['a', 'b'], [[0, 2]])
    b = CocoBuilder(cat)
    img = b.add_image('x.png', 100, 50, folder='f')
    kp = np.array([[10, 10, 2], [200, 20, 1], [99, 99, 0]], dtype=float)
    assert b.add_instance(img, kp, box_xyxy=[-5, -5, 120, 40]) == 1
    assert b.add_instance(img, np.zeros((3, 3))) is None
    res = b.finish('.', 'test')
    ann = res.coco['annotations'][0]
    assert ann['bbox'] == [0.0, 0.0, 100.0, 40.0] and ann['area'] == 4000.0
    assert ann['keypoints'] == [10.0, 10.0, 2, 200.0, 20.0, 1, 0, 0, 0]
    assert ann['num_keypoints'] == 2
    assert res.stats.points_outside == 1 and res.stats.num_skipped == 1
    assert res.coco['images'][0]['folder'] == 'f'
    with pytest.raises(ConversionError, match='not positive'):
        b.add_image('y.png', 0, 10)


def test_random_split_sizes_and_seeds():
    images = [{'id': i, 'file_name': f'{i}.png'} for i in range(1, 101)]
    tr, va = split_image_ids(images, SplitSpec(val_fraction=0.15, seed=0))
    assert len(va) == 15 and len(tr) == 85 and sorted(tr + va) == list(range(1, 101))
    assert va == sorted(va)
    assert split_image_ids(images, SplitSpec(val_fraction=0.15, seed=0)) == (tr, va)
    assert split_image_ids(images, SplitSpec(val_fraction=0.15, seed=1))[1] != va
    assert len(split_image_ids(images[:3], SplitSpec(val_fraction=0.01))[1]) == 1
    assert split_image_ids(images, SplitSpec(val_fraction=0.0))[1] == []
    assert split_image_ids(images, SplitSpec(mode='none')) == (list(range(1, 101)), [])


def test_every_split_and_bad_specs():
    images = [{'id': i, 'file_name': f'{i}.png'} for i in (5, 1, 3, 2, 4, 6, 7)]
    assert split_image_ids(images, SplitSpec(mode='every', every=3)) == ([2, 3, 5, 6], [1, 4, 7])
    with pytest.raises(ConversionError, match='N >= 2'):
        SplitSpec(mode='every', every=1)
    with pytest.raises(ConversionError, match=r'\[0, 1\]'):
        SplitSpec(val_fraction=1.5)
    with pytest.raises(ConversionError, match="no 'video' field"):
        split_image_ids([{'id': 1, 'file_name': 'a'}], SplitSpec(mode='group', group_key='video'))


def test_natural_key():
    assert sorted(['img10.png', 'img2.png', 'Img1.png'], key=natural_key) == [
        'Img1.png', 'img2.png', 'img10.png']
