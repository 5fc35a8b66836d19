"""Write the boxes of a one-stage model on a COCO file's images as a COCO
detection file (the bbox_file of top-down evaluation).

    python tools/detect.py CONFIG CHECKPOINT --ann val.json --out dets.json

The ``customkpt detect`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('detect'))
