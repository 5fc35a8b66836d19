"""CVAT exports -> COCO: "COCO Keypoints 1.0" json and "CVAT for images 1.1"
XML; visibility, boxes, several categories, image roots, errors."""
from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from customkpt.cli.convert import main as convert_main
from customkpt.converters import ConversionError, convert_cvat
from customkpt.converters.tool_images import NO_IMAGE_FILE

NAMES = ['nose', 'left_ear', 'right_ear']


def _coco_export(tmp_path: Path, write_image, extra_categories=(), extra_annotations=()):
    """CVAT's archive layout: annotations/person_keypoints_default.json and
    images/default/<file>."""
    for name in ('f0.png', 'f1.png', 'sub/f2.png'):
        write_image(tmp_path / 'images' / 'default' / name, 100, 80)
    data = {
        'licenses': [{'name': '', 'id': 0, 'url': ''}], 'info': {'contributor': ''},
        'categories': [
            {'id': 1, 'name': 'mouse', 'supercategory': '', 'keypoints': NAMES,
             'skeleton': [[1, 2], [1, 3]]},
            {'id': 2, 'name': 'cage', 'supercategory': ''}, *extra_categories],
        'images': [{'id': i + 1, 'width': 100, 'height': 80, 'file_name': n, 'license': 0,
                    'flickr_url': '', 'coco_url': '', 'date_captured': 0}
                   for i, n in enumerate(['f0.png', 'f1.png', 'sub/f2.png'])],
        'annotations': [
            # tight box of the labelled points: replaced by a padded one
            {'id': 1, 'image_id': 1, 'category_id': 1, 'segmentation': [], 'area': 200.0,
             'bbox': [10.0, 20.0, 20.0, 10.0], 'iscrowd': 0, 'attributes': {'occluded': False},
             'keypoints': [10, 20, 2, 30, 30, 1, 55, 66, 0], 'num_keypoints': 2},
            # a box of its own (grouped in CVAT): kept
            {'id': 2, 'image_id': 1, 'category_id': 1, 'segmentation': [], 'area': 1200.0,
             'bbox': [50.0, 30.0, 40.0, 30.0], 'iscrowd': 0, 'attributes': {},
             'keypoints': [60, 40, 2, 70, 45, 2, 80, 50, 2], 'num_keypoints': 3},
            {'id': 3, 'image_id': 1, 'category_id': 2, 'segmentation': [[0, 0, 5, 0, 5, 5]],
             'area': 12.5, 'bbox': [0, 0, 5, 5], 'iscrowd': 0, 'attributes': {}},
            {'id': 4, 'image_id': 3, 'category_id': 1, 'segmentation': [], 'area': 0,
             'bbox': [40, 40, 0, 0], 'iscrowd': 0, 'attributes': {},
             'keypoints': [40, 40, 2, 0, 0, 0, 0, 0, 0], 'num_keypoints': 1},
            *extra_annotations]}
    path = tmp_path / 'annotations' / 'person_keypoints_default.json'
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))
    return path


def test_coco_keypoints_export(tmp_path, write_image):
    path = _coco_export(tmp_path, write_image)
    res = convert_cvat(path, progress=False)
    assert res.image_root == (tmp_path / 'images' / 'default').resolve()   # found by itself
    cat = res.coco['categories'][0]
    assert (cat['name'], cat['keypoints'], cat['skeleton'], cat['flip_pairs']) == (
        'mouse', NAMES, [[1, 2], [1, 3]], [[1, 2]])
    assert [(i['file_name'], i['folder']) for i in res.coco['images']] == [
        ('f0.png', '.'), ('f1.png', '.'), ('sub/f2.png', 'sub')]   # f1.png: no instance
    a1, a2, a3 = res.coco['annotations']
    assert a1['keypoints'] == [10.0, 20.0, 2, 30.0, 30.0, 1, 0, 0, 0]   # v 0 -> 0, 0, 0
    x, y, w, h = a1['bbox']
    assert x < 10 and y < 20 and x + w > 30 and y + h > 30             # padded, not tight
    assert a2['bbox'] == [50.0, 30.0, 40.0, 30.0]
    assert a3['num_keypoints'] == 1 and a3['bbox'][2] > 0               # empty box derived
    assert any('1 annotation(s) of categories without keypoints' in n for n in res.stats.notes)
    assert '1 image(s) without a labelled instance kept (no annotation)' in res.stats.summary_notes()
    assert {a['image_id'] for a in res.coco['annotations']} == {1, 3}


def test_images_without_an_instance_kept_unless_their_file_is_missing(tmp_path, write_image):
    unlabelled = {'id': 5, 'image_id': 2, 'category_id': 1, 'bbox': [0, 0, 0, 0],
                  'iscrowd': 0, 'keypoints': [0, 0, 0] * 3, 'num_keypoints': 0}
    path = _coco_export(tmp_path, write_image, extra_annotations=[unlabelled])
    data = json.loads(path.read_text())
    data['images'].append({'id': 4, 'width': 100, 'height': 80, 'file_name': 'gone.png'})
    path.write_text(json.dumps(data))
    res = convert_cvat(path, progress=False)
    # f1.png holds an instance without a labelled point: skipped, its image kept
    assert [i['file_name'] for i in res.coco['images']] == ['f0.png', 'f1.png', 'sub/f2.png']
    assert res.stats.skipped == {'no labelled point': 1} and res.stats.empty_images == 1
    assert res.stats.images_left_out == {NO_IMAGE_FILE: 1}
    assert f'1 image(s) left out: {NO_IMAGE_FILE}' in res.stats.summary_notes()
    out = tmp_path / 'ds'
    assert convert_main(['cvat', str(path), str(out), '--val-every', '2', '--no-progress']) == 0
    val = json.loads((out / 'val.json').read_text())
    assert [i['file_name'] for i in val['images']] == ['f0.png', 'sub/f2.png']
    train = json.loads((out / 'train.json').read_text())
    assert [i['file_name'] for i in train['images']] == ['f1.png'] and not train['annotations']



def test_drop_empty_leaves_out_the_images_without_an_instance(tmp_path, write_image):
    unlabelled = {'id': 5, 'image_id': 2, 'category_id': 1, 'bbox': [0, 0, 0, 0],
                  'iscrowd': 0, 'keypoints': [0, 0, 0] * 3, 'num_keypoints': 0}
    path = _coco_export(tmp_path, write_image, extra_annotations=[unlabelled])
    res = convert_cvat(path, progress=False)
    assert res.stats.empty_images == 1
    res.drop_empty_images()
    assert [i['file_name'] for i in res.coco['images']] == ['f0.png', 'sub/f2.png']
    assert res.stats.num_images == 2 and res.stats.empty_images == 0
    assert res.stats.images_left_out == {'no labelled instance (--drop-empty)': 1}
    assert not any('kept (no annotation)' in n for n in res.stats.summary_notes())
    assert '1 image(s) left out: no labelled instance (--drop-empty)' in res.stats.summary_notes()
    out = tmp_path / 'ds'
    assert convert_main(['cvat', str(path), str(out), '--no-split', '--drop-empty',
                         '--no-progress']) == 0
    written = json.loads((out / 'all.json').read_text())
    assert [i['file_name'] for i in written['images']] == ['f0.png', 'sub/f2.png']
    assert {a['image_id'] for a in written['annotations']} == {1, 3}   # all of them kept

def test_coco_several_keypoint_categories(tmp_path, write_image):
    rat = {'id': 3, 'name': 'rat', 'supercategory': '', 'keypoints': ['snout', 'tail'],
           'skeleton': [[1, 2]]}
    ann = {'id': 9, 'image_id': 2, 'category_id': 3, 'bbox': [0, 0, 1, 1], 'iscrowd': 0,
           'keypoints': [5, 5, 2, 9, 9, 2], 'num_keypoints': 2}
    path = _coco_export(tmp_path, write_image, [rat], [ann])
    with pytest.raises(ConversionError, match=r"several labels with keypoints: 'mouse' \(3 "
                                              r"instances\), 'rat' \(1 instance\).*--label"):
        convert_cvat(path, progress=False)
    res = convert_cvat(path, label='rat', progress=False)
    assert res.coco['categories'][0]['keypoints'] == ['snout', 'tail']
    assert [i['file_name'] for i in res.coco['images']] == ['f0.png', 'f1.png', 'sub/f2.png']
    assert [a['image_id'] for a in res.coco['annotations']] == [2]   # only f1.png has a rat
    assert res.stats.skipped == {"label 'mouse' not converted": 3}
    with pytest.raises(ConversionError, match="no label 'cat'; found: 'mouse'"):
        convert_cvat(path, label='cat', progress=False)


def test_coco_errors_name_file_and_record(tmp_path, write_image):
    bad_v = {'id': 7, 'image_id': 2, 'category_id': 1, 'bbox': [0, 0, 1, 1],
             'keypoints': [5, 5, 3, 0, 0, 0, 0, 0, 0]}
    path = _coco_export(tmp_path, write_image, extra_annotations=[bad_v])
    with pytest.raises(ConversionError, match=r"person_keypoints_default\.json: annotation id 7 "
                                              r"\(annotations\[4\]\): keypoint 'nose' has "
                                              r"visibility 3"):
        convert_cvat(path, progress=False)
    short = dict(bad_v, keypoints=[5, 5, 2])
    path.write_text(json.dumps(dict(json.loads(path.read_text()),
                                    annotations=[short])))
    with pytest.raises(ConversionError, match=r"annotation id 7.*expected 9 numbers"):
        convert_cvat(path, progress=False)
    (tmp_path / 'images' / 'default' / 'f1.png').unlink()
    good = dict(short, keypoints=[5, 5, 2, 0, 0, 0, 0, 0, 0])
    path.write_text(json.dumps(dict(json.loads(path.read_text()), annotations=[good])))
    with pytest.raises(ConversionError, match=r"image id 2 \(f1\.png\): image not found.*"
                                              r"--images-dir"):
        convert_cvat(path, images_dir=tmp_path / 'images' / 'default', progress=False)
    write_image(tmp_path / 'images' / 'default' / 'f1.png', 64, 80)
    with pytest.raises(ConversionError, match=r"image id 2 \(f1\.png\): the export gives the "
                                              r"size 100x80, but .* is 64x80"):
        convert_cvat(path, progress=False)
    with pytest.raises(ConversionError, match='expected a CVAT .json'):
        convert_cvat(tmp_path / 'x.txt', progress=False)


SVG = ('<line x1="1" y1="1" x2="2" y2="2" data-type="edge" data-node-from="1" '
       'data-node-to="2" stroke="black"></line><line data-type="edge" data-node-from="1" '
       'data-node-to="3"></line><circle r="0.75" cx="1" cy="1" data-type="element node" '
       'data-element-id="1" data-node-id="1" data-label-name="nose"></circle><circle '
       'data-node-id="2" data-label-name="left_ear"></circle><circle data-node-id="3" '
       'data-label-name="right_ear"></circle>')


def _xml(images: str, labels: str | None = None) -> str:
    if labels is None:
        labels = (f'<label><name>mouse</name><color>#fa3253</color><type>skeleton</type>'
                  f'<attributes/><svg>{escape(SVG)}</svg></label>'
                  + ''.join(f'<label><name>{n}</name><type>points</type><parent>mouse</parent>'
                            '<attributes/></label>' for n in ['nose', 'right_ear', 'left_ear']))
    return (f'<?xml version="1.0" encoding="utf-8"?><annotations><version>1.1</version><meta>'
            f'<task><id>1</id><name>t</name><labels>{labels}</labels></task></meta>'
            f'{images}</annotations>')


def _skel(points: list[tuple], group: str = '') -> str:
    kids = ''.join(f'<points label="{n}" source="manual" outside="{int(out)}" '
                   f'occluded="{int(occ)}" points="{x},{y}"></points>'
                   for n, x, y, occ, out in points)
    g = f' group_id="{group}"' if group else ''
    return f'<skeleton label="mouse" source="manual" z_order="0"{g}>{kids}</skeleton>'


def test_xml_skeletons(tmp_path, write_image):
    write_image(tmp_path / 'frames' / 'a.png', 100, 80)
    write_image(tmp_path / 'b.png', 100, 80)
    images = (
        '<image id="0" name="frames/a.png" width="100" height="80">'
        + _skel([('nose', 10.5, 20, 0, 0), ('left_ear', 15, 22, 1, 0),
                 ('right_ear', 1, 1, 0, 1)], group='4')
        + '<box label="mouse" occluded="0" xtl="5" ytl="10" xbr="40" ybr="50" group_id="4"/>'
        + _skel([('nose', 60, 40, 0, 0), ('right_ear', 70, 45, 0, 0)])
        + '<points label="nose" points="3,3" occluded="0"/></image>'
        '<image id="1" name="b.png" width="100" height="80"></image>')
    path = tmp_path / 'annotations.xml'
    path.write_text(_xml(images))
    res = convert_cvat(path, progress=False)
    cat = res.coco['categories'][0]
    # names in the meta's order, links from the svg, pairs from the names
    assert cat['keypoints'] == ['nose', 'right_ear', 'left_ear']
    assert cat['skeleton'] == [[1, 3], [1, 2]] and cat['flip_pairs'] == [[1, 2]]
    assert [i['file_name'] for i in res.coco['images']] == ['frames/a.png', 'b.png']
    assert res.stats.empty_images == 1             # b.png: listed, no skeleton
    a1, a2 = res.coco['annotations']
    assert a1['keypoints'] == [10.5, 20.0, 2, 0, 0, 0, 15.0, 22.0, 1]   # outside -> 0, occluded 1
    assert a1['bbox'] == [5.0, 10.0, 35.0, 40.0]                          # the grouped box
    assert a2['keypoints'] == [60.0, 40.0, 2, 70.0, 45.0, 2, 0, 0, 0]
    assert any('1 <points> shape(s) outside skeletons' in n for n in res.stats.notes)
    assert res.image_root == tmp_path.resolve()


def test_xml_loose_points_grouped(tmp_path, write_image):
    write_image(tmp_path / 'images' / 'a.png', 100, 80)
    images = ('<image id="0" name="a.png" width="100" height="80">'
              '<points label="tail" points="50,50" group_id="1" occluded="1"/>'
              '<points label="head" points="10,10" group_id="1"/>'
              '<points label="head" points="70,10" group_id="2"/>'
              '<box label="fish" xtl="0" ytl="0" xbr="60" ybr="60" group_id="1"/></image>')
    path = tmp_path / 'annotations.xml'
    path.write_text(_xml(images, labels='<label><name>head</name><type>points</type></label>'
                                        '<label><name>tail</name><type>points</type></label>'))
    res = convert_cvat(path, category_name='fish', progress=False)
    assert res.image_root == (tmp_path / 'images').resolve()
    cat = res.coco['categories'][0]
    assert (cat['name'], cat['keypoints']) == ('fish', ['head', 'tail'])
    g1, g2 = res.coco['annotations']
    assert g1['keypoints'] == [10.0, 10.0, 2, 50.0, 50.0, 1] and g1['bbox'] == [0, 0, 60, 60]
    assert g2['keypoints'] == [70.0, 10.0, 2, 0, 0, 0]


def test_xml_errors(tmp_path, write_image):
    path = tmp_path / 'annotations.xml'
    path.write_text('<annotations><track id="0" label="mouse"></track></annotations>')
    with pytest.raises(ConversionError, match='"CVAT for video 1.1" export'):
        convert_cvat(path, progress=False)
    path.write_text('<annotations><image id="0" name="a.png"></annotations>')
    with pytest.raises(ConversionError, match=r"annotations\.xml: line 1, column \d+: invalid"):
        convert_cvat(path, progress=False)
    path.write_text(_xml('<image id="3" name="a.png" width="100" height="80">'
                         + _skel([('nose', 1, 2, 0, 0)]).replace('points="1,2"',
                                                                 'points="1,2;3,4"')
                         + '</image>'))
    with pytest.raises(ConversionError, match=r'<image id="3" name="a.png">, skeleton 0 '
                                              r"\('mouse'\), point 'nose': expected one point"):
        convert_cvat(path, progress=False)
    two = _skel([('nose', 1, 2, 0, 0)]) + _skel([('nose', 1, 2, 0, 0)]).replace(
        'label="mouse"', 'label="rat"')
    path.write_text(_xml(f'<image id="0" name="a.png" width="100" height="80">{two}</image>'))
    with pytest.raises(ConversionError, match=r"several labels.*'mouse' \(1 instance\), 'rat'"):
        convert_cvat(path, progress=False)
    with pytest.raises(ConversionError, match=r'<image id="0" name="a.png">: image not found'):
        convert_cvat(path, label='rat', progress=False)


def test_cli_cvat_images_dir(tmp_path, write_image):
    path = _coco_export(tmp_path, write_image)
    out = tmp_path / 'ds'
    assert convert_main(['cvat', str(path), str(out), '--images-dir',
                         str(tmp_path / 'images' / 'default'), '--no-split',
                         '--no-progress', '--label', 'mouse']) == 0
    assert len(json.loads((out / 'all.json').read_text())['annotations']) == 3
    with pytest.raises(ConversionError, match='--keypoints is only for labelme and labelstudio'):
        convert_main(['cvat', str(path), str(out), '--keypoints', 'a,b'])
