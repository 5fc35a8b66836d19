"""The main job on the embedded default: make the demo data, check it, draw
it, evaluate the untrained model, train the CPU-sized HRNet, evaluate it, and
write metrics, a learning curve and prediction overlays.

    python tools/main_job.py                 # what `bash tools/run_main_job.sh` runs
    python tools/main_job.py --epochs 5      # shorter training
    python tools/main_job.py --quick         # small data, 1 epoch: a smoke run

The ``customkpt main-job`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('main-job'))
