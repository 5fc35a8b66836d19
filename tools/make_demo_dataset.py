"""Write the synthetic ``self5`` demo dataset (nothing to download).

    python tools/make_demo_dataset.py --out data/self5
    python tools/make_demo_dataset.py --out data/self5 --num-train 2000 --seed 1 --force
    python tools/make_demo_dataset.py --out /tmp/tiny --num-train 20 --num-val 5 --no-video

The ``customkpt make-demo`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('make-demo'))
