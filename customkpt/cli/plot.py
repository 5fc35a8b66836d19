"""``customkpt plot``: the loss and validation metrics of a training run, as PNGs."""
from __future__ import annotations

import argparse
import sys

from customkpt.core.run_logs import RUN_MODES

from .common import make_parser

EXAMPLES = (
    'customkpt plot work_dirs/hrnet_self5',
    'customkpt plot WORK_DIR --out curves.png --keys loss coco/AP',
    'customkpt plot WORK_DIR --runs all',
)
NOTES = """\
Reads mmengine's WORK_DIR/<timestamp>/vis_data/scalars.json. By default the
newest run is plotted, chained onto the earlier runs it resumed from;
--runs newest / --runs all pick the newest only / every run. Default keys:
loss plus every validation metric in the logs. The best value of each
validation metric is marked: "min" for EPE, losses and errors, "max" for the
others. Metrics that are -1 or NaN throughout (e.g. COCO AP (M) when there is
no medium-sized instance) are skipped, with a note. Up to 9 panels go on one
sheet; more are grouped into one sheet per group (training, COCO AP/AR,
PCK/AUC/EPE, per-keypoint): the first is written to --out, the others beside
it as <out>_<group>.png. Exits with 2 and the keys that exist when an
asked-for key is missing.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = make_parser('plot', 'Plot training curves of an mmengine work dir', EXAMPLES, NOTES)
    p.add_argument('work_dir', help='work dir, a run timestamp folder or a scalars.json')
    p.add_argument('--out', help='output PNG (default: WORK_DIR/curves.png)')
    p.add_argument('--keys', nargs='+', help='keys to plot (default: loss and every '
                   'validation metric), e.g. loss lr coco/AP PCK')
    p.add_argument('--runs', choices=RUN_MODES, default='auto',
                   help='which runs of the work dir to read (default: auto)')
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = parse_args(argv)
    from customkpt.visualization.curves import plot_curve_sheets
    paths, plan = plot_curve_sheets(args.work_dir, args.out, keys=args.keys, runs=args.runs)
    for key in plan.skipped:
        print(f'skipped {key}: -1 or NaN throughout', file=sys.stderr)
    for path, sheet in zip(paths, plan.sheets):
        print(f'wrote {path}' + (f' ({sheet.title})' if sheet.title else ''))
    return 0
