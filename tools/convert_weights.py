"""Convert PaddleDetection HRNet keypoint weights (.pdparams) to a customkpt .pth.

    python tools/convert_weights.py hrnet_w32_256x192.pdparams work_dirs/hrnet_w32_paddle.pth
    python tools/convert_weights.py IN.pdparams OUT.pth --keypoint-names head left_hand ...
    python tools/convert_weights.py IN.pdparams OUT.pth --arch w32 --strict

The ``customkpt convert-weights`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('convert-weights'))
