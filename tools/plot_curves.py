"""Plot the loss and validation metrics of a training run to a PNG.

    python tools/plot_curves.py work_dirs/hrnet_self5
    python tools/plot_curves.py WORK_DIR --out curves.png --keys loss coco/AP
    python tools/plot_curves.py WORK_DIR --runs all

The ``customkpt plot`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('plot'))
