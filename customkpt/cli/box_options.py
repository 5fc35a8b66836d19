"""The box-source options of ``customkpt video`` and ``customkpt outliers``
(``--boxes``, ``--box-*``, ``--track-*``, ``--det-*``) and the box-provider
config they make: argparse and dicts, no torch, so a command's ``--help``
can offer them without loading the model code."""
from __future__ import annotations

import argparse
from typing import Any

from customkpt.core.boxes import DEFAULT_CLASS_IDS

__all__ = ['add_box_args', 'box_config']


def add_box_args(p: argparse.ArgumentParser) -> None:
    """The box-source options (--boxes, --track-*, --det-*), shared by `video` and
    `outliers`; :func:`box_config` turns them into a box-provider config."""
    boxes = p.add_argument_group('boxes')
    boxes.add_argument('--boxes', default='full',
                       help='full | file:DETS.json | track | detector:YOLO.onnx | '
                            'track+detector:YOLO.onnx')
    boxes.add_argument('--box-thr', type=float, default=None,
                       help='lowest box score for file: and detector: boxes (0 for files, '
                            '0.25 for detectors)')
    boxes.add_argument('--box-id-key', default='image_id', choices=('image_id', 'frame'),
                       help='box file field naming the frame')
    boxes.add_argument('--box-id-offset', type=int, default=0,
                       help='subtracted from the box file field to get the 0-based frame')
    boxes.add_argument('--track-padding', type=float, default=1.25,
                       help='track: box size over the confident keypoints\' extent')
    boxes.add_argument('--track-min-size', type=float, default=None,
                       help='track: smallest box side in pixels; by default the model\'s '
                            'input size over its box padding (a crop never below the '
                            'network resolution)')
    boxes.add_argument('--track-retry', type=int, default=None,
                       help='track: while even the fallback\'s boxes cannot be followed, '
                            'hold the last boxes and try the fallback every this many frames '
                            '(30 for the whole frame; 1 for a detector: every lost frame)')
    boxes.add_argument('--detect-every', type=int, default=None, metavar='N',
                       help='track+detector: also run the detector every N frames and add '
                            'the subjects it finds that no track follows (default: only when '
                            'tracking is lost)')
    boxes.add_argument('--det-classes', type=int, nargs='*', default=None,
                       help='detector classes kept (default: 0, or the classes of '
                            '--pipeline; the option with no class: all)')
    boxes.add_argument('--det-config', default=None,
                       help="config of a one-stage detector checkpoint given as "
                            "detector:CKPT.pth (an exported one-stage .onnx needs none)")



def box_config(args: argparse.Namespace) -> dict[str, Any]:
    """The ``BOX_PROVIDERS`` config of ``--boxes``."""
    spec = args.boxes
    thr = args.box_thr
    classes = list(DEFAULT_CLASS_IDS) if args.det_classes is None else args.det_classes

    def detector(path: str) -> dict[str, Any]:
        cfg: dict[str, Any] = dict(type='OnnxDetectorBoxes', onnx_path=path,
                                   class_ids=classes or None)
        from customkpt.deploy import is_onestage_export
        if args.det_config or is_onestage_export(path):  # customkpt's own (docs/onestage.md)
            model = (dict(config=args.det_config, checkpoint=path, device=args.device)
                     if args.det_config else dict(onnx_path=path))
            cfg = dict(type='OneStageDetectorBoxes', class_ids=classes or None, **model)
        if thr is not None:
            cfg['score_thr'] = thr
        return cfg

    if spec == 'full':
        return dict(type='FullFrameBoxes')
    if spec.startswith('file:') and len(spec) > 5:
        return dict(type='BoxFileBoxes', path=spec[5:], score_thr=thr or 0.0,
                    id_key=args.box_id_key, id_offset=args.box_id_offset)
    tracking = dict(type='KeypointTrackingBoxes', score_thr=args.kpt_thr,
                    padding=args.track_padding, min_size=args.track_min_size)
    retry = args.track_retry
    every = args.detect_every
    if every is not None and not spec.startswith('track+detector:'):
        raise ValueError(f'--detect-every is for --boxes track+detector:MODEL, not {spec!r}')
    if every is not None and every < 1:
        raise ValueError(f'--detect-every must be at least 1, got {every}')
    if spec == 'track':
        return dict(tracking, fallback=dict(type='FullFrameBoxes'),
                    retry_interval=30 if retry is None else retry)
    if spec.startswith('detector:') and len(spec) > 9:
        return detector(spec[9:])
    if spec.startswith('track+detector:') and len(spec) > 15:
        cfg = dict(tracking, fallback=detector(spec[15:]),
                   retry_interval=1 if retry is None else retry)
        return cfg if every is None else dict(cfg, refresh_interval=every)
    raise ValueError(f'--boxes {spec!r}: expected full, file:PATH, track, detector:MODEL.onnx '
                     'or track+detector:MODEL.onnx')
