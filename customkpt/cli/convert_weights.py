"""``customkpt convert-weights``: PaddleDetection HRNet keypoint weights (.pdparams)
to a customkpt .pth."""
from __future__ import annotations

import argparse
import os.path as osp
import warnings
from pathlib import Path

from customkpt.core.presets import COCO_NAMES, COCO_SIGMAS
from customkpt.errors import UserError
from customkpt.meta import KeypointMeta

from .common import make_parser

EXAMPLES = (
    'customkpt convert-weights hrnet_w32_256x192.pdparams work_dirs/hrnet_w32_paddle.pth',
    'customkpt convert-weights IN.pdparams OUT.pth --keypoint-names head left_hand ...',
    'customkpt convert-weights IN.pdparams OUT.pth --arch w32 --strict',
)
NOTES = """\
The .pdparams is read without executing code (numpy arrays only). The output
holds state_dict (our names) and meta['dataset_meta'] with the keypoint
names, so load_pretrained can match head channels by name: --keypoint-names
gives them; otherwise a 17-channel head gets COCO's names. Paddle keys the
name table does not cover are listed, never guessed; --arch also checks the
result against our HRNet of that width.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = make_parser('convert-weights', 'PaddleDetection HRNet .pdparams -> customkpt .pth',
                    EXAMPLES, NOTES)
    p.add_argument('src', help='PaddleDetection .pdparams file')
    p.add_argument('dst', help='output .pth')
    names = p.add_mutually_exclusive_group()
    names.add_argument('--keypoint-names', nargs='+', metavar='NAME',
                       help="the head's keypoint names, in channel order")
    names.add_argument('--num-joints', type=int,
                       help='number of head channels; 17 means COCO names (the default when '
                       'the head has 17 channels)')
    p.add_argument('--dataset-name', default=None, help='name stored in the meta')
    p.add_argument('--arch', choices=['tiny', 'w18', 'w32', 'w48'],
                   help='check the converted weights against our HRNet of this width')
    p.add_argument('--strict', action='store_true',
                   help='fail (exit 1) when a key is unmapped, missing or mis-shaped')
    return p.parse_args(argv)


def keypoint_meta(state_dict: dict, args: argparse.Namespace) -> dict | None:
    """The dataset_meta to store, or None when the head has no known names."""
    head = state_dict.get('head.final_layer.weight')
    k = head.shape[0] if head is not None else None
    names = args.keypoint_names
    if names is None:
        num = args.num_joints if args.num_joints is not None else k
        if num == len(COCO_NAMES):
            names = COCO_NAMES
        elif num is None:
            return None
        else:
            print(f'note: the head has {num} channels; give --keypoint-names to store their '
                  'names (needed to transfer the head by name)')
            return None
    if k is not None and len(names) != k:
        raise UserError(f'{args.src}: {len(names)} keypoint names given but final_conv has '
                         f'{k} channels')
    is_coco = list(names) == COCO_NAMES
    cfg = dict(keypoint_names=list(names), flip_from_names=True,
               dataset_name=args.dataset_name or ('coco' if is_coco else 'converted'))
    if is_coco:
        cfg['sigmas'] = COCO_SIGMAS
    with warnings.catch_warnings():
        # Default sigmas are fine here: only the names matter for transfer.
        warnings.simplefilter('ignore', UserWarning)
        meta = KeypointMeta.from_config(cfg, source=args.src)
    return meta.to_dict()


def check_against_model(state_dict: dict, arch: str) -> tuple[list[str], list[str]]:
    """Model keys the file does not fill, and keys whose shapes differ."""
    from customkpt.registry import MODELS
    head = state_dict.get('head.final_layer.weight')
    width = dict(tiny=16, w18=18, w32=32, w48=48)[arch]
    k = head.shape[0] if head is not None else 17
    model = MODELS.build(dict(type='TopdownEstimator', backbone=dict(type='HRNet', arch=arch),
                              head=dict(type='HeatmapHead', in_channels=width, out_channels=k)))
    expected = model.state_dict()
    missing = [key for key in expected if key not in state_dict]
    if head is None:  # a backbone-only file
        missing = [key for key in missing if not key.startswith('head.')]
    wrong = [f'{key}: ours {tuple(v.shape)}, file {tuple(state_dict[key].shape)}'
             for key, v in expected.items()
             if key in state_dict and tuple(v.shape) != tuple(state_dict[key].shape)]
    return missing, wrong


def main(argv: list[str] | None = None) -> int:
    """Convert and write; exit status 1 when --strict finds problems."""
    args = parse_args(argv)
    import torch

    from customkpt.models.convert_paddle import convert_paddle_state_dict, read_pdparams
    params = read_pdparams(args.src)
    state_dict, unmapped = convert_paddle_state_dict(params)
    print(f'{args.src}: {len(params)} arrays, {len(params) - len(unmapped)} mapped')
    problems = 0
    if unmapped:
        problems += len(unmapped)
        print(f'unmapped Paddle keys ({len(unmapped)}, left out):')
        for key in unmapped:
            print(f'  {key}')
    if args.arch:
        missing, wrong = check_against_model(state_dict, args.arch)
        problems += len(missing) + len(wrong)
        for title, items in (('model keys not in the file', missing),
                             ('shape mismatches', wrong)):
            if items:
                print(f'{title} ({len(items)}):')
                for item in items:
                    print(f'  {item}')
    meta = dict(converted_from=osp.basename(args.src))
    dataset_meta = keypoint_meta(state_dict, args)
    if dataset_meta is not None:
        meta['dataset_meta'] = dataset_meta
    if problems and args.strict:
        print(f'--strict: {problems} problem(s); nothing written')
        return 1
    dst = Path(args.dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state_dict=state_dict, meta=meta), dst)
    print(f'wrote {dst}')
    return 0
