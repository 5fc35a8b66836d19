"""Check annotation files before training: one report of every problem, and
statistics of what the datasets will hold.

    python tools/check_dataset.py CONFIG [--split train|val|test|all] [--decode-images]
    python tools/check_dataset.py --ann-file ANN.json --img-root IMAGES/ [--metainfo FILE]

The ``customkpt check`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('check'))
