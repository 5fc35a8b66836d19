"""``customkpt merge-labels``: corrected labels merged into a training json.

The new labels are a COCO-keypoint json, or a Labelme folder / DeepLabCut
project converted on the way (Labelme with the training file's keypoint
names, so their order is kept). The merge itself is
:func:`customkpt.converters.merge.merge_labels`. The result is always a new
file: ``--out`` may not be the training json, which stays as it is.

Needs numpy and json only (no torch, no mmengine).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from customkpt.converters import CONVERTERS, ConversionError, write_json
from customkpt.converters.category import single_keypoint_category
from customkpt.converters.common import read_json
from customkpt.converters.merge import DUPLICATE_POLICIES, merge_labels, rebase_file_names

from .common import make_parser

EXAMPLES = (
    'customkpt merge-labels data/mouse/train.json labelling/round1/labelme '
    '--out data/mouse/train_round1.json',
    'customkpt merge-labels train.json labelling/round1/dlc --out train_round1.json '
    '--image-root path/to/images',
    'customkpt merge-labels train.json new.json --out merged.json --on-duplicate replace',
)
NOTES = """\
NEW_LABELS: a COCO-keypoint .json, a Labelme folder (e.g. OUT/labelme of
customkpt outliers) or a DeepLabCut project (a folder with config.yaml, e.g.
OUT/dlc). The keypoint names must be those of TRAIN_JSON, in the same order.

New images and annotations get ids after TRAIN_JSON's largest ones; their
file_name is rewritten relative to --image-root (the folder TRAIN_JSON's
file_names are relative to: the config's data_root / data_prefix; default
TRAIN_JSON's folder). An image TRAIN_JSON already has is refused unless
--on-duplicate replace (then its old annotations are dropped). The merged
file is written to --out; TRAIN_JSON is never overwritten.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = make_parser('merge-labels', 'Merge corrected labels (COCO json, Labelme folder, '
                    'DeepLabCut project) into a training json', EXAMPLES, NOTES)
    p.add_argument('train_json', help='the training COCO-keypoint json')
    p.add_argument('new_labels', help='COCO json, Labelme folder or DeepLabCut project')
    p.add_argument('--out', required=True, help='the merged json to write (a new file)')
    p.add_argument('--format', default='auto', choices=('auto', 'coco', 'labelme', 'dlc'),
                   help='what NEW_LABELS is (default: coco for a .json, dlc for a folder '
                        'with config.yaml or labeled-data, else labelme)')
    p.add_argument('--image-root', help="the folder TRAIN_JSON's file_names are relative to "
                                        "(default: TRAIN_JSON's folder)")
    p.add_argument('--new-image-root', help="for a json NEW_LABELS: the folder its "
                                            "file_names are relative to (default: its folder)")
    p.add_argument('--on-duplicate', default='refuse', choices=DUPLICATE_POLICIES,
                   help='an image already in TRAIN_JSON: refuse (default) or replace it')
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    return p.parse_args(argv)


def _format_of(path: Path, fmt: str) -> str:
    if fmt != 'auto':
        return fmt
    if path.is_file():
        return 'coco'
    if (path / 'config.yaml').is_file() or (path / 'labeled-data').is_dir():
        return 'dlc'
    return 'labelme'


def load_new_labels(path: Path, fmt: str, keypoint_names: list[str],
                    new_root: str | None, progress: bool) -> tuple[dict, Path, list[str]]:
    """The new labels as a COCO dict, their image root and the converter's notes."""
    fmt = _format_of(path, fmt)
    if not path.exists():
        raise ConversionError(f'new labels not found: {path}')
    if fmt == 'coco':
        if not path.is_file():
            raise ConversionError(f'{path}: --format coco needs a .json file')
        coco = read_json(path, 'new labels')
        if not isinstance(coco, dict):
            raise ConversionError(f'{path}: expected a COCO object')
        return coco, Path(new_root) if new_root else path.parent, []
    if new_root:
        raise ConversionError(f'--new-image-root is for a json; the {fmt} converter knows '
                              'where its images are')
    kwargs: dict = dict(progress=progress)
    if fmt == 'labelme':
        kwargs['keypoints'] = keypoint_names
    result = CONVERTERS[fmt](path, **kwargs)
    return result.coco, result.image_root, result.stats.summary_notes()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns 0."""
    args = parse_args(argv)
    train_path, out = Path(args.train_json), Path(args.out)
    if out.resolve() == train_path.resolve():
        raise ConversionError(f'--out {out} is the training json: write the merged labels to '
                              'a new file (the training json is kept as it is)')
    train = read_json(train_path, 'training file')
    if not isinstance(train, dict):
        raise ConversionError(f'{train_path}: expected a COCO object')
    names = [str(n) for n in single_keypoint_category(train, str(train_path))['keypoints']]
    new_path = Path(args.new_labels)
    if new_path.is_file() and out.resolve() == new_path.resolve():
        raise ConversionError(f'--out {out} is the new labels file: write to a new file')
    new, new_root, notes = load_new_labels(new_path, args.format, names, args.new_image_root,
                                           not args.no_progress)
    root = Path(args.image_root) if args.image_root else train_path.parent
    new = rebase_file_names(new, new_root, root)
    result = merge_labels(train, new, args.on_duplicate, train_source=str(train_path),
                          new_source=str(new_path))
    for note in notes:
        print(f'note: {note}')
    write_json(result.coco, out)
    print(f'{out}: {result.summary()}')
    print(f'file_names are relative to {root.resolve()}')
    return 0
