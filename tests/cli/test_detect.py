"""customkpt detect writes a COCO detection file that top-down evaluation
reads as its bbox_file; customkpt export handles one-stage models."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from customkpt import cli
from customkpt.apis import init_model
from customkpt.datasets import CocoKeypointDataset
from customkpt.deploy import is_onestage_export

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Three small self5 validation images, a detector config on them and an
    untrained checkpoint whose boxes have some size."""
    from customkpt.demo import make_self5_dataset
    root = tmp_path_factory.mktemp('detect')
    data = make_self5_dataset(root / 'self5', num_train=1, num_val=3, image_size=(128, 96),
                              with_video=False, progress=False)
    config = root / 'detector.py'
    config.write_text(f"_base_ = [{str(ROOT / 'configs' / 'detector_self5_cpu.py')!r}]\n"
                      f"data_root = {str(data) + '/'!r}\ninput_size = (64, 64)\n")
    torch.manual_seed(0)
    model = init_model(str(config))
    with torch.no_grad():
        model.head.branches['box_size'][-1].bias.fill_(3.0)
    ckpt = root / 'detector.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=model.dataset_meta)),
               ckpt)
    return dict(data=data, config=str(config), ckpt=str(ckpt), root=root)


def test_detection_file_has_the_coco_format_and_is_a_bbox_file(setup, capsys):
    ann, out = setup['data'] / 'val_coco_joint.json', setup['root'] / 'dets.json'
    assert cli.run('detect', [setup['config'], setup['ckpt'], '--ann', str(ann),
                              '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert f'detections on 3 images to {out}' in printed and 'box AP' in printed
    records = json.loads(out.read_text())
    image_ids = {img['id'] for img in json.loads(ann.read_text())['images']}
    assert records and all(set(r) == {'image_id', 'bbox', 'score', 'category_id'}
                           for r in records)
    assert {r['image_id'] for r in records} <= image_ids
    assert {r['category_id'] for r in records} == {1}
    boxes = np.array([r['bbox'] for r in records])
    assert boxes.shape[1] == 4 and (boxes[:, 2:] >= 0).all()
    assert (boxes[:, 0] + boxes[:, 2] <= 128 + 1e-3).all()    # xywh, clipped to the image
    ds = CocoKeypointDataset(str(ann), bbox_file=str(out), test_mode=True,
                             data_prefix=dict(img=str(setup['data'] / 'images')))
    assert len(ds) == len(records)


def test_score_threshold_and_errors_are_one_line(setup, tmp_path, capsys):
    ann = str(setup['data'] / 'val_coco_joint.json')
    out = tmp_path / 'high.json'
    assert cli.run('detect', [setup['config'], setup['ckpt'], '--ann', ann, '--out', str(out),
                              '--score-thr', '0.99']) == 0
    assert all(r['score'] >= 0.99 for r in json.loads(out.read_text()))
    capsys.readouterr()
    assert cli.run('detect', [setup['config'], setup['ckpt'], '--ann', str(tmp_path / 'no.json'),
                              '--out', str(out)]) == 2
    assert 'no.json' in capsys.readouterr().err
    topdown = str(ROOT / 'configs' / 'hrnet_self5_cpu.py')
    assert cli.run('detect', [topdown, setup['ckpt'], '--ann', ann, '--out', str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'one-stage model' in err[0]


def test_export_writes_a_one_stage_model(setup, tmp_path, capsys):
    assert cli.run('export', [setup['config'], setup['ckpt'], '--out', str(tmp_path)]) == 0
    assert 'one-stage, input 64x64' in capsys.readouterr().out
    assert is_onestage_export(tmp_path / 'detector.onnx')
    assert cli.run('export', [setup['config'], setup['ckpt'], '--out', str(tmp_path),
                              '--input-size', '32', '32']) == 2


def test_flip_test_option_averages_in_the_mirrored_image(setup, tmp_path):
    torch.manual_seed(0)
    model = init_model(setup['config'])
    with torch.no_grad():  # random features are tiny: large weights give scores that differ
        torch.nn.init.normal_(model.head.branches['centre_heatmap'][-1].weight, std=3e3)
        model.head.branches['box_size'][-1].bias.fill_(3.0)
    ckpt = tmp_path / 'scores.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=model.dataset_meta)),
               ckpt)
    ann = str(setup['data'] / 'val_coco_joint.json')
    plain, flipped = tmp_path / 'plain.json', tmp_path / 'flip.json'
    for out, extra in ((plain, []), (flipped, ['--flip-test'])):
        assert cli.run('detect', [setup['config'], str(ckpt), '--ann', ann,
                                  '--out', str(out)] + extra) == 0
    best = [max(r['score'] for r in json.loads(f.read_text()) if r['image_id'] == i)
            for f in (plain, flipped) for i in (1, 2, 3)]
    # each image's best box scores otherwise: the mirrored outputs were averaged in
    assert np.abs(np.subtract(best[:3], best[3:])).min() > 1e-3
