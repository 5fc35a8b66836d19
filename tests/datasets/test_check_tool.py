"""tools/check_dataset.py: report, statistics and exit code."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import REPO_ROOT, ann, write_image

TOOL = REPO_ROOT / 'tools' / 'check_dataset.py'
NAMES = ['head', 'left_hand', 'right_hand']


def load_tool():
    from customkpt.cli import check
    return check


@pytest.fixture
def good(write_coco):
    return write_coco([{'id': 1, 'file_name': 'a.png'}, {'id': 2, 'file_name': 'b.png'}],
                      [ann(1, 1, [(5, 5, 2), (9, 9, 2), (0, 0, 0)], bbox=[1, 1, 20, 30]),
                       ann(2, 2, [(5, 5, 2), (0, 0, 0), (7, 7, 1)], bbox=[2, 2, 10, 10])],
                      NAMES, name='good.json')


@pytest.fixture
def bad(write_coco):
    return write_coco([{'id': 1, 'file_name': 'a.png'}, {'id': 2, 'file_name': 'gone.png'}],
                      [ann(1, 1, [(5, 5, 2), (9, 9, 2)], bbox=[1, 1, 20, 30]),
                       ann(2, 1, [(5, 5, 2), (9, 9, 2), (1, 1, 2)], bbox=[1, 1, 0, 30]),
                       ann(3, 2, [(5, 5, 2), (9, 9, 2), (1, 1, 2)], bbox=[1, 1, 9, 9]),
                       ann(4, 1, [(5, 5, 2), (9, 9, 2), (1, 1, 2)], bbox=[1, 1, 9, 9])],
                      NAMES, name='bad.json', make_images=False)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, check=False, timeout=120)


def test_subprocess_exit_codes_and_output(good, bad):
    write_image(bad.parent / 'img' / 'a.png', 64, 48)
    img_root = str(good.parent / 'img')
    ok = run('--ann-file', str(good), '--img-root', img_root)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert 'OK: 0 errors' in ok.stdout and 'instances: 2' in ok.stdout
    failed = run('--ann-file', str(bad), '--img-root', img_root)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    out = failed.stdout
    assert 'FAILED: 3 errors' in out
    assert "image 1, annotation 1, field 'keypoints': has 6 values, expected 3*K = 9" in out
    assert "image 1, annotation 2, field 'bbox'" in out
    assert "image 2, annotation -, field 'file_name': image file not found" in out


def test_statistics_and_decode_option(good, capsys):
    tool = load_tool()
    (good.parent / 'img' / 'b.png').write_bytes(b'broken')
    assert tool.main(['--ann-file', str(good), '--img-root', str(good.parent / 'img'),
                      '--no-decode']) == 0
    out = capsys.readouterr().out
    assert 'images: 2, instances: 2, keypoints: K=3' in out
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines()
             if line.startswith('  ') and line.split()[0] in NAMES}
    assert lines == {'head': '2', 'left_hand': '1', 'right_hand': '1'}
    assert 'box width 10.0..20.0 px, height 10.0..30.0 px' in out
    assert tool.main(['--ann-file', str(good), '--img-root', str(good.parent / 'img'),
                      '--decode-images']) == 1
    assert 'cannot be decoded' in capsys.readouterr().out


def test_config_with_splits_and_metainfo_file(good, bad, tmp_path, capsys):
    tool = load_tool()
    meta = tmp_path / 'meta.py'
    meta.write_text(f'keypoint_names = {NAMES!r}\nflip_pairs = [[1, 2]]\nsigmas = [0.05] * 3\n')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        f"img = dict(img={str(tmp_path / 'img')!r})\n"
        f"train_dataloader = dict(dataset=dict(type='MergedKeypointDataset',"
        f" metainfo={str(meta)!r}, datasets=[dict(type='CocoKeypointDataset', ann_file={str(good)!r}, data_prefix=img,"
        f" metainfo={str(meta)!r})]))\n"
        f"val_dataloader = dict(dataset=dict(type='CocoKeypointDataset', ann_file={str(bad)!r},"
        f" data_prefix=img, test_mode=True, metainfo={str(meta)!r}))\n")
    assert tool.main([str(cfg), '--split', 'train']) == 0
    out = capsys.readouterr().out
    assert 'train_dataloader.dataset.datasets[0]' in out and 'flip pairs: 1' in out
    assert tool.main([str(cfg)]) == 1
    assert 'val_dataloader.dataset' in capsys.readouterr().out
    assert tool.main([str(cfg), '--split', 'test']) == 1   # nothing to check


def test_mpii_layout_and_the_merge_config(samples, capsys):
    tool = load_tool()
    assert tool.main(['--ann-file', str(samples / 'mpii' / 'test_mpii.json'),
                      '--img-root', str(samples / 'mpii')]) == 0
    assert 'MpiiDataset' in capsys.readouterr().out
    assert tool.main([str(REPO_ROOT / 'configs' / 'coco_aic_merge.py')]) == 0
    out = capsys.readouterr().out
    assert 'instances: 12' in out and 'instances: 9' in out


def test_bad_metainfo_is_reported_not_raised(good, tmp_path, capsys):
    meta = tmp_path / 'meta.json'
    meta.write_text(json.dumps({'keypoint_names': ['x', 'y'], 'sigmas': [0.1, 0.1]}))
    tool = load_tool()
    assert tool.main(['--ann-file', str(good), '--metainfo', str(meta)]) == 1
    assert 'cannot load the dataset' in capsys.readouterr().out


def test_unreadable_annotation_files_are_reported_not_raised(good, tmp_path, capsys):
    tool = load_tool()
    truncated = tmp_path / 'cut.json'
    truncated.write_text(good.read_text()[:40])
    for path, words in ((tmp_path / 'missing.json', 'annotation file not found'),
                        (truncated, 'looks truncated')):
        assert tool.main(['--ann-file', str(path)]) == 1
        out = capsys.readouterr().out
        assert f"{path}: image -, annotation -, field 'file': " in out and words in out
        assert 'FAILED: 1 errors' in out


def test_wrong_image_folder_is_said_once(good, tmp_path, capsys):
    tool = load_tool()
    assert tool.main(['--ann-file', str(good), '--img-root', str(tmp_path / 'nope')]) == 1
    out = capsys.readouterr().out
    assert out.count('does not exist') == 1 and 'image file not found' not in out
    assert 'FAILED: 1 errors' in out and 'Traceback' not in out


def test_missing_files_sorted_naturally_and_capped(write_coco, capsys):
    images = [{'id': i, 'file_name': f'{i}.png'} for i in range(1, 61)]
    anns = [ann(i, i, [(5, 5, 2), (9, 9, 2), (0, 0, 0)], bbox=[1, 1, 9, 9]) for i in range(1, 61)]
    path = write_coco(images, anns, NAMES, make_images=False)
    write_image(path.parent / 'img' / '60.png', 64, 48)
    tool = load_tool()
    assert tool.main(['--ann-file', str(path), '--img-root', str(path.parent / 'img'),
                      '--max-problems', '20']) == 1
    out = capsys.readouterr().out
    listed = [int(line.split('image ')[1].split(',')[0]) for line in out.splitlines()
              if 'image file not found' in line]
    assert listed == list(range(1, 21))
    assert '... and 39 more problems (--max-problems 0 lists all)' in out
    assert 'FAILED: 59 errors' in out


def test_images_that_do_not_decode_fail_by_default(good, capsys):
    tool = load_tool()
    img = good.parent / 'img'
    for name in ('a.png', 'b.png'):
        (img / name).write_text('hello')
    args = ['--ann-file', str(good), '--img-root', str(img)]
    assert tool.main(args) == 1
    out = capsys.readouterr().out
    assert out.count('cannot be decoded') == 2 and 'FAILED: 2 errors' in out
    assert tool.main([*args, '--decode-sample', '1']) == 1
    assert capsys.readouterr().out.count('cannot be decoded') == 1
    assert tool.main([*args, '--no-decode']) == 0


def test_skipped_annotations_are_listed(write_coco, capsys):
    path = write_coco([{'id': 1, 'file_name': 'a.png'}],
                      [ann(1, 1, [(5, 5, 2), (9, 9, 2), (0, 0, 0)], bbox=[1, 1, 9, 9]),
                       ann(2, 1, [(5, 5, 2), (9, 9, 2), (0, 0, 0)], bbox=[1, 1, 9, 9],
                           category_id=7)], NAMES)
    tool = load_tool()
    assert tool.main(['--ann-file', str(path), '--img-root', str(path.parent / 'img')]) == 0
    out = capsys.readouterr().out
    assert '1 annotation skipped: category_id 7 is not the keypoint category 1' in out
    assert 'ann ids [2]' in out and 'OK: 0 errors, 1 warnings' in out


def test_cfg_options_choose_the_file(good, bad, tmp_path, capsys):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f"train_dataloader = dict(dataset=dict(type='CocoKeypointDataset', "
                   f"ann_file={str(good)!r}, data_prefix=dict(img={str(tmp_path / 'img')!r})))\n")
    tool = load_tool()
    assert tool.main([str(cfg)]) == 0
    capsys.readouterr()
    assert tool.main([str(cfg), '--cfg-options',
                      f'train_dataloader.dataset.ann_file={bad}']) == 1
    assert str(bad) in capsys.readouterr().out
