"""customkpt browse on a tiny generated COCO-keypoint dataset."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMES = ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot']
# Image size >= the tool's display minimum, so drawings are not enlarged.
WIDTH, HEIGHT = 400, 300
INPUT_SIZE = (96, 128)


def make_dataset(root: Path) -> Path:
    """3 images, 4 instances (image 2 holds two), and a config using the
    training pipeline; returns the config path."""
    (root / 'images').mkdir(parents=True)
    images, anns = [], []
    aid = 100
    for i in range(3):
        img = np.full((HEIGHT, WIDTH, 3), 80, np.uint8)
        cv2.circle(img, (200, 150), 60, (40, 160, 200), -1)
        cv2.imwrite(str(root / 'images' / f'im{i}.png'), img)
        images.append({'id': i + 1, 'file_name': f'im{i}.png', 'width': WIDTH, 'height': HEIGHT})
        for dx in ((0,) if i != 1 else (-90, 90)):
            # A figure facing the camera: its left hand/foot on the image's right.
            pts = [(200 + dx, 60, 2), (250 + dx, 140, 2), (150 + dx, 140, 2),
                   (230 + dx, 260, 2), (170 + dx, 260, 1)]
            anns.append({'id': aid, 'image_id': i + 1, 'category_id': 1, 'iscrowd': 0,
                         'bbox': [130 + dx, 40, 140, 240], 'area': 140 * 240.0,
                         'num_keypoints': 5,
                         'keypoints': [float(c) for p in pts for c in p]})
            aid += 1
    (root / 'ann.json').write_text(json.dumps({
        'images': images, 'annotations': anns,
        'categories': [{'id': 1, 'name': 'figure', 'keypoints': NAMES,
                        'skeleton': [[1, 2], [1, 3], [1, 4], [1, 5]]}]}))
    codec = dict(type='MSRAHeatmap', input_size=INPUT_SIZE, heatmap_size=(24, 32), sigma=2.0)
    metainfo = dict(flip_pairs=[[1, 2], [3, 4]], sigmas=[0.05] * 5)
    pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='RandomHalfBody'),
        dict(type='RandomBBoxTransform'),
        dict(type='TopdownAffine', input_size=INPUT_SIZE),
        dict(type='GenerateTarget', encoder=codec),
        dict(type='PackPoseInputs'),
    ]
    dataset = dict(type='CocoKeypointDataset', ann_file='ann.json', data_root=str(root),
                   data_prefix=dict(img='images/'), metainfo=metainfo, pipeline=pipeline)
    cfg = root / 'browse_cfg.py'
    cfg.write_text(f"default_scope = 'customkpt'\n"
                   f"train_dataloader = dict(batch_size=2, dataset={dataset!r})\n"
                   f"val_dataloader = dict(batch_size=2, dataset={dict(dataset, test_mode=True)!r})\n")
    return cfg


def transforms_ready() -> bool:
    """Whether the transforms this test's pipeline names are importable."""
    try:
        import customkpt.codecs  # noqa: F401
        import customkpt.datasets.transforms  # noqa: F401
    except ImportError:
        return False
    return True


def load_tool():
    from customkpt.cli import browse
    return browse


def run(cfg: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'customkpt.cli', 'browse', str(cfg),
                           '--out-dir', str(out), *args],
                          capture_output=True, text=True, timeout=120, cwd=str(REPO_ROOT))


@pytest.mark.parametrize('mode,num,expected', [
    ('original', 10, 4), ('transformed', 3, 3), ('both', 2, 4)])
def test_writes_one_png_per_sample_and_mode(tmp_path: Path, mode: str, num: int,
                                            expected: int) -> None:
    if mode != 'original' and not transforms_ready():
        pytest.skip('customkpt.datasets.transforms / customkpt.codecs not available yet')
    cfg = make_dataset(tmp_path / 'data')
    out = tmp_path / 'out'
    res = run(cfg, out, '--mode', mode, '--num', str(num), '--seed', '0')
    assert res.returncode == 0, res.stderr[-3000:]
    assert str(out.resolve()) in res.stdout
    files = sorted(out.glob('*.png'))
    assert len(files) == expected, [f.name for f in files]
    modes = ('original', 'transformed') if mode == 'both' else (mode,)
    assert {f.stem.rsplit('_', 1)[1] for f in files} == set(modes)
    assert files[0].name.startswith('1_100_')  # <img_id>_<ann_id>_<mode>.png
    for f in files:
        img = cv2.imread(str(f))
        assert img is not None and img.std() > 5
        if f.stem.endswith('transformed'):
            # Crop enlarged to 384 px high, beside its heatmap overlay.
            scale = 384 / INPUT_SIZE[1]
            width = round(INPUT_SIZE[0] * scale)
            assert img.shape[:2] == (384, 2 * width + 4), img.shape


def test_original_mirror_panel_follows_flip_indices(tmp_path: Path) -> None:
    tool = load_tool()
    from customkpt.meta import KeypointMeta
    meta = KeypointMeta(keypoint_names=NAMES, skeleton=[[0, 1]], flip_pairs=[[1, 2], [3, 4]],
                        sigmas=[0.05] * 5).to_dict()
    make_dataset(tmp_path)
    kpts = np.array([[200, 60], [250, 140], [150, 140], [230, 260], [170, 260]], np.float32)
    data = {'img_path': str(tmp_path / 'images' / 'im0.png'), 'keypoints': kpts[None],
            'keypoints_visible': np.ones((1, 5), np.float32),
            'bbox': np.array([[130, 40, 270, 280]], np.float32)}
    drawn = tool.draw_original(data, meta, 0.3)
    assert drawn.shape == (HEIGHT, 2 * WIDTH + 4, 3)
    colours = [tuple(c[::-1]) for c in meta['keypoint_colors']]  # BGR
    x0 = WIDTH + 4
    for j, (x, y) in enumerate(kpts.astype(int)):
        assert tuple(drawn[y, x]) == colours[j]
        # The mirror image of point j is the flip partner's position.
        partner = meta['flip_indices'][j]
        assert tuple(drawn[y, x0 + WIDTH - 1 - x]) == colours[partner], NAMES[j]


class PackPoseInputs:
    """Stands in for the real packing transform: must never be called."""

    def __call__(self, data: dict) -> dict:
        raise AssertionError('the tool must stop before PackPoseInputs')


def test_transformed_drawing_with_stub_pipeline() -> None:
    """run_pipeline/draw_transformed without the real transforms: a stub
    pipeline that crops, adds heatmaps, and a packing step that must be skipped."""
    tool = load_tool()
    from customkpt.meta import KeypointMeta
    meta = KeypointMeta(keypoint_names=NAMES, skeleton=[[0, 1], [0, 2]],
                        sigmas=[0.05] * 5).to_dict()
    w, h = INPUT_SIZE

    def crop(data: dict) -> dict:
        data['img'] = np.full((h, w, 3), 60, np.uint8)
        data['transformed_keypoints'] = np.array(
            [[[48, 10], [70, 50], [26, 50], [60, 110], [36, 110]]], np.float32)
        data['heatmaps'] = np.zeros((5, 32, 24), np.float32)
        data['heatmaps'][0, 2, 12] = 1.0
        data['input_size'] = INPUT_SIZE
        return data

    class Dataset:
        pipeline = type('Compose', (), {'transforms': [crop, PackPoseInputs()]})()

        @staticmethod
        def get_data_info(idx: int) -> dict:
            return {'img_id': 1, 'id': 7, 'keypoints_visible': np.array([[1, 1, 1, 0, 1]])}

    data = tool.run_pipeline(Dataset(), 0)
    drawn = tool.draw_transformed(data, meta, 0.3)
    scale = 384 / h
    width = round(w * scale)
    assert drawn.shape == (384, 2 * width + 4, 3)
    colours = [tuple(c[::-1]) for c in meta['keypoint_colors']]
    for j, (x, y) in enumerate(data['transformed_keypoints'][0]):
        px, py = int(round((x + 0.5) * scale - 0.5)), int(round((y + 0.5) * scale - 0.5))
        if j == 3:  # not visible
            assert tuple(drawn[py, px]) != colours[j]
        else:
            assert tuple(drawn[py, px]) == colours[j], NAMES[j]
    # The heatmap panel is coloured near the head's peak, plain grey far from it.
    head_x = width + 4 + int(12.5 * 4 * scale)
    assert drawn[int(2.5 * 4 * scale) + 12, head_x].std() > 10
    assert tuple(drawn[370, width + 4 + 5]) == (60, 60, 60)
