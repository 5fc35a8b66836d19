"""The exported detector + top-down model pipeline: its file (written,
read, checked), OnnxPosePipeline against the two predictors run by hand,
the export and video commands, and a run without torch."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from customkpt import cli
from customkpt.apis import init_model
from customkpt.deploy import (OnnxOneStagePredictor, OnnxPosePipeline, OnnxPredictor,
                              read_pipeline, write_pipeline)
from customkpt.deploy.onestage_export import export_onestage_onnx
from customkpt.engine.config import load_config

from .predictor_cases import _image

ROOT = Path(__file__).resolve().parents[2]
DETECTOR = 'configs/detector_self5_cpu.py'


def detector_model():
    """The detector config at 64x64, seed 0, with weights that give boxes of
    some size and scores that differ (random features are tiny)."""
    torch.manual_seed(0)
    model = init_model(load_config(DETECTOR, dict(input_size=(64, 64), max_detections=8)))
    with torch.no_grad():
        torch.nn.init.normal_(model.head.branches['centre_heatmap'][-1].weight, std=3e3)
        model.head.branches['box_size'][-1].bias.fill_(3.0)
    return model


@pytest.fixture(scope='module')
def pipeline(exports, tmp_path_factory):
    root = tmp_path_factory.mktemp('pipeline')
    det = export_onestage_onnx(detector_model(), root / 'det' / 'detector.onnx')
    path = write_pipeline(root / 'pose_pipeline.json', exports['plain']['onnx'], det['onnx'],
                          box_score_thr=0.05, max_detections=3)
    return dict(path=path, detector=det['onnx'], pose=exports['plain']['onnx'])


def test_the_file_keeps_relative_paths_and_reads_back(pipeline):
    data = json.loads(Path(pipeline['path']).read_text())
    assert data['format'] == 'customkpt-pipeline' and data['format_version'] == 1
    assert data['detector'] == str(Path('det') / 'detector.onnx')
    assert data['class_ids'] == [0] and data['max_detections'] == 3
    info = read_pipeline(pipeline['path'])
    assert info['pose'] == str(Path(pipeline['pose']).resolve())
    assert info['detector'] == str(Path(pipeline['detector']).resolve())


def test_the_pipeline_equals_the_two_predictors_run_by_hand(pipeline):
    run = OnnxPosePipeline(pipeline['path'])
    img = _image(5)
    det = OnnxOneStagePredictor(pipeline['detector'])(img)
    keep = det['scores'] >= 0.05
    order = np.argsort(-det['scores'][keep], kind='stable')[:3]
    boxes, scores = det['bboxes'][keep][order], det['scores'][keep][order]
    assert len(boxes) == 3                       # the cap, best first
    expected = OnnxPredictor(pipeline['pose'])(img, boxes, scores)
    out = run(img)
    assert out['keypoints'].shape == (3, 5, 2)
    for key in ('bboxes', 'bbox_scores', 'keypoints', 'keypoint_scores'):
        np.testing.assert_allclose(out[key], expected[key], atol=1e-5)


def test_no_box_above_the_threshold_gives_no_subject(pipeline, tmp_path):
    path = write_pipeline(tmp_path / 'strict.json', pipeline['pose'], pipeline['detector'],
                          box_score_thr=1.0)
    out = OnnxPosePipeline(path)(_image(5))
    assert out['bboxes'].shape == (0, 4) and out['keypoints'].shape == (0, 5, 2)
    assert out['keypoint_scores'].shape == (0, 5)


def test_bad_files_are_named_with_their_field(pipeline, tmp_path):
    with pytest.raises(ValueError, match=r"field 'pose': .* is a one-stage export"):
        write_pipeline(tmp_path / 'p.json', pipeline['detector'], pipeline['detector'])
    with pytest.raises(ValueError, match=r"field 'detector': .* is not a one-stage export"):
        write_pipeline(tmp_path / 'p.json', pipeline['pose'], pipeline['pose'])
    data = json.loads(Path(pipeline['path']).read_text())
    cases = [(dict(data, format='x'), "field 'format'"),
             (dict(data, box_score_thr=2), "field 'box_score_thr'"),
             (dict(data, class_ids='0'), "field 'class_ids'"),
             (dict(data, max_detections=0), "field 'max_detections'"),
             (dict(data, detector='gone.onnx'), "field 'detector': .*gone.onnx.* not found")]
    for i, (bad, message) in enumerate(cases):
        path = Path(pipeline['path']).parent / f'bad{i}.json'
        path.write_text(json.dumps(bad))
        with pytest.raises((ValueError, FileNotFoundError), match=f'bad{i}.json.*{message}'):
            read_pipeline(path)


def test_export_command_writes_both_models_and_the_pipeline(model, tmp_path, capsys):
    pose_ckpt, det_ckpt = tmp_path / 'pose.pth', tmp_path / 'det.pth'
    det = detector_model()
    det_cfg = tmp_path / 'det.py'
    det_cfg.write_text(f"_base_ = [{str(ROOT / DETECTOR)!r}]\ninput_size = (64, 64)\n")
    for net, ckpt in ((model, pose_ckpt), (det, det_ckpt)):
        torch.save(dict(state_dict=net.state_dict(),
                        meta=dict(dataset_meta=net.dataset_meta)), ckpt)
    out = tmp_path / 'exports'
    assert cli.run('export', [str(ROOT / 'configs' / 'hrnet_self5_cpu.py'), str(pose_ckpt),
                              '--out', str(out), '--detector', str(det_cfg), str(det_ckpt),
                              '--box-thr', '0.1']) == 0
    assert 'hrnet_self5_cpu_pipeline.json' in capsys.readouterr().out
    info = read_pipeline(out / 'hrnet_self5_cpu_pipeline.json')
    assert Path(info['detector']).name == 'det.onnx' and info['box_score_thr'] == 0.1
    assert OnnxPosePipeline(out / 'hrnet_self5_cpu_pipeline.json')(_image(1))['keypoints'].ndim == 3


def test_video_command_takes_the_pipeline(pipeline, tmp_path):
    from customkpt.cli.video import parse_args
    args = parse_args(['clip.mp4', '--pipeline', str(pipeline['path'])])
    assert args.onnx == read_pipeline(pipeline['path'])['pose']
    assert args.boxes == f"detector:{read_pipeline(pipeline['path'])['detector']}"
    assert args.box_thr == 0.05 and args.det_classes == [0]
    tracked = parse_args(['clip.mp4', '--pipeline', str(pipeline['path']),
                          '--boxes', 'track+detector', '--box-thr', '0.5'])
    assert tracked.boxes.startswith('track+detector:') and tracked.box_thr == 0.5
    with pytest.raises(SystemExit):
        parse_args(['clip.mp4', '--pipeline', str(pipeline['path']), '--onnx', 'm.onnx'])


def test_det_classes_typed_out_override_the_pipelines(pipeline, tmp_path):
    from customkpt.cli.box_options import box_config
    from customkpt.cli.video import parse_args
    other = write_pipeline(tmp_path / 'other.json', pipeline['pose'], pipeline['detector'],
                           class_ids=[2, 3])
    assert parse_args(['clip.mp4', '--pipeline', str(other)]).det_classes == [2, 3]
    typed = parse_args(['clip.mp4', '--pipeline', str(other), '--det-classes', '0'])
    assert typed.det_classes == [0]
    assert box_config(typed)['class_ids'] == [0]
    every = parse_args(['clip.mp4', '--pipeline', str(other), '--det-classes'])
    assert box_config(every)['class_ids'] is None
    typed.det_classes = None  # a detector given without a pipeline: class 0
    assert box_config(typed)['class_ids'] == [0]


STANDALONE = r'''
import sys
import numpy as np

for name in ('torch', 'mmengine', 'mmcv'):
    sys.modules[name] = None  # any import of them raises ImportError
path, out_path = sys.argv[1:]
from customkpt.deploy import OnnxPosePipeline
img = np.random.default_rng(0).integers(0, 255, (160, 200, 3), dtype=np.uint8)
np.save(out_path, OnnxPosePipeline(path)(img)['keypoints'])
loaded = [m for m in sys.modules if sys.modules[m] is not None
          and m.split('.')[0] in ('torch', 'mmengine', 'mmcv')]
assert not loaded, loaded
'''


def test_the_pipeline_runs_without_torch(pipeline, tmp_path):
    out = tmp_path / 'kpts.npy'
    subprocess.run([sys.executable, '-c', STANDALONE, str(pipeline['path']), str(out)],
                   check=True, timeout=120, cwd=ROOT)
    img = np.random.default_rng(0).integers(0, 255, (160, 200, 3), dtype=np.uint8)
    expected = OnnxPosePipeline(pipeline['path'])(img)['keypoints']
    np.testing.assert_array_equal(np.load(out), expected)
