"""``customkpt sigmas``: per-keypoint OKS sigmas estimated from your data.

From repeated labels of the same images (two or more COCO-keypoint files),
or from a trained model's errors on held-out data; the estimator is
:mod:`customkpt.core.sigmas`, the matching of instances
:mod:`customkpt.converters.label_sets`, the writing
:mod:`customkpt.converters.sigma_output`.
"""
from __future__ import annotations

import argparse
import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from customkpt.converters.common import ConversionError
from customkpt.converters.label_sets import (MATCHES, SCALES, match_label_files,
                                             read_label_file)
from customkpt.converters.sigma_output import (OUTPUT_FORMATS, final_sigmas, output_format,
                                               write_sigmas)
from customkpt.core.sigmas import (SigmaEstimate, error_deviations, estimate_sigmas,
                                   label_deviations)
from customkpt.errors import UserError
from customkpt.meta import KeypointMeta

from .common import make_parser

EXAMPLES = (
    'customkpt sigmas --labels alice.json bob.json --out data/mouse/val_sigmas.json',
    'customkpt sigmas --labels a.json b.json c.json --out mouse_meta.py   # a metainfo file',
    'customkpt sigmas --labels a.json b.json --in-place                  # into a.json',
    'customkpt sigmas --config configs/hrnet_self5_cpu.py --checkpoint work_dirs/x/best.pth '
    '--out self5_meta.py',
)
NOTES = """\
sigma_k = sqrt(E[d^2 / s^2]) (COCO's definition): d is the 2-D distance of a
label from the point's true position, s^2 the instance's area. With repeated
labels the true position is the labels' mean and each instance counts with
m - 1 degrees of freedom (m labels of the point); with --config the ground
truth is the true position and d the model's error, so those sigmas are
model-error sigmas, upper bounds of the annotation noise. The interval is a
seeded bootstrap over instances. See docs/sigmas.md.

--out X.json writes a copy of the (first) annotation file whose keypoint
category holds "sigmas"; --out X.py / .yaml (or --format metainfo) writes a
metainfo file for metainfo=X in a config. Points without samples keep their
current sigma. The input is never overwritten unless --in-place.
"""


@dataclass
class Estimate:
    """What an estimation produced, for printing and writing."""

    meta: KeypointMeta
    result: SigmaEstimate
    ann_file: Path | None
    category_id: int | None
    inputs: list[Path]
    kind: str


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = make_parser('sigmas', 'Estimate per-keypoint OKS sigmas from repeated labels or from '
                    "a model's errors", EXAMPLES, NOTES)
    src = p.add_argument_group('from repeated labels')
    src.add_argument('--labels', nargs='+', metavar='JSON',
                     help='two or more COCO-keypoint files labelling the same images')
    src.add_argument('--match', choices=MATCHES, default='iou',
                     help='match the instances of an image by box IoU or by OKS')
    src.add_argument('--min-match', type=float, default=0.5,
                     help='least IoU / OKS of a matched pair (default: 0.5)')
    src.add_argument('--category-id', type=int, help='the keypoint category, when several')
    mod = p.add_argument_group("from a model's errors")
    mod.add_argument('--config', help='the config the checkpoint was trained with')
    mod.add_argument('--checkpoint', help='the trained checkpoint')
    mod.add_argument('--ann', help="annotation file to predict on (default: the config's "
                     '--split dataset); images relative to its image folder')
    mod.add_argument('--img-root', help='folder the images of --ann are relative to')
    mod.add_argument('--split', choices=('val', 'test'), default='val',
                     help='the dataloader whose dataset is used (default: val)')
    mod.add_argument('--device', default='cpu', help="e.g. 'cpu', 'cuda:0'")
    mod.add_argument('--batch-size', type=int, default=32, help='boxes per forward pass')
    mod.add_argument('--max-images', type=int, help='use only the first N images')
    p.add_argument('--scale', choices=SCALES, default='area',
                   help="s^2: the annotations' area (as the COCO metric) or the box w*h")
    p.add_argument('--bootstrap', type=int, default=1000, metavar='N',
                   help='bootstrap resamples of the interval, 0 for none (default: 1000)')
    p.add_argument('--level', type=float, default=0.95, help='interval level (default: 0.95)')
    p.add_argument('--seed', type=int, default=0, help='bootstrap seed (default: 0)')
    p.add_argument('--out', help='the annotation copy (.json) or metainfo file to write')
    p.add_argument('--format', choices=OUTPUT_FORMATS, default='auto',
                   help='what --out is (auto: .json an annotation copy, else metainfo)')
    p.add_argument('--in-place', action='store_true',
                   help='write the sigmas into the (first) input annotation file itself')
    args = p.parse_args(argv)
    if bool(args.labels) == bool(args.config):
        p.error('give either --labels A.json B.json ... or --config C --checkpoint K')
    if args.config and not args.checkpoint:
        p.error('--config needs --checkpoint')
    if args.labels and len(args.labels) < 2:
        p.error('--labels needs at least two annotation files')
    if bool(args.out) == bool(args.in_place):
        p.error('give either --out PATH or --in-place')
    if not 0 < args.level < 1:
        p.error(f'--level must lie between 0 and 1, got {args.level}')
    if args.in_place and args.format == 'metainfo':
        p.error('--in-place writes into an annotation file, not a metainfo file')
    return args


def from_labels(args: argparse.Namespace) -> Estimate:
    """The estimate from repeated labels."""
    files = [read_label_file(p, args.scale, args.category_id) for p in args.labels]
    rep = match_label_files(files, args.match, args.min_match)
    for f, matched, total in zip(files, rep.matched, rep.totals):
        print(f'{f.path}: {total} instances, {matched} matched'
              + ''.join(f', {n} left out ({why})' for why, n in sorted(f.skipped.items())))
    print(f'{rep.common_images} images in common, {len(rep.areas)} instances labelled '
          f'at least twice (matched by {args.match} >= {args.min_match})')
    if not len(rep.areas):
        raise ConversionError(f'no instance of {files[0].path} is labelled in another file '
                              '(do the file_name entries agree?)')
    ss, dof = label_deviations(rep.points, rep.visible, rep.areas)
    meta = KeypointMeta.from_coco_category(files[0].category, source=str(files[0].path))
    return Estimate(meta, estimate_sigmas(ss, dof, args.bootstrap, args.level, args.seed),
                    files[0].path, files[0].category.get('id'), [Path(p) for p in args.labels],
                    'annotation-noise sigmas (repeated labels)')


def predict_image(model: Any, img_path: str, boxes: np.ndarray, batch_size: int) -> np.ndarray:
    """(n, K, 2) predicted keypoints of the n xyxy ``boxes`` of one image."""
    from customkpt.apis import inference_topdown, stack_predictions
    samples = inference_topdown(model, img_path, boxes, batch_size=batch_size)
    return stack_predictions(samples)['keypoints']


def _dataset(cfg: Any, args: argparse.Namespace) -> Any:
    """The ``--split`` dataset of the config (or on ``--ann``), ground-truth boxes."""
    import customkpt.registry  # noqa: F401  (registries)
    from customkpt.registry import DATASETS
    loader = cfg.get(f'{args.split}_dataloader')
    if not loader or not loader.get('dataset'):
        raise UserError(f'{args.config} has no {args.split}_dataloader.dataset')
    ds_cfg = copy.deepcopy(loader['dataset'].to_dict())
    if args.ann:
        if not Path(args.ann).is_file():
            raise FileNotFoundError(f'annotation file not found: {args.ann}')
        ds_cfg['ann_file'] = str(Path(args.ann).resolve())
    if args.img_root:
        ds_cfg['data_prefix'] = dict(img=str(Path(args.img_root).resolve()))
    ds_cfg.pop('bbox_file', None)
    ds_cfg.pop('use_gt_box', None)
    ds_cfg.update(pipeline=[], lazy_init=False, test_mode=True)
    return DATASETS.build(ds_cfg)


def _ground_truth(ds: Any, scale: str, max_images: int | None) -> dict[str, list[tuple]]:
    """img_path -> [(box xyxy (4,), keypoints (K, 2), visible (K,), s^2)], in order."""
    images: dict[str, list[tuple]] = {}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        if info['img_path'] not in images and max_images is not None \
                and len(images) >= max_images:
            continue
        box = np.asarray(info['bbox'], np.float64).reshape(4)
        area = (float(np.prod(box[2:] - box[:2])) if scale == 'box'
                else float(np.asarray(info['area']).reshape(-1)[0]))
        images.setdefault(info['img_path'], []).append((
            box, np.asarray(info['keypoints'], np.float64).reshape(-1, 2),
            np.asarray(info['keypoints_visible']).reshape(-1) > 0, area))
    return images


def from_model(args: argparse.Namespace) -> Estimate:
    """The estimate from a model's errors against the ground truth."""
    from customkpt.apis import init_model
    model = init_model(args.config, args.checkpoint, device=args.device)
    ds = _dataset(model.cfg, args)
    meta = (KeypointMeta.from_dict(model.dataset_meta, source=args.checkpoint)
            if getattr(model, 'dataset_meta', None) else ds.meta)
    if ds.meta.keypoint_names != meta.keypoint_names:
        raise UserError(f'{ds.ann_file} labels {ds.meta.keypoint_names} but the model '
                        f'predicts {meta.keypoint_names}')
    pred, truth, visible, areas = [], [], [], []
    for img_path, insts in _ground_truth(ds, args.scale, args.max_images).items():
        boxes = np.stack([inst[0] for inst in insts]).astype(np.float32)
        pred.append(predict_image(model, img_path, boxes, args.batch_size))
        truth += [inst[1] for inst in insts]
        visible += [inst[2] for inst in insts]
        areas += [inst[3] for inst in insts]
    if not pred:
        raise UserError(f'{ds.ann_file}: no instance to predict')
    ss, dof = error_deviations(np.concatenate(pred), np.stack(truth), np.stack(visible),
                               np.asarray(areas))
    print(f'{ds.ann_file}: {len(areas)} instances in {len(pred)} images predicted')
    ann_file = Path(ds.ann_file) if str(ds.ann_file).endswith('.json') else None
    return Estimate(meta, estimate_sigmas(ss, dof, args.bootstrap, args.level, args.seed),
                    ann_file, (getattr(ds, 'category', None) or {}).get('id'),
                    [Path(args.checkpoint), Path(args.config)],
                    'model-error sigmas (upper bounds of the annotation noise)')


def format_table(names: list[str], est: SigmaEstimate, current: np.ndarray) -> list[str]:
    """Lines of the table: point, sigma, interval, instances, dof, current sigma."""
    width = max(len('keypoint'), *map(len, names))
    ci = f'{100 * est.level:g}% interval'
    lines = [f'{"keypoint":<{width}}  {"sigma":>7}  {ci:>17}  {"instances":>9}  {"dof":>7}  '
             f'{"current":>7}']
    for i, name in enumerate(names):
        sigma = f'{est.sigmas[i]:7.4f}' if np.isfinite(est.sigmas[i]) else f'{"-":>7}'
        interval = (f'{est.low[i]:.4f} .. {est.high[i]:.4f}' if np.isfinite(est.low[i])
                    else '-')
        lines.append(f'{name:<{width}}  {sigma}  {interval:>17}  {int(est.instances[i]):9d}  '
                     f'{int(est.dof[i]):7d}  {float(current[i]):7.4f}')
    return lines


def _target(args: argparse.Namespace, est: Estimate) -> tuple[Path, str]:
    """Where to write and as what; never an input unless --in-place."""
    if args.in_place:
        if est.ann_file is None:
            raise UserError('--in-place needs an annotation file to write into')
        return est.ann_file, 'annotations'
    out = Path(args.out)
    if any(out.resolve() == p.resolve() for p in [*est.inputs, *filter(None, [est.ann_file])]):
        raise UserError(f'--out {out} is an input file; use --in-place to overwrite it')
    return out, output_format(out, args.format)


def _print_estimate(args: argparse.Namespace, est: Estimate) -> None:
    scale = 'annotation area' if args.scale == 'area' else 'box w*h'
    boot = est.result.num_resamples
    resamples = f', {boot} bootstrap resamples (seed {args.seed})' if boot else ''
    print(f'\n{est.kind}, s^2 = {scale}{resamples}:')
    for line in format_table(est.meta.keypoint_names, est.result, est.meta.sigmas):
        print('  ' + line)


def main(argv: list[str] | None = None) -> int:
    """Estimate, print the table and write the sigmas."""
    args = parse_args(argv)
    if args.out:
        output_format(args.out, args.format)  # a bad --out fails before the work
    est = from_labels(args) if args.labels else from_model(args)
    _print_estimate(args, est)
    out, fmt = _target(args, est)
    names = est.meta.keypoint_names
    sigmas, kept = final_sigmas(est.result.sigmas, est.meta.sigmas, names)
    if kept:
        print(f'no samples for {kept}: they keep their current sigma')
    write_sigmas(out, fmt, sigmas, est.meta, est.ann_file, est.category_id)
    use = (f"metainfo='{out}'" if fmt == 'metainfo' else
           f'ann_file={str(out)!r} (a config metainfo with sigmas wins over it)')
    print(f'wrote {fmt} {out}; use it with {use}, or set in a config:\nsigmas = {sigmas}')
    return 0
