"""``customkpt sigmas`` on the self5 demo data: two noisy copies of the labels
with known per-point noise, and a model's (faked and real) errors."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from customkpt import cli

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / 'configs' / 'hrnet_self5_cpu.py')
#: Known noise: COCO sigma of each self5 point (RMS 2-D error / sqrt(area)).
NOISE = np.array([0.02, 0.035, 0.05, 0.07, 0.09])


@pytest.fixture(scope='module')
def self5(tmp_path_factory):
    from customkpt.demo import make_self5_dataset
    return make_self5_dataset(tmp_path_factory.mktemp('sig') / 'self5', num_train=0,
                              num_val=60, with_video=False, progress=False)


def noisy_copy(src: Path, dst: Path, seed: int) -> Path:
    """A second labeller: points moved by Gaussian noise of per-coordinate std
    NOISE * sqrt(area) / sqrt(2), boxes off by up to a pixel, other image ids,
    annotations in another order."""
    data = json.loads(src.read_text())
    rng = np.random.default_rng(seed)
    for ann in data['annotations']:
        kpts = np.asarray(ann['keypoints'], float).reshape(-1, 3)
        std = NOISE * np.sqrt(ann['area']) / np.sqrt(2)
        labelled = kpts[:, 2] > 0
        kpts[labelled, :2] += rng.normal(size=(labelled.sum(), 2)) * std[labelled, None]
        ann['keypoints'] = kpts.ravel().tolist()
        ann['bbox'] = (np.asarray(ann['bbox']) + rng.uniform(-1, 1, 4)).tolist()
        ann['image_id'] += 1000
    for img in data['images']:
        img['id'] += 1000
    data['annotations'] = data['annotations'][::-1]
    dst.write_text(json.dumps(data))
    return dst


def written_sigmas(path: Path) -> np.ndarray:
    return np.asarray(json.loads(path.read_text())['categories'][0]['sigmas'])


def test_two_noisy_labellers_give_back_the_noise_sigmas(self5, tmp_path, capsys):
    a = noisy_copy(self5 / 'val_coco_joint.json', tmp_path / 'a.json', seed=1)
    b = noisy_copy(self5 / 'val_coco_joint.json', tmp_path / 'b.json', seed=2)
    before = a.read_text(), b.read_text()
    out = tmp_path / 'out' / 'val_sigmas.json'
    assert cli.main(['sigmas', '--labels', str(a), str(b), '--out', str(out)]) == 0
    assert (a.read_text(), b.read_text()) == before
    rel = written_sigmas(out) / NOISE - 1
    assert np.abs(rel).max() < 0.2, rel
    text = capsys.readouterr().out
    assert '95% interval' in text and 'annotation-noise sigmas' in text
    head = next(line for line in text.splitlines() if line.strip().startswith('head'))
    low, high = float(head.split()[2]), float(head.split()[4])
    assert low < written_sigmas(out)[0] < high


def test_three_labellers_into_a_metainfo_file(self5, tmp_path):
    from customkpt.meta import KeypointMeta
    files = [str(noisy_copy(self5 / 'val_coco_joint.json', tmp_path / f'{i}.json', seed=i))
             for i in range(3)]
    out = tmp_path / 'self5_meta.py'
    assert cli.main(['sigmas', '--labels', *files, '--out', str(out), '--match', 'oks',
                     '--bootstrap', '0']) == 0
    meta = KeypointMeta.from_file(out)
    assert np.abs(meta.sigmas / NOISE - 1).max() < 0.2
    assert meta.flip_pairs == [[1, 2], [3, 4]] and meta.keypoint_names[0] == 'head'


def test_in_place_and_refusals(self5, tmp_path, capsys):
    a = noisy_copy(self5 / 'val_coco_joint.json', tmp_path / 'a.json', seed=1)
    b = noisy_copy(self5 / 'val_coco_joint.json', tmp_path / 'b.json', seed=2)
    assert cli.main(['sigmas', '--labels', str(a), str(b), '--out', str(a)]) == 2
    assert 'is an input file; use --in-place' in capsys.readouterr().err
    assert cli.main(['sigmas', '--labels', str(a), str(a), '--out', str(tmp_path / 'c.json')]) \
        == 2
    assert 'all their labels agree exactly' in capsys.readouterr().err
    assert cli.main(['sigmas', '--labels', str(a), str(tmp_path / 'none.json'),
                     '--out', str(tmp_path / 'c.json')]) == 2
    assert f'annotation file not found: {tmp_path / "none.json"}' in capsys.readouterr().err
    before = b.read_text()
    assert cli.main(['sigmas', '--labels', str(a), str(b), '--in-place']) == 0
    assert np.abs(written_sigmas(a) / NOISE - 1).max() < 0.2 and b.read_text() == before
    with pytest.raises(SystemExit):
        cli.main(['sigmas', '--labels', str(a), '--out', str(tmp_path / 'c.json')])


@pytest.fixture(scope='module')
def untrained(tmp_path_factory):
    from customkpt.engine.config import load_config
    from customkpt.engine.model_fit import build_bare_model
    ckpt = tmp_path_factory.mktemp('ckpt') / 'untrained.pth'
    torch.manual_seed(0)
    torch.save(dict(state_dict=build_bare_model(load_config(CONFIG)).state_dict(), meta={}), ckpt)
    return str(ckpt)


def model_args(self5, ckpt, out, *more):
    return ['sigmas', '--config', CONFIG, '--checkpoint', ckpt, '--ann',
            str(self5 / 'val_coco_joint.json'), '--img-root', str(self5 / 'images'),
            '--out', str(out), *more]


def test_model_errors_go_through_the_ground_truth_of_each_box(self5, untrained, tmp_path,
                                                             monkeypatch, capsys):
    """A fake model whose error has the known sigmas: they come back."""
    from customkpt.cli import sigmas
    data = json.loads((self5 / 'val_coco_joint.json').read_text())
    names = {img['id']: img['file_name'] for img in data['images']}
    truth = {(names[a['image_id']], tuple(np.round(a['bbox'][:2], 2))): a
             for a in data['annotations']}
    rng = np.random.default_rng(0)

    def fake(model, img_path, boxes, batch_size):
        out = []
        for box in boxes:
            ann = truth[(Path(img_path).name, tuple(np.round(box[:2].astype(float), 2)))]
            kpts = np.asarray(ann['keypoints'], float).reshape(-1, 3)[:, :2]
            std = NOISE * np.sqrt(ann['area']) / np.sqrt(2)
            out.append(kpts + rng.normal(size=kpts.shape) * std[:, None])
        return np.stack(out)

    monkeypatch.setattr(sigmas, 'predict_image', fake)
    out = tmp_path / 'model_meta.yaml'
    assert cli.main(model_args(self5, untrained, out)) == 0
    from customkpt.meta import KeypointMeta
    assert np.abs(KeypointMeta.from_file(out).sigmas / NOISE - 1).max() < 0.2
    assert 'model-error sigmas' in capsys.readouterr().out


def test_a_real_model_on_two_images(self5, untrained, tmp_path, capsys):
    out = tmp_path / 'val_model_sigmas.json'
    assert cli.main(model_args(self5, untrained, out, '--max-images', '2',
                               '--bootstrap', '20')) == 0
    data = json.loads((self5 / 'val_coco_joint.json').read_text())
    expected = sum(a['image_id'] in (1, 2) for a in data['annotations'])
    text = capsys.readouterr().out
    assert f'{expected} instances in 2 images predicted' in text
    sigmas = written_sigmas(out)
    assert sigmas.shape == (5,) and (sigmas > 0).all()
    assert f'sigmas = {sigmas.tolist()}' in text
