"""``customkpt publish``: make a training checkpoint ready to share: weights and
meta only, hashed name."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import os.path as osp
from pathlib import Path

import numpy as np

from customkpt.errors import UserError

from .common import make_parser

EXAMPLES = (
    'customkpt publish work_dirs/hrnet_self5/best_coco_AP_epoch_60.pth releases/',
    'customkpt publish IN.pth releases/hrnet_w32_self5        # name prefix',
    'customkpt publish IN.pth releases/ --safetensors',
)
NOTES = """\
Optimizer, scheduler and message-hub state are dropped; state_dict and meta
(dataset_meta with the keypoint names, the config text, epoch ...) are kept.
The file is written as <name>-<first 8 hex of its sha256>.pth; the name is
the input's stem, or the last part of the second argument when that is not
a folder. --safetensors also writes the weights as <name>-<hash>.safetensors
(meta as JSON in its header and in a <name>-<hash>.meta.json sidecar). The
paths written are printed.
"""
# meta entries that only make sense inside the training run.
_RUN_ONLY_META = ('hook_msgs',)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = make_parser('publish', 'Strip a checkpoint for release and hash its name', EXAMPLES,
                    NOTES)
    p.add_argument('src', help='checkpoint written by training')
    p.add_argument('out', help='output folder, or folder/name prefix')
    p.add_argument('--safetensors', action='store_true',
                   help='also write a .safetensors file and a JSON meta sidecar')
    return p.parse_args(argv)


def strip_checkpoint(ckpt: dict, source: str) -> dict:
    """``{'state_dict': ..., 'meta': ...}`` of a training checkpoint."""
    import torch

    from customkpt.checkpoint import checkpoint_meta
    if isinstance(ckpt.get('state_dict'), dict):
        state_dict = ckpt['state_dict']
    elif ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        state_dict = ckpt
    else:
        raise ValueError(f'{source}: no state_dict in this checkpoint '
                         f'(top-level keys {sorted(ckpt)[:10]})')
    state_dict = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    meta = {k: v for k, v in dict(ckpt.get('meta') or {}).items() if k not in _RUN_ONLY_META}
    if 'dataset_meta' in meta:  # a released file names no other files (from_file, ...)
        meta['dataset_meta'] = checkpoint_meta(ckpt, source)
    return dict(state_dict=state_dict, meta=meta)


def output_stem(src: str, out: str) -> Path:
    """``folder/name`` (without hash and suffix) for the published files."""
    if out.endswith(('/', os.sep)) or osp.isdir(out):
        return Path(out) / Path(src).stem
    name = Path(out).name
    for suffix in ('.pth', '.safetensors'):
        if name.endswith(suffix):
            name = name[:-len(suffix)]
    return Path(out).parent / name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open('rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _hashed(tmp: Path, stem: Path, suffix: str) -> Path:
    final = stem.parent / f'{stem.name}-{_sha256(tmp)[:8]}{suffix}'
    tmp.replace(final)
    return final


def _json_default(value):
    import torch
    if isinstance(value, (np.generic, np.ndarray, torch.Tensor)):
        return value.tolist()
    return str(value)


def publish(src: str, out: str, safetensors: bool = False) -> list[Path]:
    """Write the published file(s); returns their paths."""
    import torch

    from customkpt.checkpoint import SAFETENSORS_META_KEY, SIDECAR_SUFFIX, load_local
    ckpt = load_local(src)  # .pth or .safetensors, weights_only rules, errors name the file
    if not isinstance(ckpt, dict):
        raise ValueError(f'{src}: expected a checkpoint dict, got {type(ckpt).__name__}')
    slim = strip_checkpoint(ckpt, src)
    stem = output_stem(src, out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    tmp = stem.parent / f'.{stem.name}.pth.part'
    torch.save(slim, tmp)
    written = [_hashed(tmp, stem, '.pth')]
    if safetensors:
        try:
            from safetensors.torch import save_file
        except ImportError as exc:
            raise UserError('--safetensors needs the safetensors package: '
                             'pip install safetensors') from exc
        meta_json = json.dumps(slim['meta'], default=_json_default)
        tmp = stem.parent / f'.{stem.name}.safetensors.part'
        save_file(slim['state_dict'], str(tmp), metadata={SAFETENSORS_META_KEY: meta_json})
        weights = _hashed(tmp, stem, '.safetensors')
        sidecar = weights.with_name(weights.stem + SIDECAR_SUFFIX)
        sidecar.write_text(json.dumps(slim['meta'], indent=1, default=_json_default))
        written += [weights, sidecar]
    return written


def main(argv: list[str] | None = None) -> int:
    """Publish and print the paths written."""
    args = parse_args(argv)
    for path in publish(args.src, args.out, args.safetensors):
        print(path)
    return 0
