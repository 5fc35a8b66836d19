"""init_model / inference_topdown / TopdownPredictor on a tiny model."""
from pathlib import Path

import numpy as np
import pytest
import torch

from customkpt.apis import TopdownPredictor, inference_topdown, init_model, stack_predictions

CONFIG = 'configs/hrnet_self5_cpu.py'


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return init_model(CONFIG)


def _image(seed=0, h=160, w=200):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)


def test_meta_from_config(model):
    assert model.dataset_meta['keypoint_names'][0] == 'head'
    assert model.dataset_meta['flip_indices'] == [0, 2, 1, 4, 3]
    assert not model.training


def test_meta_restored_from_checkpoint(tmp_path, model):
    meta = dict(model.dataset_meta, keypoint_names=['a', 'b', 'c', 'd', 'e'],
                flip_pairs=[], flip_indices=[0, 1, 2, 3, 4])
    ckpt = tmp_path / 'model.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=meta)), ckpt)
    loaded = init_model(CONFIG, ckpt)
    assert loaded.dataset_meta['keypoint_names'] == ['a', 'b', 'c', 'd', 'e']
    assert loaded.dataset_meta['flip_indices'] == [0, 1, 2, 3, 4]
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key


def test_missing_files_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.py'):
        init_model(tmp_path / 'nope.py')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        init_model(CONFIG, tmp_path / 'nope.pth')


def test_unreadable_image_named(model, tmp_path):
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not an image')
    with pytest.raises(OSError, match='bad.png'):
        inference_topdown(model, bad)


def test_full_frame_default_and_formats(model):
    img = _image()
    full = stack_predictions(inference_topdown(model, img))
    np.testing.assert_allclose(full['bboxes'], [[0, 0, 200, 160]])
    assert full['keypoints'].shape == (1, 5, 2) and full['keypoint_scores'].shape == (1, 5)
    xyxy = stack_predictions(inference_topdown(model, img, [[20, 10, 120, 150]]))
    xywh = stack_predictions(inference_topdown(model, img, [[20, 10, 100, 140]],
                                               bbox_format='xywh'))
    np.testing.assert_allclose(xyxy['keypoints'], xywh['keypoints'])


def test_batching_does_not_change_results(model):
    img = _image(1)
    boxes = [[0, 0, 100, 100], [50, 40, 190, 150], [10, 60, 80, 159]]
    together = TopdownPredictor(model)(img, boxes, bbox_scores=[0.9, 0.8, 0.7])
    split = TopdownPredictor(model, batch_size=2)(img, boxes, bbox_scores=[0.9, 0.8, 0.7])
    np.testing.assert_allclose(together['keypoints'], split['keypoints'], atol=1e-4)
    np.testing.assert_allclose(together['bbox_scores'], [0.9, 0.8, 0.7])
    assert together['keypoints'].shape == (3, 5, 2)


def test_keypoints_follow_the_content(model):
    """Moving image content and box by (dx, dy) moves the keypoints by it."""
    img = _image(2, 300, 300)
    moved = np.zeros_like(img)
    dx, dy = 37, 21
    moved[dy:, dx:] = img[:300 - dy, :300 - dx]
    box = np.array([[40, 30, 200, 250]], np.float32)
    a = stack_predictions(inference_topdown(model, img, box))
    b = stack_predictions(inference_topdown(model, moved, box + [dx, dy, dx, dy]))
    np.testing.assert_allclose(b['keypoints'] - a['keypoints'],
                               np.broadcast_to([dx, dy], a['keypoints'].shape), atol=1e-3)
    np.testing.assert_allclose(a['keypoint_scores'], b['keypoint_scores'], atol=1e-5)


def test_init_model_never_reads_a_file_named_in_checkpoint_meta(tmp_path):
    """A checkpoint's meta is data: a definition file it names is not run."""
    marker = tmp_path / 'ran.txt'
    script = tmp_path / 'evil_meta.py'
    script.write_text(f'open({str(marker)!r}, "w").write("x")\n'
                      "keypoint_names = ['a', 'b', 'c', 'd', 'e']\n")
    cfg = str(Path(__file__).resolve().parents[2] / 'configs' / 'hrnet_self5_cpu.py')
    model = init_model(cfg)
    path = tmp_path / 'ckpt.pth'
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(from_file=str(script),
                                                keypoint_names=['a', 'b', 'c', 'd', 'e']))),
               path)
    loaded = init_model(cfg, str(path))
    assert not marker.exists()
    assert loaded.dataset_meta['keypoint_names'] == ['a', 'b', 'c', 'd', 'e']


def _write_config(tmp_path, text):
    path = tmp_path / 'cfg.py'
    path.write_text(f"_base_ = [{str(Path(CONFIG).resolve())!r}]\n" + text)
    return str(path)


def test_meta_without_checkpoint_from_the_annotation_file(tmp_path):
    """A config without metainfo: the definition is the annotation file's category."""
    import json
    ann = {'images': [], 'annotations': [], 'categories': [
        {'id': 1, 'name': 'animal', 'keypoints': ['nose', 'left_ear', 'right_ear'],
         'skeleton': [[1, 2], [1, 3]], 'flip_pairs': [[1, 2]]}]}
    (tmp_path / 'ann.json').write_text(json.dumps(ann))
    cfg = _write_config(tmp_path, f"num_joints = 3\nmetainfo = None\ndata_root = "
                                  f"{str(tmp_path)!r}\nval_ann_file = 'ann.json'\n"
                                  "train_ann_file = 'ann.json'\nsigmas = [0.03] * 3\n")
    meta = init_model(cfg).dataset_meta
    assert meta['keypoint_names'] == ['nose', 'left_ear', 'right_ear']
    assert meta['flip_indices'] == [0, 2, 1] and meta['skeleton'] == [[0, 1], [0, 2]]


def test_a_checkpoint_with_another_keypoint_count_is_refused(tmp_path, model):
    from customkpt.engine.model_fit import KeypointCountError
    ckpt = tmp_path / 'five.pth'
    torch.save(dict(state_dict=model.state_dict(), meta={}), ckpt)
    four = _write_config(tmp_path, "num_joints = 4\nkeypoint_names = ['a', 'b', 'c', 'd']\n"
                                   "flip_pairs = []\nskeleton = []\nsigmas = [0.05] * 4\n")
    with pytest.raises(KeypointCountError, match=r'five.pth: its head is for 5 keypoints but '
                                                 r'the model has 4'):
        init_model(four, str(ckpt))
    init_model(CONFIG, str(ckpt))  # the same checkpoint fits its own definition
