"""Plot the loss and validation metrics of a training run to a PNG.

    python tools/plot_curves.py work_dirs/hrnet_self5
    python tools/plot_curves.py WORK_DIR --out curves.png --keys loss coco/AP
    python tools/plot_curves.py WORK_DIR --runs all

Reads mmengine's ``WORK_DIR/<timestamp>/vis_data/scalars.json``. By default
the newest run is plotted, chained onto the earlier runs it resumed from;
``--runs newest`` / ``--runs all`` pick the newest only / every run. Default
keys: ``loss`` plus every validation metric in the logs. Exits with 2 and
the keys that exist when an asked-for key is missing.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

try:
    from customkpt.visualization.curves import RUN_MODES, CurveKeyError, plot_curves
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    from customkpt.visualization.curves import RUN_MODES, CurveKeyError, plot_curves


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = argparse.ArgumentParser(description='Plot training curves of an mmengine work dir')
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
    try:
        out = plot_curves(args.work_dir, args.out, keys=args.keys, runs=args.runs)
    except (FileNotFoundError, CurveKeyError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    print(f'wrote {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
