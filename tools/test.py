"""Evaluate a trained checkpoint.

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --out work_dirs/preds.json   # COCO results json
    python tools/test.py CONFIG CHECKPOINT --show-dir work_dirs/overlays --show-num 20

The ``customkpt test`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('test'))
