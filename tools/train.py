"""Train a keypoint model from a config.

    python tools/train.py configs/hrnet_self5.py
    python tools/train.py CONFIG --work-dir work_dirs/run1 --amp
    python tools/train.py CONFIG --resume                # newest checkpoint in the work dir
    python tools/train.py CONFIG --resume path/to/epoch_20.pth
    torchrun --nproc_per_node 2 tools/train.py CONFIG --launcher pytorch
    python tools/train.py --data path/to/dlc-project   # no config: see docs/training.md

The ``customkpt train`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('train'))
