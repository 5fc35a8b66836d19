"""Draw a config's dataset samples to PNG files, to check annotations, the
keypoint definition and the augmentation before training.

    python tools/browse_dataset.py CONFIG
    python tools/browse_dataset.py CONFIG --split val --num 50 --out-dir vis/
    python tools/browse_dataset.py CONFIG --mode transformed --cfg-options train_dataloader.dataset.indices=10

The ``customkpt browse`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('browse'))
