"""SLEAP .slp / .pkg.slp -> COCO: skeleton json, user/predicted instances,
embedded and referenced frames, errors."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

h5py = pytest.importorskip('h5py')

from customkpt.cli.convert import main as convert_main  # noqa: E402
from customkpt.converters import CONVERTERS, ConversionError, convert_sleap  # noqa: E402
from customkpt.converters.sleap import NOT_STORED, UNREADABLE_VIDEO  # noqa: E402

FRAME_DTYPE = np.dtype([('frame_id', 'u8'), ('video', 'u4'), ('frame_idx', 'u8'),
                        ('instance_id_start', 'u8'), ('instance_id_end', 'u8')])
INSTANCE_DTYPE = np.dtype([('instance_id', 'i8'), ('instance_type', 'u1'), ('frame_id', 'u8'),
                           ('skeleton', 'u4'), ('track', 'i4'), ('from_predicted', 'i8'),
                           ('score', 'f4'), ('point_id_start', 'u8'), ('point_id_end', 'u8'),
                           ('tracking_score', 'f4')])
POINT_DTYPE = np.dtype([('x', 'f8'), ('y', 'f8'), ('visible', '?'), ('complete', '?')])
PRED_POINT_DTYPE = np.dtype([('x', 'f8'), ('y', 'f8'), ('visible', '?'), ('complete', '?'),
                             ('score', 'f8')])
GLOBAL_NODES = ['thorax', 'head', 'wingL', 'wingR']


def _edge(kind: int, seen: list) -> dict:
    """jsonpickle's edge type: in full the first time, then by py/id."""
    if kind in seen:
        return {'py/id': seen.index(kind) + 1}
    seen.append(kind)
    return {'py/reduce': [{'py/type': 'sleap.skeleton.EdgeType'}, {'py/tuple': [kind]}]}


def skeleton_json(name: str, node_ids: list[int], links: list, symmetries: list) -> dict:
    """A skeleton as SLEAP's metadata json holds it (ends are global node ids)."""
    seen: list = []
    out = []
    for a, b in links:
        out.append({'edge_insert_idx': len(out), 'key': 0, 'source': a, 'target': b,
                    'type': _edge(1, seen)})
    for a, b in symmetries:  # SLEAP stores both directions of a symmetry
        for s, t in ((a, b), (b, a)):
            out.append({'key': 0, 'source': s, 'target': t, 'type': _edge(2, seen)})
    return {'directed': True, 'graph': {'name': name, 'num_edges_inserted': len(links)},
            'links': out, 'multigraph': True, 'nodes': [{'id': i} for i in node_ids]}


def _png(value: int, size=(40, 30)) -> bytes:
    img = np.full((size[1], size[0], 3), value, np.uint8)
    ok, buf = cv2.imencode('.png', img)
    assert ok
    return buf.tobytes()


def write_video(path: Path, n: int = 8, size=(64, 48)) -> Path:
    """An MJPG video whose frame i is grey level 20 * i."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10, size)
    assert writer.isOpened()
    for i in range(n):
        writer.write(np.full((size[1], size[0], 3), 20 * i, np.uint8))
    writer.release()
    return path


def write_slp(path: Path, frames: list, skeletons: list | None = None, format_id=1.2,
              videos: list | None = None, embedded: dict | None = None,
              tracks=('mouse1', 'mouse2'), drop: tuple = ()) -> Path:
    """A SLEAP file in the published layout.

    ``frames``: ``[(video, frame_idx, [instance])]`` with instance a dict
    ``type`` (0 user / 1 predicted), ``points`` [(x, y, visible)] in skeleton
    node order, optional ``skeleton``, ``track``, ``from_predicted`` (index of
    an instance of the same frame), ``score``. ``embedded``: ``{video index:
    {frame_idx: png bytes}}`` stored as videoN/video with frame_numbers.
    """
    skeletons = skeletons or [skeleton_json('fly', [1, 0, 2, 3], [(1, 0), (0, 2), (0, 3)],
                                            [(2, 3)])]
    frame_rows, inst_rows, pts, preds = [], [], [], []
    for fid, (video, idx, insts) in enumerate(frames):
        first = len(inst_rows)
        for inst in insts:
            user = inst['type'] == 0
            table = pts if user else preds
            start = len(table)
            for x, y, vis in inst['points']:
                table.append((x, y, vis, True) if user else (x, y, vis, True, 0.9))
            ref = inst.get('from_predicted')
            inst_rows.append((len(inst_rows), inst['type'], fid, inst.get('skeleton', 0),
                              inst.get('track', -1), -1 if ref is None else first + ref,
                              inst.get('score', 0.75), start, len(table), 0.0))
        frame_rows.append((fid, video, idx, first, len(inst_rows)))
    meta = {'version': '2.0.0', 'skeletons': skeletons,
            'nodes': [{'name': n, 'weight': 1.0} for n in GLOBAL_NODES], 'videos': [],
            'tracks': [], 'suggestions': [], 'negative_anchors': {}, 'provenance': {}}
    with h5py.File(path, 'w') as fh:
        grp = fh.create_group('metadata')
        grp.attrs['format_id'] = format_id
        grp.attrs['json'] = np.bytes_(json.dumps(meta, separators=(',', ':')))
        tables = {'frames': np.array(frame_rows, FRAME_DTYPE),
                  'instances': np.array(inst_rows, INSTANCE_DTYPE),
                  'points': np.array(pts, POINT_DTYPE),
                  'pred_points': np.array(preds, PRED_POINT_DTYPE)}
        for name, data in tables.items():
            if name not in drop:
                fh.create_dataset(name, data=data, maxshape=(None,))
        fh.create_dataset('videos_json', data=np.array(
            [json.dumps(v).encode() for v in videos or []], dtype='S'))
        fh.create_dataset('tracks_json', data=np.array(
            [json.dumps([0, t]).encode() for t in tracks], dtype='S'))
        for vidx, stored in (embedded or {}).items():
            ds = fh.create_dataset(f'video{vidx}/video', (len(stored),),
                                   dtype=h5py.vlen_dtype(np.dtype('int8')))
            for row, data in enumerate(stored.values()):
                ds[row] = np.frombuffer(data, dtype='int8')
            ds.attrs['format'] = 'png'
            fh.create_dataset(f'video{vidx}/frame_numbers', data=np.array(list(stored)))
            src = fh.create_group(f'video{vidx}/source_video')
            src.attrs['json'] = json.dumps({'backend': {'filename': '/old/place/mouse cam.mp4',
                                                        'grayscale': False}})
    return path


def _user(points, **kw) -> dict:
    return {'type': 0, 'points': points, **kw}


def _pred(points, **kw) -> dict:
    return {'type': 1, 'points': points, **kw}


NAN = float('nan')
EMBEDDED = {0: {3: _png(50), 10: _png(90)}}
VIDEOS = [{'backend': {'filename': '.', 'dataset': 'video0/video', 'input_format':
                       'channels_last', 'convert_range': False}},
          {'backend': {'filename': '/gone/elsewhere/clip.avi', 'grayscale': False, 'bgr': True,
                       'dataset': '', 'input_format': ''}}]


@pytest.fixture
def slp_file(tmp_path: Path) -> Path:
    write_video(tmp_path / 'clip.avi')
    frames = [
        (0, 3, [_pred([(11, 13, True), (21, 23, True), (5, 5, True), (6, 6, True)]),
                _user([(10, 12, True), (20, 22, True), (NAN, NAN, False), (30, 32, False)],
                      track=0, from_predicted=0),
                _pred([(1, 2, True), (3, 4, True), (5, 6, True), (7, 8, False)],
                      track=1, score=0.5)]),
        (0, 10, [_pred([(1, 1, True), (2, 2, True), (3, 3, True), (4, 4, True)])]),
        (1, 5, [_user([(15, 16, True), (25, 26, True), (35, 36, True), (45, 46, True)])]),
    ]
    return write_slp(tmp_path / 'labels.pkg.slp', frames, videos=VIDEOS, embedded=EMBEDDED)


def test_user_instances_skeleton_and_frames(slp_file, tmp_path):
    out = tmp_path / 'out' / 'images'
    res = convert_sleap(slp_file, out, progress=False)
    cat = res.coco['categories'][0]
    assert cat['name'] == 'fly'
    assert cat['keypoints'] == ['head', 'thorax', 'wingL', 'wingR']   # skeleton node order
    assert cat['skeleton'] == [[1, 2], [2, 3], [2, 4]]                # 1-based body links
    assert cat['flip_pairs'] == [[2, 3]]                               # the symmetry, once
    images = res.coco['images']
    assert [(i['file_name'], i['video'], i['frame_idx'], i['width'], i['height'])
            for i in images] == [('video0_mouse_cam/000003.png', 'video0_mouse_cam', 3, 40, 30),
                                 ('video1_clip/000005.png', 'video1_clip', 5, 64, 48)]
    # embedded frames are written byte for byte
    assert (out / images[0]['file_name']).read_bytes() == EMBEDDED[0][3]
    # the referenced video's frame 5 (grey 100), not a neighbour (80 / 120)
    frame = cv2.imread(str(out / images[1]['file_name']))
    assert abs(float(frame.mean()) - 100) < 6
    a1, a2 = res.coco['annotations']
    assert a1['keypoints'] == [10.0, 12.0, 2, 20.0, 22.0, 2, 0, 0, 0, 0, 0, 0]
    assert a1['individual'] == 'mouse1' and 'predicted' not in a1
    assert a2['num_keypoints'] == 4 and 'individual' not in a2
    assert res.image_root == out.resolve()
    assert any('3 predicted instance(s) left out' in n for n in res.stats.notes)


def test_predictions_option_keeps_predictions_not_replaced(slp_file, tmp_path):
    res = convert_sleap(slp_file, tmp_path / 'img', predictions=True, progress=False)
    assert [i['frame_idx'] for i in res.coco['images']] == [3, 10, 5]
    anns = res.coco['annotations']
    assert [a.get('predicted', False) for a in anns] == [False, True, True, False]
    assert anns[1]['keypoints'][:9] == [1.0, 2.0, 2, 3.0, 4.0, 2, 5.0, 6.0, 2]
    assert anns[1]['keypoints'][9:] == [0, 0, 0]                       # not visible
    assert anns[1]['score'] == 0.5 and anns[1]['individual'] == 'mouse2'
    assert (tmp_path / 'img' / 'video0_mouse_cam' / '000010.png').read_bytes() == \
        EMBEDDED[0][10]
    assert any('made from them' in n for n in res.stats.notes)


def test_old_format_user_points_move_half_a_pixel(tmp_path):
    pts = [(10, 12, True), (20, 22, True), (30, 32, True), (40, 42, True)]
    path = write_slp(tmp_path / 'old.slp', [(0, 3, [_user(pts), _pred(pts)])], format_id=1.0,
                     videos=VIDEOS[:1], embedded={0: {3: _png(10)}})
    res = convert_sleap(path, tmp_path / 'img', predictions=True, progress=False)
    user, pred = res.coco['annotations']
    assert user['keypoints'][:3] == [9.5, 11.5, 2]
    assert pred['keypoints'][:3] == [10.0, 12.0, 2]


def test_symmetries_with_a_shared_node_are_an_error(tmp_path):
    skel = skeleton_json('fly', [1, 0, 2, 3], [(1, 0)], [(2, 3), (1, 2)])
    pts = [(10, 12, True)] * 4
    path = write_slp(tmp_path / 'a.slp', [(0, 3, [_user(pts)])], skeletons=[skel],
                     videos=VIDEOS[:1], embedded={0: {3: _png(10)}})
    with pytest.raises(ConversionError, match=r"a\.slp: skeleton 'fly'.*'wingL'"):
        convert_sleap(path, tmp_path / 'img', progress=False)


def test_several_skeletons_need_a_label(tmp_path):
    skels = [skeleton_json('fly', [1, 0, 2, 3], [(1, 0)], [(2, 3)]),
             skeleton_json('bee', [0, 1], [(0, 1)], [])]
    four = [(10, 12, True)] * 4
    two = [(5, 6, True), (7, 8, True)]
    path = write_slp(tmp_path / 'two.slp',
                     [(0, 3, [_user(four), _user(two, skeleton=1)]),
                      (0, 10, [_user(two, skeleton=1)])],
                     skeletons=skels, videos=VIDEOS[:1], embedded=EMBEDDED)
    with pytest.raises(ConversionError, match=r"several skeletons.*'fly' \(1 instance\), "
                                              r"'bee' \(2 instances\).*--label"):
        convert_sleap(path, tmp_path / 'img', progress=False)
    res = convert_sleap(path, tmp_path / 'img', label='bee', progress=False)
    assert res.coco['categories'][0]['keypoints'] == ['thorax', 'head']
    assert len(res.coco['images']) == 2 and res.stats.skipped == {'another skeleton': 1}
    assert res.coco['categories'][0]['flip_pairs'] == []


def test_errors_name_file_record_and_field(slp_file, tmp_path, monkeypatch):
    pts = [(10, 12, True)] * 3   # three points for a four-node skeleton
    bad = write_slp(tmp_path / 'bad.slp', [(0, 3, [_user(pts)])], videos=VIDEOS[:1],
                    embedded={0: {3: _png(10)}})
    with pytest.raises(ConversionError, match=r"bad\.slp: instances row 0.*points rows 0:3"):
        convert_sleap(bad, tmp_path / 'img', progress=False)
    nopts = write_slp(tmp_path / 'nopts.slp', [], drop=('points',))
    with pytest.raises(ConversionError, match=r"nopts\.slp: no dataset 'points'"):
        convert_sleap(nopts, tmp_path / 'img', progress=False)
    (tmp_path / 'clip.avi').unlink()
    with pytest.raises(ConversionError, match=r"video 1: file '/gone/elsewhere/clip\.avi' "
                                              r"not found.*beside labels\.pkg\.slp"):
        convert_sleap(slp_file, tmp_path / 'img', progress=False)
    plain = tmp_path / 'plain.h5'
    with h5py.File(plain, 'w') as fh:
        fh.create_dataset('x', data=[1])
    with pytest.raises(ConversionError, match='is this a SLEAP .slp file'):
        convert_sleap(plain, tmp_path / 'img', progress=False)
    monkeypatch.setitem(sys.modules, 'h5py', None)
    with pytest.raises(ConversionError, match='needs h5py: pip install h5py'):
        convert_sleap(slp_file, tmp_path / 'img', progress=False)


def test_cli_writes_frames_into_out_images(slp_file, tmp_path, capsys):
    assert CONVERTERS['sleap'] is convert_sleap
    out = tmp_path / 'ds'
    assert convert_main(['sleap', str(slp_file), str(out), '--no-split', '--no-progress']) == 0
    coco = json.loads((out / 'all.json').read_text())
    assert all((out / 'images' / img['file_name']).is_file() for img in coco['images'])
    assert str((out / 'images').resolve()) in capsys.readouterr().out
    res = convert_main(['sleap', str(slp_file), str(tmp_path / 'v'), '--split-by', 'video',
                        '--val-fraction', '0.5', '--no-progress'])
    assert res == 0
    with pytest.raises(ConversionError, match='--skeleton is only for deepposekit'):
        convert_main(['sleap', str(slp_file), str(out), '--skeleton', 'x.csv'])
    with pytest.raises(ConversionError, match='--sleap-predictions is only for sleap'):
        convert_main(['cvat', str(slp_file), str(out), '--sleap-predictions'])


FOUR = [(10, 12, True), (20, 22, True), (30, 32, True), (40, 42, True)]


def test_frames_without_an_instance_are_kept_where_their_image_is(tmp_path):
    skels = [skeleton_json('fly', [1, 0, 2, 3], [(1, 0)], [(2, 3)]),
             skeleton_json('bee', [0, 1], [(0, 1)], [])]
    frames = [(0, 3, [_user(FOUR)]), (0, 10, []), (0, 11, [_pred(FOUR)]), (0, 12, []),
              (0, 13, [_user([(5, 6, True), (7, 8, True)], skeleton=1)]),
              (1, 2, [])]                 # the only frame of a video that is not there
    path = write_slp(tmp_path / 'e.pkg.slp', frames, skeletons=skels, videos=VIDEOS,
                     embedded={0: {3: _png(10), 10: _png(20), 11: _png(30), 13: _png(40)}})
    res = convert_sleap(path, tmp_path / 'img', label='fly', progress=False)
    # 10 (no instance) and 13 (only a bee) are kept; 12 is not in the package; 11 shows
    # a fly, only predicted
    assert [i['frame_idx'] for i in res.coco['images']] == [3, 10, 13]
    assert [a['image_id'] for a in res.coco['annotations']] == [1]
    assert (tmp_path / 'img' / res.coco['images'][1]['file_name']).read_bytes() == _png(20)
    assert res.stats.empty_images == 2
    assert res.stats.images_left_out == {
        "only predicted instances of 'fly' (convert them with --sleap-predictions)": 1,
        NOT_STORED: 1, UNREADABLE_VIDEO: 1}
    assert '2 image(s) without a labelled instance kept (no annotation)' in res.stats.summary_notes()
    assert any(n.startswith("video 1 (only frames without an instance) not read: ") and
               'clip.avi' in n for n in res.stats.notes)
    res = convert_sleap(path, tmp_path / 'img2', label='fly', predictions=True, progress=False)
    assert [i['frame_idx'] for i in res.coco['images']] == [3, 10, 11, 13]
    assert res.stats.images_left_out == {NOT_STORED: 1, UNREADABLE_VIDEO: 1}


def test_frames_without_an_instance_of_a_referenced_video(tmp_path):
    write_video(tmp_path / 'clip.avi')
    path = write_slp(tmp_path / 'v.slp', [(1, 1, []), (1, 5, [_user(FOUR)])], videos=VIDEOS)
    out = tmp_path / 'ds'
    assert convert_main(['sleap', str(path), str(out), '--val-every', '2',
                         '--no-progress']) == 0
    val = json.loads((out / 'val.json').read_text())
    train = json.loads((out / 'train.json').read_text())
    assert [i['frame_idx'] for i in val['images']] == [1] and not val['annotations']
    assert [i['frame_idx'] for i in train['images']] == [5] and len(train['annotations']) == 1
    frame = cv2.imread(str(out / 'images' / val['images'][0]['file_name']))
    assert abs(float(frame.mean()) - 20) < 6           # frame 1 of the video


def _moved_project(tmp_path: Path) -> tuple[Path, Path]:
    """A .slp whose image sequences (two folders with the same file names)
    and video were stored under /old/proj, now copied to ``tmp/new/proj``;
    the .slp itself sits elsewhere. Returns (slp, new project folder)."""
    proj = tmp_path / 'new' / 'proj'
    seqs = []
    for v, grey in (('m1', 40), ('m2', 160)):
        (proj / 'labeled-data' / v).mkdir(parents=True)
        for i in range(2):
            cv2.imwrite(str(proj / 'labeled-data' / v / f'img{i}.png'),
                        np.full((30, 40, 3), grey + 10 * i, np.uint8))
        seqs.append({'backend': {'filenames': [f'C:\\old\\proj\\labeled-data\\{v}\\img{i}.png'
                                               for i in range(2)], 'grayscale': False}})
    (proj / 'videos').mkdir()
    write_video(proj / 'videos' / 'clip.avi')
    videos = seqs + [{'backend': {'filename': '/old/proj/videos/clip.avi', 'grayscale': False,
                                  'dataset': '', 'input_format': ''}}]
    frames = [(0, 1, [_user(FOUR)]), (1, 1, [_user(FOUR)]), (2, 5, [_user(FOUR)])]
    (tmp_path / 'elsewhere').mkdir()
    return write_slp(tmp_path / 'elsewhere' / 'labels.slp', frames, videos=videos), proj


def test_images_dir_finds_the_frames_of_a_moved_project(tmp_path):
    slp, proj = _moved_project(tmp_path)
    with pytest.raises(ConversionError) as info:
        convert_sleap(slp, tmp_path / 'img', progress=False)
    msg = str(info.value)
    assert "video 0, frame 1: file 'C:\\\\old\\\\proj\\\\labeled-data\\\\m1\\\\img1.png' " \
           'not found' in msg
    assert str(slp.parent / 'old' / 'proj' / 'labeled-data' / 'm1' / 'img1.png') in msg
    assert str(slp.parent / 'img1.png') in msg and '--images-dir' in msg
    res = convert_sleap(slp, tmp_path / 'img', images_dir=proj, progress=False)
    out = tmp_path / 'img'
    names = [i['file_name'] for i in res.coco['images']]
    assert names == ['video0_m1/000001.png', 'video1_m2/000001.png', 'video2_clip/000005.png']
    # the longest matching trailing path wins: m1/img1.png and m2/img1.png are not mixed up
    assert (out / names[0]).read_bytes() == (proj / 'labeled-data/m1/img1.png').read_bytes()
    assert (out / names[1]).read_bytes() == (proj / 'labeled-data/m2/img1.png').read_bytes()
    assert abs(float(cv2.imread(str(out / names[2])).mean()) - 100) < 6   # video frame 5
    # a deeper folder finds the frames by their shorter trailing paths; the video
    # is not below it, and the error lists the places looked at there too
    with pytest.raises(ConversionError) as info:
        convert_sleap(slp, tmp_path / 'img3', images_dir=proj / 'labeled-data', progress=False)
    msg = str(info.value)
    assert "video 2: file '/old/proj/videos/clip.avi' not found" in msg
    for tail in ('old/proj/videos/clip.avi', 'videos/clip.avi', 'clip.avi'):
        assert str(proj / 'labeled-data' / tail) in msg
    assert '--images-dir' not in msg
    with pytest.raises(ConversionError,
                       match=r'labels\.slp: --images-dir .*nothing is not a folder'):
        convert_sleap(slp, tmp_path / 'img4', images_dir=proj / 'nothing', progress=False)


def test_a_project_copied_with_its_subfolders_needs_no_option(tmp_path):
    slp, proj = _moved_project(tmp_path)
    moved = proj / 'labels.slp'
    slp.rename(moved)
    res = convert_sleap(moved, tmp_path / 'img', progress=False)
    assert len(res.coco['images']) == 3


def test_cli_passes_images_dir_to_sleap(tmp_path):
    slp, proj = _moved_project(tmp_path)
    out = tmp_path / 'ds'
    assert convert_main(['sleap', str(slp), str(out), '--images-dir', str(proj),
                         '--no-split', '--no-progress']) == 0
    coco = json.loads((out / 'all.json').read_text())
    assert len(coco['images']) == 3
