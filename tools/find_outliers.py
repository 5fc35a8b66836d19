"""The video frames a trained model gets most wrong, written for labelling.

    python tools/find_outliers.py VIDEO.mp4 --config CFG.py --checkpoint CKPT.pth \
        --num-frames 20 --out labelling/round1

The ``customkpt outliers`` command under its script name; ``--help`` lists
the options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('outliers'))
