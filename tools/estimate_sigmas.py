"""Estimate per-keypoint OKS sigmas from repeated labels of the same images,
or from a trained model's errors on held-out data, and write them into a copy
of the annotation file or a metainfo file.

    python tools/estimate_sigmas.py --labels A.json B.json --out A_sigmas.json
    python tools/estimate_sigmas.py --config CONFIG --checkpoint CKPT --out meta.py

The ``customkpt sigmas`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('sigmas'))
