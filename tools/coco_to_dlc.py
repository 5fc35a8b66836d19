"""Write a COCO-keypoint json as a DeepLabCut / Lightning Pose label table.

    python tools/coco_to_dlc.py data/mouse/train.json ../shared/data/openfield-mouse --scorer me
    python tools/coco_to_dlc.py ANN.json OUT_DIR

The ``customkpt to-dlc`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('to-dlc'))
