"""Export a trained checkpoint to ONNX (+ a sidecar JSON, optionally TorchScript).

    python tools/export_model.py CONFIG CHECKPOINT
    python tools/export_model.py CONFIG CHECKPOINT --out exports --flip-test --torchscript
    python tools/export_model.py CONFIG CHECKPOINT --input-size 192 256 --opset 17

The ``customkpt export`` command under its script name; ``--help`` lists the
options.
"""
from customkpt.cli import run

if __name__ == '__main__':
    raise SystemExit(run('export'))
