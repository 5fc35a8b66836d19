"""Keypoints on a video: tracked, smoothed, drawn and saved.

    python tools/demo_video.py VIDEO.mp4 --config CFG.py --checkpoint CKPT.pth
    python tools/demo_video.py FRAMES_DIR --onnx model.onnx --fps 30
    python tools/demo_video.py 0 --config CFG.py --checkpoint CKPT.pth   # camera 0

The ``customkpt video`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('video'))
