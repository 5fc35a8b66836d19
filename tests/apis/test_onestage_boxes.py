"""OneStageDetectorBoxes: a one-stage model (checkpoint or exported ONNX)
as the box provider of customkpt video: threshold, classes, NMS."""
from pathlib import Path

import numpy as np
import pytest
import torch

from customkpt.apis import build_box_provider, init_model
from customkpt.cli import video
from customkpt.deploy.onestage_export import export_onestage_onnx
from customkpt.engine.config import load_config

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / 'configs' / 'detector_self5_cpu.py'


@pytest.fixture(scope='module')
def detector(tmp_path_factory):
    """An untrained detector at 64x64 (boxes of some size), its config file,
    checkpoint and ONNX export."""
    root = tmp_path_factory.mktemp('boxes')
    config = root / 'det.py'
    config.write_text(f'_base_ = [{str(CONFIG)!r}]\ninput_size = (64, 64)\n')
    torch.manual_seed(0)
    model = init_model(load_config(str(config)))
    with torch.no_grad():
        torch.nn.init.normal_(model.head.branches['centre_heatmap'][-1].weight, std=1.0)
        model.head.branches['box_size'][-1].bias.fill_(3.0)
    ckpt = root / 'det.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=model.dataset_meta)),
               ckpt)
    onnx = export_onestage_onnx(model, root / 'det.onnx')['onnx']
    return dict(config=str(config), ckpt=str(ckpt), onnx=onnx)


FRAME = np.random.default_rng(0).integers(0, 255, (48, 80, 3)).astype(np.uint8)


@pytest.mark.parametrize('source', ['onnx', 'checkpoint'])
def test_boxes_inside_the_frame_above_the_threshold(detector, source):
    model = (dict(onnx_path=detector['onnx']) if source == 'onnx' else
             dict(config=detector['config'], checkpoint=detector['ckpt']))
    provider = build_box_provider(dict(type='OneStageDetectorBoxes', score_thr=0.05, **model))
    boxes, scores = provider(FRAME, 0, None)
    assert boxes.dtype == np.float32 and scores.dtype == np.float32 and len(boxes)
    assert (scores >= 0.05).all() and (np.diff(scores) <= 0).all()
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 80).all() and (boxes[:, 3] <= 48).all()
    assert ((boxes[:, 2:] - boxes[:, :2]) > 0).all()
    strict = build_box_provider(dict(type='OneStageDetectorBoxes', score_thr=0.05, nms_thr=0.01,
                                     max_det=2, **model))
    assert len(strict(FRAME, 0, None)[0]) <= min(2, len(boxes))
    none = build_box_provider(dict(type='OneStageDetectorBoxes', class_ids=[3], **model))
    assert len(none(FRAME, 0, None)[0]) == 0


def test_video_command_picks_the_one_stage_provider(detector):
    args = video.parse_args(['in.mp4', '--onnx', 'pose.onnx',
                             '--boxes', f"detector:{detector['onnx']}", '--box-thr', '0.4'])
    assert video.box_config(args) == dict(type='OneStageDetectorBoxes',
                                          onnx_path=detector['onnx'], class_ids=[0],
                                          score_thr=0.4)
    args = video.parse_args(['in.mp4', '--onnx', 'pose.onnx', '--det-config',
                             detector['config'], '--boxes',
                             f"track+detector:{detector['ckpt']}"])
    fallback = video.box_config(args)['fallback']
    assert fallback['type'] == 'OneStageDetectorBoxes'
    assert fallback['config'] == detector['config'] and fallback['checkpoint'] == detector['ckpt']
    yolo = video.parse_args(['in.mp4', '--onnx', 'pose.onnx', '--boxes', 'detector:yolo.onnx'])
    assert video.box_config(yolo)['type'] == 'OnnxDetectorBoxes'


def test_needs_exactly_one_model():
    with pytest.raises(ValueError, match='either onnx_path or config'):
        build_box_provider(dict(type='OneStageDetectorBoxes'))
