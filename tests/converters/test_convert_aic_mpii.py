"""AI Challenger and MPII -> COCO."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from customkpt.converters import ConversionError, convert_aic, convert_mpii
from customkpt.core.presets import AIC_NAMES, MPII_NAMES
from customkpt.meta import KeypointMeta


def _aic_record(image_id: str, humans: dict) -> dict:
    return {'image_id': image_id, 'url': 'http://example.invalid/x.jpg',
            'keypoint_annotations': {h: v[0] for h, v in humans.items()},
            'human_annotations': {h: v[1] for h, v in humans.items() if v[1] is not None}}


def test_aic_generated_visibility_mapping(tmp_path, write_image):
    write_image(tmp_path / 'imgs' / 'img1.jpg', 120, 100)
    write_image(tmp_path / 'imgs' / 'img2.jpg', 80, 60)
    k1 = []
    for j in range(14):  # cycle through visible / occluded / not labelled
        k1 += [10 + j, 20 + j, (1, 2, 3)[j % 3]]
    k2 = [0, 0, 3] * 14
    k10 = [0, 0, 3] * 13 + [50, 40, 1]
    recs = [_aic_record('img1', {'human10': (k10, None), 'human1': (k1, [5, 8, 100, 130]),
                                 'human2': (k2, [1, 1, 9, 9])}),
            _aic_record('img2', {})]
    ann_file = tmp_path / 'anno.json'
    ann_file.write_text(json.dumps(recs))
    res = convert_aic(ann_file, images_dir=tmp_path / 'imgs', progress=False)
    coco = res.coco
    assert coco['categories'][0]['keypoints'] == AIC_NAMES
    meta = KeypointMeta.from_coco_category(coco['categories'][0])
    assert meta.flip_pairs == [[0, 3], [1, 4], [2, 5], [6, 9], [7, 10], [8, 11]]
    assert [i['file_name'] for i in coco['images']] == ['img1.jpg', 'img2.jpg']
    assert (coco['images'][0]['width'], coco['images'][0]['height']) == (120, 100)
    assert len(coco['annotations']) == 2 and res.stats.skipped == {'no labelled point': 1}
    a1, a10 = coco['annotations']  # human1 then human10 (human2 has no point)
    kp = np.asarray(a1['keypoints']).reshape(14, 3)
    assert kp[:, 2].tolist() == [(2, 1, 0)[j % 3] for j in range(14)]
    for j in range(14):
        exp = [0, 0] if j % 3 == 2 else [10 + j, 20 + j]
        assert kp[j, :2].tolist() == exp
    assert a1['num_keypoints'] == 10
    assert a1['bbox'] == [5.0, 8.0, 95.0, 92.0]         # x2, y2 clipped to 100 x 100
    assert a10['keypoints'][-3:] == [50.0, 40.0, 2] and a10['num_keypoints'] == 1
    assert any('without a human_annotations box' in n for n in res.stats.notes)

    recs[1]['keypoint_annotations'] = {'human1': [1, 1, 4] + [0, 0, 3] * 13}
    ann_file.write_text(json.dumps(recs))
    with pytest.raises(ConversionError, match=r"record 1 \(image_id 'img2'\), human1: keypoint 0 "
                                              r'\(right_shoulder\) has visibility 4'):
        convert_aic(ann_file, images_dir=tmp_path / 'imgs', progress=False)
    with pytest.raises(ConversionError, match=r'record 0 .*image not found.*--images-dir'):
        convert_aic(ann_file, progress=False)


def test_aic_round_trip_of_real_sample(aic_sample, tmp_path):
    """The real AIC sample (COCO layout, v already mapped) written back in
    AIC's own layout converts to the same points and boxes."""
    src = json.loads(aic_sample.read_text())
    recs = []
    for img in src['images']:
        anns = [a for a in src['annotations'] if a['image_id'] == img['id']]
        humans = {}
        for n, a in enumerate(anns, 1):
            k = np.asarray(a['keypoints'], dtype=float).reshape(-1, 3)
            trip = [[x, y, {2: 1, 1: 2, 0: 3}[int(v)]] for x, y, v in k]
            x, y, w, h = a['bbox']
            humans[f'human{n}'] = (sum(trip, []), [x, y, x + w, y + h])
        recs.append(_aic_record(Path(img['file_name']).stem, humans))
    ann_file = tmp_path / 'aic.json'
    ann_file.write_text(json.dumps(recs))
    res = convert_aic(ann_file, images_dir=aic_sample.parent, progress=False)
    assert len(res.coco['images']) == 3 and len(res.coco['annotations']) == 9
    for img in res.coco['images']:
        orig = next(i for i in src['images'] if i['file_name'] == img['file_name'])
        assert (img['width'], img['height']) == (orig['width'], orig['height'])
        mine = [a for a in res.coco['annotations'] if a['image_id'] == img['id']]
        theirs = [a for a in src['annotations'] if a['image_id'] == orig['id']]
        assert [a['keypoints'] for a in mine] == [a['keypoints'] for a in theirs]
        for a, b in zip(mine, theirs):
            x, y, w, h = b['bbox']
            exp = [max(x, 0), max(y, 0), min(x + w, img['width']), min(y + h, img['height'])]
            got = [a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                   a['bbox'][1] + a['bbox'][3]]
            assert got == pytest.approx(exp)


def test_mpii_real_sample(mpii_sample):
    recs = json.loads(mpii_sample.read_text())
    res = convert_mpii(mpii_sample, progress=False)
    coco = res.coco
    cat = coco['categories'][0]
    assert cat['keypoints'] == MPII_NAMES
    assert cat['flip_pairs'] == [[0, 5], [1, 4], [2, 3], [10, 15], [11, 14], [12, 13]]
    KeypointMeta.from_coco_category(cat)
    assert len(coco['images']) == 5 and len(coco['annotations']) == 5
    assert res.image_root == mpii_sample.parent.resolve()
    for rec, img, ann in zip(recs, coco['images'], coco['annotations']):
        assert img['file_name'] == rec['image'] and ann['image_id'] == img['id']
        assert (mpii_sample.parent / img['file_name']).is_file()
        kp = np.asarray(ann['keypoints'], dtype=float).reshape(16, 3)
        vis = np.asarray(rec['joints_vis']) > 0
        assert np.array_equal(kp[:, 2] > 0, vis) and (kp[vis, 2] == 2).all()
        np.testing.assert_allclose(kp[vis, :2], np.asarray(rec['joints'])[vis] - 1.0)
        assert (kp[~vis] == 0).all()
        s = rec['scale']
        cx, cy = rec['center'][0] - 1, rec['center'][1] - 1 + 15 * s
        x0, y0 = max(cx - 100 * s, 0), max(cy - 100 * s, 0)
        x1 = min(cx + 100 * s, img['width'])
        y1 = min(cy + 100 * s, img['height'])
        np.testing.assert_allclose(ann['bbox'], [x0, y0, x1 - x0, y1 - y0])
    unclipped = convert_mpii(mpii_sample, clip_boxes=False, progress=False).coco
    rec, ann = recs[0], unclipped['annotations'][0]
    s = rec['scale']
    np.testing.assert_allclose(ann['bbox'][1:], [rec['center'][1] - 1 + 15 * s - 100 * s,
                                                 200 * s, 200 * s])
    assert (coco['images'][1]['width'], coco['images'][1]['height']) == (854, 480)
    assert res.stats.labelled_per_keypoint[0] == 3  # two records leave r_ankle unlabelled


def test_mpii_bad_record(tmp_path, write_image):
    write_image(tmp_path / 'p.jpg', 40, 30)
    rec = {'image': 'p.jpg', 'center': [20, 15], 'scale': 0.1,
           'joints': [[5, 5]] * 15, 'joints_vis': [1] * 15}
    (tmp_path / 'm.json').write_text(json.dumps([rec]))
    with pytest.raises(ConversionError, match=r"record 0 \(image 'p.jpg'\): \"joints\" must be "
                                              r'16 \[x, y\] pairs'):
        convert_mpii(tmp_path / 'm.json', progress=False)


@pytest.mark.parametrize('convert, kind', [(convert_aic, 'AI Challenger records'),
                                           (convert_mpii, 'MPII person records')])
def test_record_files_must_be_record_lists(convert, kind, tmp_path):
    ann_file = tmp_path / 'anno.json'
    ann_file.write_text(json.dumps({'images': [], 'annotations': []}))
    with pytest.raises(ConversionError, match='already a COCO-style file'):
        convert(ann_file, progress=False)
    ann_file.write_text(json.dumps({'records': []}))
    with pytest.raises(ConversionError, match=f'expected a list of {kind}'):
        convert(ann_file, progress=False)
    with pytest.raises(ConversionError, match='annotation file not found'):
        convert(tmp_path / 'missing.json', progress=False)


def test_mpii_missing_image_names_the_record(tmp_path):
    ann_file = tmp_path / 'mpii.json'
    ann_file.write_text(json.dumps([{'image': 'a.jpg', 'center': [50.0, 50.0], 'scale': 0.5,
                                     'joints': [[10.0, 10.0]] * 16, 'joints_vis': [1] * 16}]))
    with pytest.raises(ConversionError,
                       match=r"record 0 \(image 'a.jpg'\): .*not found.*--images-dir"):
        convert_mpii(ann_file, progress=False)
