"""``customkpt convert``: a keypoint dataset to COCO-keypoint json (train.json / val.json).

Needs numpy and json only (no torch, no mmengine).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from customkpt.converters import (CONVERTERS, DEFAULT_BBOX_PAD, DEFAULT_MIN_MARGIN,
                                  DEFAULT_VAL_FRACTION, ConversionError, SplitSpec,
                                  format_summary, write_splits)

from .common import make_parser

EXAMPLES = (
    'customkpt convert dlc path/to/dlc-project data/mouse --val-every 7',
    'customkpt convert dlc PROJECT OUT --split-by video',
    'customkpt convert labelme path/to/labelme-folder OUT --keypoints nose,tail',
    'customkpt convert aic annotations.json OUT --images-dir path/to/images',
    'customkpt convert mpii mpii_train.json OUT --images-dir images --no-split',
)
NOTES = """\
FORMAT is one of dlc, labelme, aic, mpii; SRC is the DeepLabCut project
folder, the Labelme folder, or the AI Challenger / MPII json file. OUT gets
train.json and val.json (all.json with --no-split).

Every image's file_name is relative to the image root printed at the end:
the DeepLabCut project folder, the Labelme folder, or the --images-dir of
AI Challenger / MPII (default: the json's folder). Point a training config's
data_root (or data_prefix.img) at it.

Split (at image level): a seeded random split by default
(--val-fraction 0.15 --seed 0); --split-by folder|video keeps each labelled
folder / video on one side; --val-every N sends ids 1, N+1, 2N+1, ... to val;
--no-split writes one all.json.
"""
_USES_IMAGES_DIR = ('aic', 'mpii')


def _add_split_args(p: argparse.ArgumentParser) -> None:
    split = p.add_mutually_exclusive_group()
    split.add_argument('--split-by', choices=('folder', 'video'),
                       help='keep all images of a folder / video in one split')
    split.add_argument('--val-every', type=int, metavar='N',
                       help='every Nth image by id (1, N+1, ...) to val, no randomness')
    split.add_argument('--no-split', action='store_true', help='write one all.json')
    p.add_argument('--val-fraction', type=float, default=DEFAULT_VAL_FRACTION,
                   help=f'fraction of images (or of folders\' images with --split-by) for val '
                        f'(default {DEFAULT_VAL_FRACTION})')
    p.add_argument('--seed', type=int, default=0, help='seed of the random split (default 0)')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = make_parser('convert', 'Convert DeepLabCut / Labelme / AI Challenger / MPII '
                    'annotations to COCO-keypoint json', EXAMPLES, NOTES)
    p.add_argument('format', choices=sorted(CONVERTERS), help='source format')
    p.add_argument('src', help='DeepLabCut project folder, Labelme folder, or AIC/MPII json')
    p.add_argument('out', help='output folder for train.json / val.json (or all.json)')
    p.add_argument('--images-dir', help='image folder of aic/mpii (default: the json\'s folder)')
    p.add_argument('--keypoints', help='labelme: comma-separated keypoint names in order '
                                       '(default: labels in order of first appearance)')
    p.add_argument('--category-name', help='category / dataset name (default: the DLC Task, '
                                           '"object" for labelme, "person" for aic/mpii)')
    p.add_argument('--bbox-pad', type=float, default=DEFAULT_BBOX_PAD,
                   help='boxes derived from points: fraction of the point extent\'s longer '
                        f'side added on every side (default {DEFAULT_BBOX_PAD})')
    p.add_argument('--bbox-min-margin', type=float, default=DEFAULT_MIN_MARGIN,
                   help=f'smallest margin in pixels of derived boxes (default '
                        f'{DEFAULT_MIN_MARGIN:g})')
    _add_split_args(p)
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    return p.parse_args(argv)


def split_spec(args: argparse.Namespace) -> SplitSpec:
    """The split the options ask for."""
    if args.no_split:
        return SplitSpec(mode='none')
    if args.val_every is not None:
        return SplitSpec(mode='every', every=args.val_every)
    if args.split_by:
        return SplitSpec(mode='group', group_key=args.split_by,
                         val_fraction=args.val_fraction, seed=args.seed)
    return SplitSpec(mode='random', val_fraction=args.val_fraction, seed=args.seed)


def converter_kwargs(args: argparse.Namespace) -> dict:
    """Keyword arguments of the format's converter.

    Raises:
        ConversionError: an option the format does not use.
    """
    kwargs: dict = dict(bbox_pad=args.bbox_pad, min_margin=args.bbox_min_margin,
                        progress=not args.no_progress)
    if args.category_name:
        kwargs['category_name'] = args.category_name
    if args.images_dir:
        if args.format not in _USES_IMAGES_DIR:
            raise ConversionError(f'--images-dir is not used by {args.format}: its '
                                  'annotations say where the images are')
        kwargs['images_dir'] = args.images_dir
    if args.keypoints:
        if args.format != 'labelme':
            raise ConversionError(f'--keypoints is only for labelme; {args.format} '
                                  'defines its own keypoints')
        kwargs['keypoints'] = [n.strip() for n in args.keypoints.split(',') if n.strip()]
    if args.format == 'labelme':
        kwargs['exclude'] = [args.out]
    return kwargs


def main(argv: list[str] | None = None) -> int:
    """Run the conversion; returns the exit status."""
    args = parse_args(argv)
    spec = split_spec(args)  # a ConversionError reaches the user as one line
    result = CONVERTERS[args.format](args.src, **converter_kwargs(args))
    outcome = write_splits(result, Path(args.out), spec)
    print(format_summary(result, outcome, spec))
    return 0
