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
    'customkpt convert dlc ../shared/data/mirror-mouse data/mirror --val-every 7',
    'customkpt convert dlc path/to/CollectedData_me.csv OUT --no-split',
    'customkpt convert labelme path/to/labelme-folder OUT --keypoints nose,tail',
    'customkpt convert aic annotations.json OUT --images-dir path/to/images',
    'customkpt convert mpii mpii_train.json OUT --images-dir images --no-split',
    'customkpt convert sleap labels.v001.pkg.slp OUT --split-by video',
    'customkpt convert sleap copied-project/labels.v001.slp OUT --images-dir copied-project',
    'customkpt convert deepposekit annotations.h5 OUT --skeleton skeleton.csv',
    'customkpt convert cvat annotations.xml OUT --images-dir path/to/images --label mouse',
    'customkpt convert labelstudio export.json OUT --images-dir path/to/media/upload',
)
NOTES = """\
FORMAT is one of dlc, labelme, aic, mpii, sleap, deepposekit, cvat,
labelstudio; SRC is the DeepLabCut project folder, the Labelme folder, or the
AI Challenger / MPII / SLEAP / DeepPoseKit / CVAT / Label Studio file. OUT gets
train.json and val.json (all.json with --no-split).

dlc also reads a Lightning Pose project (a folder with CollectedData*.csv and
no config.yaml) or one .csv / .h5 label table: body parts come from the
table header, image paths are tried relative to the project root and to the
table's folder. customkpt to-dlc writes such a table back.

sleap reads a .slp / .pkg.slp file (user instances; --sleap-predictions adds
predicted ones) and deepposekit an annotation .h5 (with --skeleton CSV, the
name,parent,swap table): both need h5py and write the labelled frames to
OUT/images, the image root. sleap finds referenced videos and images at
their stored path, beside the .slp and, for a project copied to another
machine, below --images-dir DIR by their path's trailing components
(videos/a.mp4, then a.mp4). cvat reads a "COCO Keypoints 1.0" .json or a
"CVAT for images 1.1" .xml export, labelstudio a Label Studio JSON export;
their images are found below --images-dir (default: the file's folder; cvat
also tries the images/ folders of its export archive). A file labelling
several kinds of object (skeletons, categories, rectangle labels) is
converted one label at a time: --label NAME.

Every image's file_name is relative to the image root printed at the end:
the DeepLabCut project folder, the Labelme folder, or the --images-dir of
AI Challenger / MPII (default: the json's folder). Point a training config's
data_root (or data_prefix.img) at it.

Split (at image level): a seeded random split by default
(--val-fraction 0.15 --seed 0); --split-by folder|video keeps each labelled
folder / video on one side; --val-every N sends ids 1, N+1, 2N+1, ... to val;
--no-split writes one all.json.
"""
_USES_IMAGES_DIR = ('aic', 'mpii', 'cvat', 'labelstudio', 'sleap')
_USES_KEYPOINTS = ('labelme', 'labelstudio')
_USES_LABEL = ('sleap', 'cvat', 'labelstudio')
_WRITES_IMAGES = ('sleap', 'deepposekit')


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
    p = make_parser('convert', 'Convert DeepLabCut / Labelme / AI Challenger / MPII / SLEAP / '
                    'DeepPoseKit / CVAT / Label Studio annotations to COCO-keypoint json',
                    EXAMPLES, NOTES)
    p.add_argument('format', choices=sorted(CONVERTERS), help='source format')
    p.add_argument('src', help='DeepLabCut project folder, Lightning Pose folder or '
                               'CollectedData .csv/.h5 table, Labelme folder, or the '
                               'AIC/MPII/SLEAP/DeepPoseKit/CVAT/Label Studio file')
    p.add_argument('out', help='output folder for train.json / val.json (or all.json)')
    p.add_argument('--images-dir', help='image folder of aic/mpii/cvat/labelstudio (default: '
                                        'the annotation file\'s folder); sleap: a further '
                                        'folder to find referenced videos / images in (a '
                                        'project copied to another machine)')
    p.add_argument('--keypoints', help='labelme/labelstudio: comma-separated keypoint names in '
                                       'order (default: labels in order of first appearance)')
    p.add_argument('--skeleton', metavar='CSV',
                   help='deepposekit: the skeleton csv (columns name,parent,swap)')
    p.add_argument('--label', metavar='NAME',
                   help='sleap/cvat/labelstudio: the skeleton / label to convert when the file '
                        'has several')
    p.add_argument('--sleap-predictions', action='store_true',
                   help='sleap: also convert predicted instances (default: user instances)')
    p.add_argument('--category-name', help='category / dataset name (default: the DLC Task, '
                                           '"object" for labelme/deepposekit, "person" for '
                                           'aic/mpii, the skeleton or label for '
                                           'sleap/cvat/labelstudio)')
    p.add_argument('--bbox-pad', type=float, default=DEFAULT_BBOX_PAD,
                   help='boxes derived from points: fraction of the point extent\'s longer '
                        f'side added on every side (default {DEFAULT_BBOX_PAD})')
    p.add_argument('--bbox-min-margin', type=float, default=DEFAULT_MIN_MARGIN,
                   help=f'smallest margin in pixels of derived boxes (default '
                        f'{DEFAULT_MIN_MARGIN:g})')
    _add_split_args(p)
    p.add_argument('--drop-empty', action='store_true',
                   help='leave out the images without a labelled instance (kept by default '
                        'as background images; e.g. a CVAT video task lists every frame)')
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
        if args.format not in _USES_KEYPOINTS:
            raise ConversionError(f'--keypoints is only for labelme and labelstudio; '
                                  f'{args.format} defines its own keypoints')
        kwargs['keypoints'] = [n.strip() for n in args.keypoints.split(',') if n.strip()]
    if args.format == 'labelme':
        kwargs['exclude'] = [args.out]
    kwargs.update(_tool_kwargs(args))
    return kwargs


def _tool_kwargs(args: argparse.Namespace) -> dict:
    """The options of the sleap, deepposekit, cvat and labelstudio converters."""
    kwargs: dict = {}
    used = {'--skeleton': (args.skeleton, ('deepposekit',)),
            '--label': (args.label, _USES_LABEL),
            '--sleap-predictions': (args.sleap_predictions, ('sleap',))}
    for option, (value, formats) in used.items():
        if value and args.format not in formats:
            raise ConversionError(f'{option} is only for {", ".join(formats)}, not '
                                  f'{args.format}')
    if args.format in _WRITES_IMAGES:
        kwargs['images_out'] = Path(args.out) / 'images'
    if args.format == 'deepposekit':
        if not args.skeleton:
            raise ConversionError('deepposekit needs --skeleton CSV (the skeleton table with '
                                  'columns name,parent,swap)')
        kwargs['skeleton'] = args.skeleton
    if args.label:
        kwargs['label'] = args.label
    if args.sleap_predictions:
        kwargs['predictions'] = True
    return kwargs


def main(argv: list[str] | None = None) -> int:
    """Run the conversion; returns the exit status."""
    args = parse_args(argv)
    spec = split_spec(args)  # a ConversionError reaches the user as one line
    result = CONVERTERS[args.format](args.src, **converter_kwargs(args))
    if args.drop_empty:
        result.drop_empty_images()
    outcome = write_splits(result, Path(args.out), spec)
    print(format_summary(result, outcome, spec))
    return 0
