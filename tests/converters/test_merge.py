"""customkpt.converters.merge: new labels into a training json."""
from __future__ import annotations

import copy

import pytest

from customkpt.converters import ConversionError
from customkpt.converters.merge import merge_labels, rebase_file_names

NAMES = ['snout', 'left_ear', 'right_ear', 'tail']


def _coco(files, first_img=1, first_ann=1, anns_per_image=1, names=NAMES, cat_id=1):
    images, anns = [], []
    for i, name in enumerate(files):
        img_id = first_img + 10 * i  # ids with gaps, as real files have
        images.append(dict(id=img_id, file_name=name, width=64, height=48))
        for j in range(anns_per_image):
            anns.append(dict(id=first_ann + 100 * len(anns), image_id=img_id,
                             category_id=cat_id, bbox=[1, 2, 30, 20], area=600, iscrowd=0,
                             num_keypoints=len(names), keypoints=[5.0, 6.0, 2] * len(names),
                             tag=f'{name}#{j}'))
    return dict(info=dict(description='x'), images=images, annotations=anns,
                categories=[dict(id=cat_id, name='mouse', keypoints=list(names),
                                 skeleton=[[1, 2]], flip_pairs=[[1, 2]])])


def test_new_records_are_renumbered_after_the_maxima():
    train = _coco(['a.png', 'b.png'], first_img=5, first_ann=7, anns_per_image=2)
    new = _coco(['v/img1.png', 'v/img2.png'], first_img=1, first_ann=1, cat_id=3)
    new['categories'][0].update(name='object', skeleton=[])
    before = copy.deepcopy(train), copy.deepcopy(new)
    res = merge_labels(train, new)
    coco = res.coco
    assert (train, new) == before  # inputs untouched
    assert [m['id'] for m in coco['images']] == [5, 15, 16, 17]
    assert [a['id'] for a in coco['annotations']][-2:] == [308, 309]
    by_id = {m['id']: m['file_name'] for m in coco['images']}
    assert [by_id[a['image_id']] for a in coco['annotations']][-2:] == ['v/img1.png',
                                                                       'v/img2.png']
    assert all(a['category_id'] == 1 for a in coco['annotations'])
    assert coco['categories'] == train['categories'] and coco['info'] == train['info']
    assert res.added_images == 2 and res.added_annotations == 2
    assert len(coco['annotations']) == 4 + 2 and 'annotations added' in res.summary()


def test_a_different_keypoint_definition_names_the_first_difference():
    train = _coco(['a.png'])
    swapped = _coco(['n.png'], names=['snout', 'right_ear', 'left_ear', 'tail'])
    with pytest.raises(ConversionError, match="keypoint 1 is 'right_ear' but 'left_ear' in"):
        merge_labels(train, swapped, train_source='train.json')
    shorter = _coco(['n.png'], names=NAMES[:3])
    with pytest.raises(ConversionError, match="3 keypoints, train.json 4: keypoint 3 'tail'"):
        merge_labels(train, shorter, train_source='train.json')
    two = _coco(['n.png'])
    two['categories'].append(dict(id=9, name='rat', keypoints=['a']))
    with pytest.raises(ConversionError, match='expected one keypoint category, found 2'):
        merge_labels(train, two)


def test_duplicates_are_refused_by_default_and_replaced_on_request():
    train = _coco(['a.png', 'v/img1.png'], anns_per_image=2)
    new = _coco(['./v/img1.png', 'v/img9.png'])
    with pytest.raises(ConversionError, match=r"file_name 'v/img1.png' is already in train"):
        merge_labels(train, new, train_source='train')
    res = merge_labels(train, new, on_duplicate='replace')
    names = [m['file_name'] for m in res.coco['images']]
    assert names == ['a.png', './v/img1.png', 'v/img9.png']
    assert res.replaced_images == ['v/img1.png'] and res.removed_annotations == 2
    assert len(res.coco['annotations']) == 2 + 2
    assert max(m['id'] for m in res.coco['images']) == 13  # old maximum 11: not reused
    with pytest.raises(ConversionError, match='appears twice'):
        merge_labels(train, _coco(['c.png', 'c.png']))
    with pytest.raises(ConversionError, match='on_duplicate must be one of'):
        merge_labels(train, new, on_duplicate='skip')


def test_bad_new_records_are_named():
    train = _coco(['a.png'])
    new = _coco(['b.png'])
    new['annotations'][0]['image_id'] = 99
    with pytest.raises(ConversionError, match=r'annotations\[0\] \(id 1\): field "image_id"'):
        merge_labels(train, new)
    new = _coco(['b.png'])
    new['annotations'][0]['category_id'] = 2
    with pytest.raises(ConversionError, match='field "category_id"'):
        merge_labels(train, new)
    new = _coco(['b.png'])
    del new['images'][0]['id']
    with pytest.raises(ConversionError, match=r'new labels: images\[0\]: needs an integer "id"'):
        merge_labels(train, new)


def test_counts_are_checked(monkeypatch):
    from customkpt.converters import merge as module
    real = module._duplicates
    # A policy bug that drops a training image without counting it must not pass.
    monkeypatch.setattr(module, '_duplicates', lambda *a: real(*a) | {1})
    with pytest.raises(ConversionError, match='records do not add up'):
        merge_labels(_coco(['a.png']), _coco(['b.png']))


def test_rebase_file_names(tmp_path):
    coco = _coco(['img1.png', 'sub\\img2.png'])
    out = rebase_file_names(coco, tmp_path / 'labels' / 'labelme', tmp_path / 'data')
    assert [m['file_name'] for m in out['images']] == ['../labels/labelme/img1.png',
                                                      '../labels/labelme/sub/img2.png']
    assert coco['images'][0]['file_name'] == 'img1.png'
