"""Convert a keypoint dataset to COCO-keypoint json (train.json / val.json).

    python tools/convert_dataset.py dlc path/to/dlc-project data/mouse --val-every 7
    python tools/convert_dataset.py dlc PROJECT OUT --split-by video
    python tools/convert_dataset.py labelme path/to/labelme-folder OUT --keypoints nose,tail
    python tools/convert_dataset.py aic annotations.json OUT --images-dir path/to/images
    python tools/convert_dataset.py mpii mpii_train.json OUT --images-dir images --no-split

The ``customkpt convert`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('convert'))
