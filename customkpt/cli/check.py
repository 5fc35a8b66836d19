"""``customkpt check``: check annotation files before training.

One report of every problem, and statistics of what the datasets will hold.
"""
from __future__ import annotations

import argparse
import copy
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np
from mmengine.config import DictAction

from customkpt.meta import KeypointMetaError

from .common import make_parser

if TYPE_CHECKING:
    from customkpt.datasets.base import BaseKeypointDataset

SPLITS = ('train', 'val', 'test')
EXAMPLES = (
    'customkpt check CONFIG [--split train|val|test|all] [--decode-all | --no-decode]',
    'customkpt check CONFIG --cfg-options train_dataloader.dataset.ann_file=other.json',
    'customkpt check --ann-file ANN.json --img-root IMAGES/ [--metainfo FILE]',
)
NOTES = """\
For a config, every annotation-file dataset of the chosen dataloaders is
checked (also each source of a merged dataset). --ann-file checks one
COCO-keypoint file (or an MPII-layout json, recognised as a json list).

Prints errors and warnings (file, image id, annotation id, field, message),
the annotations left out on purpose (crowd, another category, ...) with their
ids, then per dataset: images, instances, labelled points per keypoint and
the range of box sizes. Every image file must exist; a sample of them (50 by
default, spread over the dataset) is also decoded. Exits with 1 when there is
any error, 0 otherwise.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = make_parser('check', 'Validate keypoint annotation files', EXAMPLES, NOTES)
    p.add_argument('config', nargs='?', help='config file')
    p.add_argument('--split', choices=[*SPLITS, 'all'], default='all',
                   help='which dataloaders of the config to check (default: all)')
    decode = p.add_mutually_exclusive_group()
    decode.add_argument('--decode-all', '--decode-images', dest='decode_all',
                        action='store_true', help='decode every image (slow)')
    decode.add_argument('--no-decode', action='store_true',
                        help='only check that each image file exists and is not empty')
    p.add_argument('--decode-sample', type=int, default=50, metavar='N',
                   help='decode this many images per dataset, spread over it (default: 50)')
    p.add_argument('--max-problems', type=int, default=50, metavar='N',
                   help='list at most N problems per dataset, 0 for all (default: 50)')
    p.add_argument('--ann-file', help='a COCO-keypoint (or MPII-layout) json to check')
    p.add_argument('--img-root', default='', help='folder the image names are relative to')
    p.add_argument('--metainfo', help='keypoint metainfo file for --ann-file')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config keys, e.g. train_dataloader.dataset.ann_file=x.json')
    args = p.parse_args(argv)
    if bool(args.config) == bool(args.ann_file):
        p.error('give either a CONFIG or --ann-file')
    if args.cfg_options and not args.config:
        p.error('--cfg-options needs a CONFIG')
    return args


def leaf_datasets(cfg: Any, where: str) -> Iterator[tuple[str, dict]]:
    """(label, config) of every annotation-file dataset inside ``cfg``."""
    if isinstance(cfg, dict):
        if 'ann_file' in cfg:
            yield where, cfg
            return
        if isinstance(cfg.get('datasets'), (list, tuple)):
            for i, sub in enumerate(cfg['datasets']):
                yield from leaf_datasets(sub, f'{where}.datasets[{i}]')
        if isinstance(cfg.get('dataset'), dict):
            yield from leaf_datasets(cfg['dataset'], f'{where}.dataset')


def config_datasets(path: str, split: str, cfg_options: dict | None = None
                    ) -> list[tuple[str, dict]]:
    """(label, config) of the annotation-file datasets of a config's dataloaders."""
    from customkpt.engine.config import load_config
    cfg = load_config(path, cfg_options)
    out = []
    for name in (SPLITS if split == 'all' else (split,)):
        loader = cfg.get(f'{name}_dataloader')
        if loader is None or loader.get('dataset') is None:
            if split != 'all':
                print(f'{path} has no {name}_dataloader.dataset')
            continue
        out.extend(leaf_datasets(loader['dataset'].to_dict(), f'{name}_dataloader.dataset'))
    return out


def file_dataset(args: argparse.Namespace) -> list[tuple[str, dict]]:
    """The dataset config of ``--ann-file`` (a file that cannot be read is
    left to the dataset, which reports why)."""
    from customkpt.datasets.validation import DatasetValidationError, read_json
    try:
        is_list = isinstance(read_json(args.ann_file), list)
    except DatasetValidationError:
        is_list = False
    cfg = dict(type='MpiiDataset' if is_list else 'CocoKeypointDataset', ann_file=args.ann_file,
               data_prefix=dict(img=args.img_root))
    if args.metainfo:
        cfg['metainfo'] = args.metainfo
    return [(args.ann_file, cfg)]


def statistics(ds: BaseKeypointDataset) -> list[str]:
    """Lines of statistics of a loaded dataset."""
    meta = ds.meta
    k = meta.num_keypoints
    labelled = np.zeros(k, dtype=np.int64)
    images: set[Any] = set()
    sizes = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        images.add(info['img_id'])
        labelled += (np.asarray(info['keypoints_visible']).reshape(-1, k) > 0).sum(axis=0)
        box = np.asarray(info['bbox']).reshape(4)
        sizes.append((box[2] - box[0], box[3] - box[1]))
    n = len(ds)
    lines = [f'images: {len(images)}, instances: {n}, keypoints: K={k} '
             f'({meta.dataset_name}), flip pairs: {len(meta.flip_pairs)}',
             'labelled points per keypoint:']
    width = max(len(name) for name in meta.keypoint_names)
    for name, count in zip(meta.keypoint_names, labelled):
        share = f'{100.0 * count / n:5.1f}%' if n else '    -'
        lines.append(f'  {name:<{width}}  {int(count):8d}  {share}')
    if sizes:
        s = np.asarray(sizes)
        lines.append(f'box width {s[:, 0].min():.1f}..{s[:, 0].max():.1f} px, '
                     f'height {s[:, 1].min():.1f}..{s[:, 1].max():.1f} px '
                     f'(median {np.median(s[:, 0]):.1f} x {np.median(s[:, 1]):.1f})')
    return lines


def build(cfg: dict, decode_all: bool) -> BaseKeypointDataset:
    """The dataset of ``cfg``, its invalid records skipped (reported, not raised)."""
    from customkpt.registry import DATASETS
    cfg = copy.deepcopy(cfg)
    cfg.update(pipeline=[], skip_invalid=True, lazy_init=False)
    if decode_all:
        cfg['check_images'] = 'decode'
    return DATASETS.build(cfg)


def check(label: str, cfg: dict, args: argparse.Namespace) -> tuple[int, int]:
    """Check one dataset; print its report and statistics.

    Returns:
        (errors, warnings).
    """
    from customkpt.datasets.validation import DatasetValidationError

    from .check_images import decode_sample
    print(f'== {label}: {cfg.get("type")} {cfg.get("ann_file")}')
    max_lines = args.max_problems or None
    hint = '--max-problems 0 lists all'
    try:
        ds = build(cfg, args.decode_all)
    except DatasetValidationError as exc:
        print(exc.report.format(max_lines, hint))
        print()
        return max(len(exc.report.errors), 1), len(exc.report.warnings)
    except (KeypointMetaError, ValueError, OSError, KeyError, TypeError) as exc:
        print(f'error: cannot load the dataset: {type(exc).__name__}: {exc}')
        print()
        return 1, 0
    report = ds.report
    decoded = 0
    if not args.decode_all and not args.no_decode:
        decoded = decode_sample(ds, report, args.decode_sample)
    print(report.format(max_lines, hint))
    if report.errors:
        print(f'(with skip_invalid=True, {len(report.bad_records)} of {report.num_records} '
              'records would be dropped)')
    if decoded:
        print(f'decoded a sample of {decoded} images (--decode-all decodes every image)')
    for line in statistics(ds):
        print(line)
    print()
    return len(report.errors), len(report.warnings)


def main(argv: list[str] | None = None) -> int:
    """Check every target; exit status 1 when there is an error."""
    args = parse_args(argv)
    targets = (config_datasets(args.config, args.split, args.cfg_options) if args.config
               else file_dataset(args))
    if not targets:
        print('no annotation-file dataset found')
        return 1
    errors = warnings = 0
    for label, cfg in targets:
        e, w = check(label, cfg, args)
        errors, warnings = errors + e, warnings + w
    verdict = 'FAILED' if errors else 'OK'
    print(f'{verdict}: {errors} errors, {warnings} warnings in {len(targets)} dataset(s)')
    return 1 if errors else 0
