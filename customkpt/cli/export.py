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
)
NOTES = """\
Writes <out>/<config name>.onnx and <out>/<config name>.json (the sidecar
that customkpt.deploy.OnnxPredictor reads; for a one-stage model
customkpt.deploy.OnnxOneStagePredictor, docs/onestage.md); --out defaults to
the checkpoint's folder.
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
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Write the ONNX model and its sidecar; returns what :func:`export_onnx` wrote."""
    args = parse_args(argv)
    from customkpt.apis import init_model
    from customkpt.deploy.export import export_onnx
    for kind, path in (('config', args.config), ('checkpoint', args.checkpoint)):
        if not osp.isfile(path):
            raise UserError(f'{kind} file {path!r} does not exist')
    out_dir = Path(args.out) if args.out else Path(args.checkpoint).resolve().parent
    name = args.name or Path(args.config).stem
    model = init_model(args.config, args.checkpoint, device=args.device)
    if hasattr(model, 'category_ids'):  # a one-stage model: docs/onestage.md
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
    return result


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
