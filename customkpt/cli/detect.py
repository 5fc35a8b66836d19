"""``customkpt detect``: a one-stage model's boxes on the images of a COCO
file, written as a COCO detection file (the ``bbox_file`` of top-down
evaluation), with their box AP when the file has annotations."""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
from pathlib import Path
from typing import Any, Iterable, Mapping

from customkpt.errors import UserError

from .common import make_parser

EXAMPLES = (
    'customkpt detect configs/detector_self5_cpu.py work_dirs/detector_self5_cpu/best.pth '
    '--ann data/self5/val_coco_joint.json --out work_dirs/dets.json',
    'customkpt detect CONFIG CKPT --ann val.json --img-root data/images --score-thr 0.05',
    'customkpt detect CONFIG CKPT --ann val.json --out dets.json --flip-test',
)
NOTES = """\
The file is a json list of {"image_id", "bbox": [x, y, w, h], "score",
"category_id"} records. Evaluate a top-down model on these boxes with
  customkpt test TOPDOWN_CONFIG CKPT --cfg-options \\
      val_bbox_file=/abs/path/dets.json
(the dataset's bbox_file; configs on _base_/datasets/coco_keypoint.py take
the val_bbox_file knob). The images are read from --img-root, by default
the folder of the config's test dataset.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = make_parser('detect', 'Write the boxes of a one-stage model as a COCO detection file',
                    EXAMPLES, NOTES)
    p.add_argument('config', help='the one-stage (or detector) config')
    p.add_argument('checkpoint', help='its checkpoint (.pth)')
    p.add_argument('--ann', required=True, help='COCO json whose images are run')
    p.add_argument('--out', required=True, help='the detection file to write (.json)')
    p.add_argument('--img-root', help="folder of the images' file_name (default: the config's "
                                      'test dataset image folder)')
    p.add_argument('--score-thr', type=float, default=0.0,
                   help='leave out boxes scoring below this (default: keep what the model '
                        'decodes)')
    p.add_argument('--flip-test', action='store_true',
                   help="average in the mirrored image's outputs (two forward passes; on "
                        'self5 box AP 0.59 -> 0.63), whatever the config says')
    p.add_argument('--device', default='cpu', help="torch device: 'cpu', 'cuda', ...")
    return p.parse_args(argv)


def _images(ann: str) -> tuple[list[dict], bool]:
    """The image records of ``ann`` and whether it has annotations."""
    try:
        with open(ann, encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, ValueError) as err:
        raise UserError(f'--ann {ann}: cannot read it as json ({err})') from err
    images = data.get('images') if isinstance(data, dict) else None
    if not isinstance(images, list):
        raise UserError(f'--ann {ann}: no "images" list')
    for pos, img in enumerate(images):
        if not (isinstance(img, dict) and 'id' in img and isinstance(img.get('file_name'), str)):
            raise UserError(f'--ann {ann}: images[{pos}] needs an "id" and a "file_name"')
    return images, bool(data.get('annotations'))


def _default_img_root(cfg: Any) -> str:
    """The test (else val) dataset's image folder: data_root + data_prefix.img."""
    for loader in ('test_dataloader', 'val_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        if dataset:
            prefix = (dataset.get('data_prefix') or {}).get('img', '')
            return osp.join(dataset.get('data_root') or '', prefix)
    return ''


def detect_images(predictor: Any, images: Iterable[Mapping[str, Any]], img_root: str,
                  score_thr: float = 0.0) -> list[dict]:
    """Detection records of ``predictor`` (image -> ``bboxes``, ``scores``,
    ``category_ids``) on COCO image records, boxes below ``score_thr`` left
    out."""
    from customkpt.evaluation.coco_detection import detection_records
    records: list[dict] = []
    for img in images:
        pred = predictor(os.path.join(img_root, img['file_name']))
        keep = pred['scores'] >= score_thr
        records += detection_records(img['id'], pred['bboxes'][keep], pred['scores'][keep],
                                     pred['category_ids'][keep])
    return records


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the model on every image of ``--ann``, write ``--out``; returns
    the records."""
    args = parse_args(argv)
    for kind, path in (('config', args.config), ('checkpoint', args.checkpoint),
                       ('--ann', args.ann)):
        if not osp.isfile(path):
            raise UserError(f'{kind} file {path!r} does not exist')
    images, annotated = _images(args.ann)
    from customkpt.apis.onestage import OneStagePredictor
    from customkpt.evaluation.coco_detection import (evaluate_boxes, load_box_gt,
                                                     write_detection_file)
    try:
        predictor = OneStagePredictor(args.config, args.checkpoint, args.device)
    except TypeError as err:
        raise UserError(f'{args.config}: {err}') from err
    if args.flip_test:
        predictor.model.test_cfg['flip_test'] = True
    img_root = args.img_root if args.img_root is not None else _default_img_root(
        predictor.model.cfg)
    records = detect_images(predictor, images, img_root, args.score_thr)
    write_detection_file(records, args.out)
    print(f'wrote {len(records)} detections on {len(images)} images to {Path(args.out)}')
    if annotated:
        stats = evaluate_boxes(load_box_gt(args.ann, predictor.category_ids), records)
        print(f"box AP {stats['AP']:.3f}, AP .5 {stats['AP .5']:.3f}, "
              f"AP .75 {stats['AP .75']:.3f}, AR {stats['AR']:.3f} ({args.ann})")
    return records
