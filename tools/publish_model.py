"""Make a training checkpoint ready to share: weights and meta only, hashed name.

    python tools/publish_model.py work_dirs/hrnet_self5/best_coco_AP_epoch_60.pth releases/
    python tools/publish_model.py IN.pth releases/hrnet_w32_self5        # name prefix
    python tools/publish_model.py IN.pth releases/ --safetensors

The ``customkpt publish`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('publish'))
