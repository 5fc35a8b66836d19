"""``customkpt browse``: draw a config's dataset samples to PNG files, to check
annotations, the keypoint definition and the augmentation before training.
"""
from __future__ import annotations

import argparse
import copy
import random
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from mmengine.config import Config, DictAction

from customkpt.core.arrays import to_numpy_or_none
from customkpt.core.flip import flip_keypoints
from customkpt.errors import UserError

from .common import make_parser

EXAMPLES = (
    'customkpt browse CONFIG',
    'customkpt browse CONFIG --split val --num 50 --out-dir vis/',
    'customkpt browse CONFIG --mode transformed --cfg-options train_dataloader.dataset.indices=10',
)
NOTES = """\
Modes:

* original: the ground truth on the full image, with the skeleton and the
  point names; beside it the image mirrored left-right with its keypoints
  mirrored and re-indexed by the definition's flip_indices. In both panels
  a point named "left ..." must sit on the subject's left: if it jumps to the
  other side in the mirrored panel, the flip pairs are wrong.
* transformed: the sample as the model sees it, after the config's
  pipeline up to (not including) PackPoseInputs: the crop with its
  transformed keypoints and, when the pipeline makes heatmaps, their
  overlay beside it. Random augmentations are drawn anew on each run
  (--seed fixes them).
* both: one file of each.

Files are named <img_id>_<ann_id>_<mode>.png.
"""
MODES = ('original', 'transformed', 'both')
PACK_TRANSFORM = 'PackPoseInputs'
#: Transformed crops smaller than this (longer side, pixels) are enlarged for
#: display, so the points and labels stay readable.
MIN_DISPLAY_SIDE = 384


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = make_parser('browse', 'Draw dataset samples of a customkpt config', EXAMPLES, NOTES)
    p.add_argument('config', help='config file')
    p.add_argument('--split', choices=('train', 'val', 'test'), default='train',
                   help='which <split>_dataloader.dataset to read (default: train)')
    p.add_argument('--out-dir', help='output folder (default: '
                   'work_dirs/browse_<config name>/<split>)')
    p.add_argument('--num', type=int, default=20, help='number of samples (default: 20)')
    p.add_argument('--mode', choices=MODES, default='both', help='what to draw (default: both)')
    p.add_argument('--kpt-thr', type=float, default=0.3,
                   help='draw points whose visibility is above this (default: 0.3)')
    p.add_argument('--seed', type=int, default=None, help='seed of random augmentations')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config keys, e.g. train_dataloader.dataset.data_root=data/')
    return p.parse_args(argv)


def build_dataset(cfg: Config, split: str, with_pipeline: bool = True) -> Any:
    """Build ``cfg.<split>_dataloader.dataset`` in the config's scope
    (with an empty pipeline unless ``with_pipeline``)."""
    from mmengine.registry import init_default_scope

    from customkpt.registry import DATASETS
    key = f'{split}_dataloader'
    loader = cfg.get(key)
    if not loader or 'dataset' not in loader:
        raise UserError(f'the config has no {key}.dataset')
    init_default_scope(cfg.get('default_scope', 'customkpt'))
    dataset_cfg = copy.deepcopy(loader['dataset'])
    if not with_pipeline:
        dataset_cfg['pipeline'] = []
    return DATASETS.build(dataset_cfg)


def _name_of(data: dict, idx: int) -> str:
    img_id = data.get('img_id', 'img')
    ann_id = data.get('id', idx)
    return f'{img_id}_{ann_id}'


def enlarge(img: np.ndarray, kpts: np.ndarray, bbox: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Enlarge an image whose longer side is under ``MIN_DISPLAY_SIDE``, with
    its keypoints and boxes, so that points and names stay readable."""
    scale = MIN_DISPLAY_SIDE / max(img.shape[:2])
    if scale <= 1:
        return img, kpts, bbox
    size = (int(round(img.shape[1] * scale)), int(round(img.shape[0] * scale)))
    img = cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)
    kpts = (kpts + 0.5) * scale - 0.5  # pixel centres stay pixel centres
    return img, kpts, None if bbox is None else bbox * scale


def draw_original(data: dict, meta: dict, kpt_thr: float) -> np.ndarray:
    """Ground truth on the full image, beside its mirror image with keypoints
    flipped by ``meta['flip_indices']``."""
    from customkpt.visualization.draw import draw_instances, hstack_images, put_title
    img = cv2.imread(str(data['img_path']), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f'cannot read image {data["img_path"]}')
    kpts = np.asarray(data['keypoints'], dtype=np.float32).reshape(1, -1, 2)
    vis = np.asarray(data.get('keypoints_visible', np.ones(kpts.shape[:2])),
                     dtype=np.float32).reshape(1, -1)
    bbox = data.get('bbox')
    bbox = None if bbox is None else np.asarray(bbox, dtype=np.float32).reshape(-1, 4)
    img, kpts, bbox = enlarge(img, kpts, bbox)
    k = kpts.shape[1]
    flip_indices = meta.get('flip_indices') or data.get('flip_indices') or list(range(k))
    left = draw_instances(img, kpts, vis, meta, score_thr=kpt_thr, show_names=True, bboxes=bbox)

    # The same mirroring as the RandomFlip training transform.
    width = img.shape[1]
    fkpts, fvis = flip_keypoints(kpts, vis, width, flip_indices)
    fbox = None
    if bbox is not None:
        fbox = bbox.copy()
        fbox[:, [0, 2]] = width - 1 - bbox[:, [2, 0]]
    right = draw_instances(cv2.flip(img, 1), fkpts, fvis, meta, score_thr=kpt_thr,
                           show_names=True, bboxes=fbox)
    return hstack_images([put_title(left, 'ground truth'),
                          put_title(right, 'mirrored, points by flip_indices')])


def run_pipeline(dataset: Any, idx: int) -> dict | None:
    """The sample dict after the dataset's pipeline, stopping before
    ``PackPoseInputs``; None when a transform drops the sample."""
    data = dataset.get_data_info(idx)
    transforms = getattr(dataset.pipeline, 'transforms', [dataset.pipeline])
    for transform in transforms:
        if type(transform).__name__ == PACK_TRANSFORM:
            break
        data = transform(data)
        if data is None:
            return None
    return data


def draw_transformed(data: dict, meta: dict, kpt_thr: float) -> np.ndarray:
    """The augmented crop with its keypoints (enlarged when small), plus a
    heatmap overlay when the pipeline made heatmaps."""
    from customkpt.visualization.draw import (draw_instances, heatmap_overlay, hstack_images,
                                              put_title)
    img = data.get('img')
    if img is None:
        raise KeyError('the pipeline produced no "img" (is LoadImage in it?)')
    img = to_numpy_or_none(img)
    if img.ndim == 3 and img.shape[0] == 3 and img.shape[2] != 3:  # (3, h, w) tensor layout
        img = img.transpose(1, 2, 0)
    img = np.ascontiguousarray(img, dtype=np.uint8)
    kpts = data.get('transformed_keypoints', data.get('keypoints'))
    kpts = np.asarray(kpts, dtype=np.float32).reshape(-1, len(meta['keypoint_names']), 2)
    vis = data.get('keypoints_visible')
    vis = None if vis is None else np.asarray(vis, dtype=np.float32).reshape(kpts.shape[:2])

    img, kpts, _ = enlarge(img, kpts)
    flip = ' flipped' if data.get('flip') else ''
    panels = [put_title(draw_instances(img, kpts, vis, meta, score_thr=kpt_thr,
                                       show_names=True),
                        f'input {data.get("input_size", img.shape[1::-1])}{flip}')]
    heatmaps = to_numpy_or_none(data.get('heatmaps'))
    if heatmaps is not None and heatmaps.size:
        overlay = heatmap_overlay(img, heatmaps, alpha=0.6)
        panels.append(put_title(draw_instances(overlay, kpts, vis, meta, score_thr=kpt_thr),
                                f'heatmaps {heatmaps.shape[-1]}x{heatmaps.shape[-2]}'))
    return hstack_images(panels)


def browse(cfg: Config, split: str, out_dir: Path, num: int, mode: str,
           kpt_thr: float = 0.3) -> list[Path]:
    """Write up to ``num`` samples of the split's dataset as PNGs.

    Returns:
        The written files.
    """
    # The original images need no pipeline: skipping it keeps this mode
    # usable while a pipeline is being written.
    dataset = build_dataset(cfg, split, with_pipeline=mode != 'original')
    meta = dataset.metainfo
    out_dir.mkdir(parents=True, exist_ok=True)
    modes = ('original', 'transformed') if mode == 'both' else (mode,)
    written: list[Path] = []
    count = min(num, len(dataset))
    for idx in range(count):
        info = dataset.get_data_info(idx)
        name = _name_of(info, idx)
        for m in modes:
            if m == 'original':
                image = draw_original(info, meta, kpt_thr)
            else:
                data = run_pipeline(dataset, idx)
                if data is None:
                    print(f'sample {idx} ({name}): the pipeline dropped it', file=sys.stderr)
                    continue
                image = draw_transformed(data, meta, kpt_thr)
            path = out_dir / f'{name}_{m}.png'
            if not cv2.imwrite(str(path), image):
                raise OSError(f'could not write {path}')
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = parse_args(argv)
    from customkpt.engine.config import load_config
    cfg = load_config(args.config, args.cfg_options)
    if args.seed is not None:
        random.seed(args.seed)
        np.random.seed(args.seed)
    out_dir = Path(args.out_dir) if args.out_dir else Path(
        'work_dirs', f'browse_{Path(args.config).stem}', args.split)
    written = browse(cfg, args.split, out_dir, args.num, args.mode, args.kpt_thr)
    print(f'wrote {len(written)} images to {out_dir.resolve()}')
    return 0
