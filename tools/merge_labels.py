"""Corrected labels (COCO json, Labelme folder, DeepLabCut project) merged
into a training json.

    python tools/merge_labels.py data/mouse/train.json labelling/round1/labelme \
        --out data/mouse/train_round1.json

The ``customkpt merge-labels`` command under its script name; ``--help``
lists the options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('merge-labels'))
