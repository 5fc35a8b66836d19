"""The ``customkpt`` command: one entry point for every task of a project.

    customkpt train configs/hrnet_self5.py
    customkpt test CONFIG CHECKPOINT
    customkpt video VIDEO.mp4 --onnx model.onnx
    customkpt <command> --help

Each subcommand lives in its own module ``customkpt.cli.<name>`` with a
``main(argv)``; only the one that runs is imported, so ``customkpt --help``
and the numpy-only commands start without torch. ``tools/<tool>.py`` are
the same commands under their script names (they call :func:`run`).

Every command line goes through :func:`run`: an error that is the user's to
fix (a missing file, a bad config value, an unreadable checkpoint) prints one
line ``customkpt <command>: error: <message>`` and exits with status 2;
``--debug`` (or ``CUSTOMKPT_DEBUG=1``) shows its traceback instead. Any
other exception is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from ..version import __version__

__all__ = ['COMMANDS', 'main', 'run']

#: name -> (module under customkpt.cli, one-line summary)
COMMANDS: dict[str, tuple[str, str]] = {
    'train': ('train', 'train a model from a config, or on a dataset alone with --data'),
    'test': ('test', 'evaluate a checkpoint (metrics, COCO results, overlays)'),
    'convert': ('convert', 'convert DeepLabCut / Labelme / AIC / MPII annotations to COCO'),
    'to-dlc': ('to_dlc', 'write COCO-keypoint annotations as a DeepLabCut label table'),
    'check': ('check', 'validate annotation files and print their statistics'),
    'browse': ('browse', 'draw dataset samples (ground truth, flips, augmentation)'),
    'video': ('video', 'keypoints on a video, image folder or camera: tracked, smoothed'),
    'export': ('export', 'export a checkpoint to ONNX (+ sidecar, TorchScript)'),
    'detect': ('detect', "a one-stage model's boxes on a COCO file's images -> detection file"),
    'publish': ('publish', 'strip a checkpoint for release and hash its name'),
    'convert-weights': ('convert_weights', 'PaddleDetection HRNet .pdparams -> .pth'),
    'make-demo': ('make_demo', 'write the synthetic self5 demo dataset'),
    'plot': ('plot', 'plot the loss and metrics of a training run'),
    'sigmas': ('sigmas', "estimate OKS sigmas from repeated labels or a model's errors"),
    'outliers': ('outliers', 'pick the video frames a model gets most wrong, for labelling'),
    'merge-labels': ('merge_labels', 'merge corrected labels into a training json'),
    'main-job': ('main_job', 'demo data -> check -> train -> evaluate, end to end'),
}


def _parser() -> argparse.ArgumentParser:
    width = max(map(len, COMMANDS))
    listing = '\n'.join(f'  {name:<{width}}  {summary}'
                        for name, (_, summary) in COMMANDS.items())
    p = argparse.ArgumentParser(
        prog='customkpt', formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Train, evaluate and deploy keypoint detectors on your own keypoint '
                    'definitions.',
        epilog=f'commands:\n{listing}\n\n'
               'examples:\n  customkpt train configs/hrnet_self5.py\n'
               '  customkpt video clip.mp4 --onnx exports/model.onnx\n'
               '  customkpt train --help')
    p.add_argument('--version', action='version', version=f'customkpt {__version__}')
    p.add_argument('--debug', action='store_true',
                   help="show the traceback of an error (also CUSTOMKPT_DEBUG=1)")
    p.add_argument('command', choices=list(COMMANDS), metavar='COMMAND',
                   help='one of the commands below')
    p.add_argument('args', nargs=argparse.REMAINDER,
                   help="the command's arguments (see customkpt COMMAND --help)")
    return p


def run(command: str, argv: Sequence[str] | None = None, debug: bool = False) -> int:
    """Run one subcommand, e.g. ``run('train', ['configs/x.py'])``; returns the
    exit status. ``argv`` defaults to ``sys.argv[1:]``; a ``--debug`` among
    it is taken out and turns tracebacks on."""
    from .common import debug_requested, run_reporting_errors
    wants_debug, args = debug_requested(sys.argv[1:] if argv is None else list(argv))
    module = importlib.import_module(f'{__name__}.{COMMANDS[command][0]}')
    return run_reporting_errors(command, module.main, args, debug or wants_debug)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``customkpt [--debug] COMMAND ARGS...``; returns the exit status."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    return run(args.command, args.args, debug=args.debug)
