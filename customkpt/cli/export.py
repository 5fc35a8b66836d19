"""``customkpt export``: a trained checkpoint to ONNX (+ a sidecar JSON, optionally
TorchScript)."""
from __future__ import annotations

import argparse
import os.path as osp
from pathlib import Path

from customkpt.errors import UserError

from .common import make_parser

EXAMPLES = (
    'customkpt export CONFIG CHECKPOINT',
    'customkpt export CONFIG CHECKPOINT --out exports --flip-test --torchscript',
    'customkpt export CONFIG CHECKPOINT --input-size 192 256 --opset 17',
    'customkpt export POSE_CONFIG POSE_CKPT --detector DET_CONFIG DET_CKPT --out exports',
)
NOTES = """\
Writes <out>/<config name>.onnx and <out>/<config name>.json (the sidecar
that customkpt.deploy.OnnxPredictor reads; for a one-stage model
customkpt.deploy.OnnxOneStagePredictor, docs/onestage.md); --out defaults to
the checkpoint's folder. With --detector (a one-stage config and checkpoint,
or an exported one-stage .onnx) the detector is exported too and
<out>/<name>_pipeline.json ties the two together: customkpt.deploy.
OnnxPosePipeline and `customkpt video --pipeline` run it (docs/deployment.md).
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = make_parser('export', 'Export a customkpt checkpoint to ONNX', EXAMPLES, NOTES)
    p.add_argument('config', help='the config file the checkpoint was trained with')
    p.add_argument('checkpoint', help='the checkpoint to export (.pth or .safetensors)')
    p.add_argument('--out', help="output folder (default: the checkpoint's folder)")
    p.add_argument('--name', help='file name stem (default: the config name)')
    p.add_argument('--opset', type=int, default=17, help='ONNX opset (default 17)')
    p.add_argument('--flip-test', action='store_true',
                   help='bake the flip-test average into the graph (twice the compute)')
    p.add_argument('--torchscript', action='store_true', help='also write a TorchScript file')
    p.add_argument('--static-batch', action='store_true',
                   help='fix the batch axis to 1 instead of leaving it dynamic')
    p.add_argument('--input-size', type=int, nargs=2, metavar=('W', 'H'),
                   help="network input size (default: the config's)")
    p.add_argument('--device', default='cpu', help='device to trace on (default cpu)')
    det = p.add_argument_group('a detector with the top-down model (one pipeline file)')
    det.add_argument('--detector', nargs='+', metavar='DET',
                     help='DET_CONFIG DET_CKPT of a one-stage model, or its exported .onnx')
    det.add_argument('--box-thr', type=float, default=0.25,
                     help='lowest box score the pipeline keeps (default 0.25)')
    det.add_argument('--det-classes', type=int, nargs='*', default=[0],
                     help='detector classes kept (default 0; none given: all)')
    det.add_argument('--max-det', type=int, default=100, help='most boxes per image')
    args = p.parse_args(argv)
    if args.detector is not None and len(args.detector) not in (1, 2):
        p.error('--detector takes DET_CONFIG DET_CKPT or one exported .onnx')
    return args


def _require_files(*named: tuple[str, str]) -> None:
    """A one-line error for the first (kind, path) whose file is missing."""
    for kind, path in named:
        if not osp.isfile(path):
            raise UserError(f'{kind} file {path!r} does not exist')


def main(argv: list[str] | None = None) -> dict:
    """Write the ONNX model and its sidecar; returns what :func:`export_onnx` wrote."""
    args = parse_args(argv)
    from customkpt.apis import init_model
    from customkpt.deploy.export import export_onnx
    _require_files(('config', args.config), ('checkpoint', args.checkpoint))
    out_dir = Path(args.out) if args.out else Path(args.checkpoint).resolve().parent
    name = args.name or Path(args.config).stem
    model = init_model(args.config, args.checkpoint, device=args.device)
    if hasattr(model, 'category_ids'):  # a one-stage model: docs/onestage.md
        if args.detector:
            raise UserError('export: --detector goes with a top-down model; this config is '
                            'a one-stage model')
        return _export_onestage(model, out_dir / f'{name}.onnx', args)
    result = export_onnx(model, out_dir / f'{name}.onnx', input_size=args.input_size,
                         opset=args.opset, dynamic_batch=not args.static_batch,
                         flip_test=args.flip_test, torchscript=args.torchscript)
    info = result['info']
    outputs = (f"heatmaps {info['heatmap_size'][0]}x{info['heatmap_size'][1]}"
               if 'heatmap_size' in info else
               f"SimCC {info['simcc_size'][0]}+{info['simcc_size'][1]} bins")
    print(f"wrote {result['onnx']} (input {info['input_size'][0]}x{info['input_size'][1]}, "
          f"{outputs}, opset {info['opset']}, "
          f"flip test {'in the graph' if info['flip_test_baked'] else 'not in the graph'})")
    print(f"wrote {result['sidecar']}")
    if result['torchscript']:
        print(f"wrote {result['torchscript']}")
    if args.detector:
        result['pipeline'] = _export_pipeline(Path(result['onnx']), out_dir, args)
    return result


def _export_pipeline(pose_onnx: Path, out_dir: Path, args: argparse.Namespace) -> Path:
    """Export the ``--detector`` (unless it is an .onnx already) and write
    the pipeline file of it and ``pose_onnx``."""
    from customkpt.deploy.pipeline import pipeline_path, write_pipeline
    if len(args.detector) == 1:
        det_onnx = Path(args.detector[0])
    else:
        from customkpt.apis import init_model
        det_config, det_ckpt = args.detector
        _require_files(('--detector config', det_config), ('--detector checkpoint', det_ckpt))
        detector = init_model(det_config, det_ckpt, device=args.device)
        if not hasattr(detector, 'category_ids'):
            raise UserError(f'--detector {det_config}: not a one-stage model (a detector or '
                            'one-stage config)')
        det_args = argparse.Namespace(**dict(vars(args), flip_test=False, input_size=None))
        det_onnx = Path(_export_onestage(detector, out_dir / f'{Path(det_config).stem}.onnx',
                                         det_args)['onnx'])
    classes = args.det_classes if args.det_classes else None
    try:
        path = write_pipeline(pipeline_path(pose_onnx), pose_onnx, det_onnx, args.box_thr,
                              classes, args.max_det)
    except (OSError, ValueError) as err:
        raise UserError(str(err)) from err
    print(f'wrote {path} (boxes: {det_onnx.name}, score >= {args.box_thr:g}; keypoints: '
          f'{pose_onnx.name})')
    return path


def _export_onestage(model, out_path: Path, args: argparse.Namespace) -> dict:
    """Write a one-stage model's ONNX file and sidecar (no TorchScript)."""
    from customkpt.deploy.onestage_export import export_onestage_onnx
    if args.torchscript:
        raise UserError('export: --torchscript is for top-down models; a one-stage model '
                        'exports to ONNX only')
    try:
        result = export_onestage_onnx(model, out_path, input_size=args.input_size,
                                      opset=args.opset, dynamic_batch=not args.static_batch,
                                      flip_test=args.flip_test)
    except ValueError as err:
        raise UserError(str(err)) from err
    info = result['info']
    flip = 'in the graph' if info['flip_test_baked'] else 'not in the graph'
    print(f"wrote {result['onnx']} (one-stage, input {info['input_size'][0]}x"
          f"{info['input_size'][1]}, outputs {', '.join(info['output_names'])}, opset "
          f"{info['opset']}, flip test {flip})")
    print(f"wrote {result['sidecar']}")
    return result
