"""``customkpt to-dlc``: a COCO-keypoint json as a DeepLabCut / Lightning Pose
label table (``CollectedData_<scorer>.csv``).

Needs numpy and json only (no torch, no mmengine).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from customkpt.converters.common import read_json
from customkpt.converters.export_dlc import coco_to_dlc

from .common import make_parser

EXAMPLES = (
    'customkpt to-dlc data/mouse/train.json ../shared/data/openfield-mouse --scorer me',
    'customkpt to-dlc data/mirror/all.json path/to/lightning-pose-project',
)
NOTES = """\
Writes OUT_DIR/CollectedData_<scorer>.csv: the scorer / bodyparts / coords
header (an individuals row when images hold several instances or the
instances name their individual), then one row per image of the json, in
its order: the file_name, then x, y of each keypoint; unlabelled points
(v = 0) are empty cells. Visibility 1 and 2 are both written as labelled;
boxes are not written.

The first column is the json's file_name, relative to its image root (the
folder `customkpt convert` printed): DeepLabCut looks for it relative to the
project folder, Lightning Pose relative to the table's folder, so write the
table into the image root (or move it there). `customkpt convert dlc
OUT_DIR/CollectedData_<scorer>.csv OUT` reads it back to the same points.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = make_parser('to-dlc', 'Write COCO-keypoint annotations as a DeepLabCut / Lightning '
                    'Pose label table', EXAMPLES, NOTES)
    p.add_argument('ann_file', help='COCO-keypoint json (one keypoint category)')
    p.add_argument('out_dir', help='folder for CollectedData_<scorer>.csv')
    p.add_argument('--scorer', default='customkpt',
                   help='scorer name: the header value and the file name (default customkpt)')
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Write the table; returns the exit status."""
    args = parse_args(argv)
    ann_file = Path(args.ann_file)
    coco = read_json(ann_file, 'annotation file')
    if not isinstance(coco, dict):
        raise SystemExit(f'{ann_file}: expected a COCO dict with "images", "annotations" and '
                         '"categories"')
    out = coco_to_dlc(coco, args.out_dir, scorer=args.scorer, source=str(ann_file))
    layout = (f'multi-animal, individuals {out.individuals}' if out.individuals
              else 'single-animal')
    print(f'wrote {out.path}: {out.images} images, {out.instances} instances, '
          f'{out.points} labelled points ({layout})')
    for reason, count in out.skipped.items():
        print(f'skipped annotations: {reason}: {count}')
    first = next(iter(coco['images']))['file_name']
    if not (Path(args.out_dir) / first).is_file():
        print(f'note: {first} is not found relative to {args.out_dir}: the first column is '
              "the json's file_name, relative to its image root; put the table there")
    return 0
