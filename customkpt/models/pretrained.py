"""Start a model from pretrained weights, also across keypoint definitions.

:func:`load_pretrained` reads a checkpoint (local path or URL; ``.pth`` or
``.safetensors``) without executing anything from it, works out its layout
and copies every weight whose name and shape fit the model:

* backbone only (ImageNet HRNet: ``conv1.weight``, ``stage2.0...``; CSPNeXt:
  ``stem.0.conv.weight``, ``stage1...``): the keys belong to
  ``model.backbone``;
* full top-down model (``backbone.*``, ``head.*``);
* either one as an mmengine checkpoint (``state_dict`` + ``meta``) or as a
  bare state dict.

The head's per-keypoint layer (``head.final_layer``: weight (K, C, kh, kw),
bias (K,)) has one output channel per keypoint: the last layer of the
heatmap head, the first of the RTMCC head (whose other layers, ``mlp``,
``gau``, ``cls_x`` and ``cls_y``, do not depend on K and are copied like
the backbone). It is transferred by keypoint NAME: the checkpoint's
``meta['dataset_meta']['keypoint_names']`` against the model's
``dataset_meta['keypoint_names']``. A point of the model takes the
channel of the checkpoint point with the same name (exact, then
case-insensitive) or of the name ``keypoint_map`` gives it; points without a
match keep their fresh initialisation. Without names on either side the
channels are copied one to one when K agrees (with a warning) and left alone
otherwise.

Everything that happened is collected in a :class:`TransferReport`, whose
:meth:`~TransferReport.summary` is logged through mmengine's logger.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn as nn

from customkpt.checkpoint import checkpoint_meta, read_safetensors, safe_load
from customkpt.checkpoint_remote import cached_download

__all__ = ['TransferReport', 'load_pretrained', 'read_checkpoint', 'read_safetensors',
           'detect_layout', 'HEAD_FINAL_LAYER']

HEAD_FINAL_LAYER = 'head.final_layer'

# Top-level module names of an HRNet or a CSPNeXt backbone state dict.
_BACKBONE_ROOTS = ('conv1.', 'bn1.', 'conv2.', 'bn2.', 'layer1.', 'transition1.', 'stage2.',
                   'transition2.', 'stage3.', 'transition3.', 'stage4.', 'stem.', 'stage1.')

# Key of the JSON meta stored in a .safetensors header, and the sidecar suffix.


@dataclass
class TransferReport:
    """What :func:`load_pretrained` did with each weight.

    Attributes:
        source: the checkpoint path or URL.
        layout: 'backbone' (keys of ``model.backbone``) or 'full'.
        prefix: the model sub-module the checkpoint keys were placed under
            ('' for the whole model).
        loaded: model keys copied unchanged from the checkpoint.
        remapped: head channels copied as ``(new_index, old_index, new_name,
            old_name)``; names are '' when the files carry none.
        reinitialised: model keys the checkpoint lacks (fresh init kept).
        reinitialised_keypoints: model keypoints whose head channel kept its
            fresh init because the checkpoint has no such point.
        ignored: checkpoint keys with no counterpart in the model.
        shape_mismatched: ``(model key, model shape, checkpoint shape)``;
            the model keeps its fresh init for them.
        warnings: anything the user should look at.
    """

    source: str
    layout: str = 'full'
    prefix: str = ''
    loaded: list[str] = field(default_factory=list)
    remapped: list[tuple[int, int, str, str]] = field(default_factory=list)
    reinitialised: list[str] = field(default_factory=list)
    reinitialised_keypoints: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    shape_mismatched: list[tuple[str, tuple, tuple]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self, max_items: int = 10) -> str:
        """A readable multi-line account, lists cut to ``max_items`` entries."""
        def short(items: list) -> str:
            shown = ', '.join(str(i) for i in items[:max_items])
            more = len(items) - max_items
            return shown + (f', ... (+{more} more)' if more > 0 else '')

        where = f" into '{self.prefix}'" if self.prefix else ''
        lines = [f'Pretrained weights from {self.source} ({self.layout} layout{where}):',
                 f'  loaded: {len(self.loaded)} tensors']
        if self.remapped:
            pairs = [f'{n or i}<-{o or j}' for i, j, n, o in self.remapped]
            lines.append(f'  head channels copied (new<-old): {short(pairs)}')
        if self.reinitialised_keypoints:
            lines.append('  head channels kept fresh (no such point in the checkpoint): '
                         f'{short(self.reinitialised_keypoints)}')
        if self.reinitialised:
            lines.append(f'  re-initialised (not in the checkpoint): {len(self.reinitialised)}: '
                         f'{short(self.reinitialised)}')
        if self.shape_mismatched:
            items = [f'{k} model {tuple(m)} vs checkpoint {tuple(c)}'
                     for k, m, c in self.shape_mismatched]
            lines.append(f'  shape mismatch (kept fresh): {len(items)}: {short(items)}')
        if self.ignored:
            lines.append(f'  ignored (not in the model): {len(self.ignored)}: '
                         f'{short(self.ignored)}')
        for text in self.warnings:
            lines.append(f'  warning: {text}')
        return '\n'.join(lines)


# ------------------------------------------------------------------ reading
def _is_url(path: str) -> bool:
    return '://' in path and not path.startswith('file://')


def _read_any(source: str, name: str) -> Any:
    """The raw checkpoint object of a local path or URL, with ``weights_only``
    rules: http(s) through the download cache, other schemes through
    mmengine's loaders (which :mod:`customkpt.checkpoint_remote` makes safe)."""
    if _is_url(source) and not source.startswith(('http://', 'https://')):
        from mmengine.runner.checkpoint import CheckpointLoader
        from customkpt.checkpoint import install_mmengine_loader
        install_mmengine_loader()
        return CheckpointLoader.load_checkpoint(source, map_location='cpu')
    path = cached_download(source) if _is_url(source) else Path(source)
    if path.suffix == '.safetensors':
        return read_safetensors(path, source=name)
    return safe_load(path, source=name)


def read_checkpoint(checkpoint: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Weights and meta of a checkpoint, read with ``weights_only`` rules.

    Args:
        checkpoint: local path, ``file://`` path or URL (``http(s)://`` and
            any other scheme mmengine's file backends read); ``.pth`` /
            ``.pt`` (torch pickle) or ``.safetensors``.

    Returns:
        ``(state_dict, meta)``: tensors by name (a DDP ``module.`` prefix
        removed) and the checkpoint's ``meta`` dict ({} when it has none).

    Raises:
        FileNotFoundError: no such local file.
        customkpt.checkpoint.UnsafeCheckpointError: the file would execute code.
        ValueError: the file holds no state dict.
    """
    source = str(checkpoint)
    if source.startswith('file://'):
        source = source[len('file://'):]
    ckpt = _read_any(source, str(checkpoint))
    if not isinstance(ckpt, Mapping):
        raise ValueError(f'{checkpoint}: expected a dict of weights, got {type(ckpt).__name__}')
    meta = dict(ckpt.get('meta')) if isinstance(ckpt.get('meta'), Mapping) else {}
    if 'dataset_meta' in meta:  # data only: never a file named inside the checkpoint
        meta['dataset_meta'] = checkpoint_meta(ckpt, str(checkpoint))
    if isinstance(ckpt.get('state_dict'), Mapping):
        raw = ckpt['state_dict']
    elif isinstance(ckpt.get('model'), Mapping):
        raw = ckpt['model']
    else:
        raw = ckpt
    state_dict = {}
    for key, value in raw.items():
        if isinstance(value, np.ndarray):
            value = torch.from_numpy(value)
        if not isinstance(value, torch.Tensor):
            continue
        if key.startswith('module.'):
            key = key[len('module.'):]
        state_dict[key] = value
    if not state_dict:
        raise ValueError(f'{checkpoint}: no weights found (neither a state_dict entry nor '
                         f'a dict of tensors; top-level keys {sorted(ckpt)[:10]})')
    return state_dict, dict(meta)


def detect_layout(keys: list[str] | set[str]) -> str:
    """'full' when keys carry a ``backbone.`` prefix, 'backbone' when they are
    bare HRNet or CSPNeXt backbone keys (``conv1.weight``, ``stem.0...``,
    ``stage2...``), else 'full'."""
    keys = list(keys)
    if any(k.startswith('backbone.') for k in keys):
        return 'full'
    if any(k.startswith(_BACKBONE_ROOTS) for k in keys):
        return 'backbone'
    return 'full'


# ------------------------------------------------------------ head transfer
def _keypoint_names(meta: Mapping | None) -> list[str] | None:
    """Keypoint names of a ``dataset_meta`` dict (also of a raw config
    ``metainfo`` that only names a definition file)."""
    if not meta:
        return None
    names = meta.get('keypoint_names')
    if names:
        return [str(n) for n in names]
    try:
        from customkpt.meta import KeypointMeta
        return list(KeypointMeta.resolve(dict(meta)).keypoint_names)
    except Exception:  # noqa: BLE001 - a meta without names is allowed
        return None


def match_keypoints(new_names: list[str], old_names: list[str],
                    keypoint_map: Mapping[str, str] | None = None
                    ) -> list[tuple[int, int, str, str]]:
    """Pairs ``(new_index, old_index, new_name, old_name)`` of matching points.

    A new point matches the old point named ``keypoint_map[new]`` when the map
    names it, else the old point of the same name (exact, then ignoring case).

    Raises:
        KeyError: ``keypoint_map`` names a point that the model or the
            checkpoint does not have.
    """
    keypoint_map = dict(keypoint_map or {})
    unknown_new = [n for n in keypoint_map if n not in new_names]
    if unknown_new:
        raise KeyError(f'keypoint_map names model points {unknown_new} that the model does '
                       f'not have; model points: {new_names}')
    exact = {n: i for i, n in enumerate(old_names)}
    folded: dict[str, int] = {}
    for i, n in enumerate(old_names):
        folded.setdefault(n.lower(), i)
    unknown_old = [o for o in keypoint_map.values() if o not in exact and o.lower() not in folded]
    if unknown_old:
        raise KeyError(f'keypoint_map names checkpoint points {unknown_old} that the checkpoint '
                       f'does not have; checkpoint points: {old_names}')
    pairs = []
    for i, name in enumerate(new_names):
        wanted = keypoint_map.get(name, name)
        j = exact.get(wanted, folded.get(wanted.lower()))
        if j is not None:
            pairs.append((i, j, name, old_names[j]))
    return pairs


def _transfer_head(model_sd: dict[str, torch.Tensor], ckpt_sd: dict[str, torch.Tensor],
                   model_meta: Mapping | None, ckpt_meta: Mapping | None,
                   keypoint_map: Mapping[str, str] | None, report: TransferReport) -> set[str]:
    """Copy the head's per-keypoint channels (``head.final_layer``) by
    keypoint; returns the handled model keys."""
    keys = [k for k in (f'{HEAD_FINAL_LAYER}.weight', f'{HEAD_FINAL_LAYER}.bias')
            if k in model_sd and k in ckpt_sd]
    if not keys:
        return set()
    weight_key = f'{HEAD_FINAL_LAYER}.weight'
    if weight_key in keys and model_sd[weight_key].shape[1:] != ckpt_sd[weight_key].shape[1:]:
        for k in keys:
            report.shape_mismatched.append((k, tuple(model_sd[k].shape),
                                            tuple(ckpt_sd[k].shape)))
        return set(keys)
    k_new = model_sd[keys[0]].shape[0]
    k_old = ckpt_sd[keys[0]].shape[0]
    new_names = _keypoint_names(model_meta)
    old_names = _keypoint_names(ckpt_meta)
    if new_names is not None and len(new_names) != k_new:
        raise ValueError(f'model dataset_meta names {len(new_names)} keypoints but its head '
                         f'has {k_new} channels')
    if old_names is not None and len(old_names) != k_old:
        report.warnings.append(f'checkpoint meta names {len(old_names)} keypoints but its head '
                               f'has {k_old} channels; ignoring the names')
        old_names = None
    if new_names is not None and old_names is not None:
        pairs = match_keypoints(new_names, old_names, keypoint_map)
        matched = {i for i, *_ in pairs}
        report.reinitialised_keypoints += [n for i, n in enumerate(new_names) if i not in matched]
        if not pairs:
            report.warnings.append(
                f'no keypoint of the model {new_names} matches the checkpoint\'s {old_names}; '
                'the head keeps its fresh init (give keypoint_map to pair them)')
    elif keypoint_map:
        side = 'model' if new_names is None else 'checkpoint'
        raise ValueError(f'keypoint_map needs keypoint names on both sides, but the {side} has '
                         'none (model: dataset_meta / metainfo; checkpoint: '
                         "meta['dataset_meta']['keypoint_names'])")
    elif k_new == k_old:
        pairs = [(i, i, '', '') for i in range(k_new)]
        report.warnings.append(f'no keypoint names to match the head by; both have K={k_new}, '
                               'so all channels were copied in order')
    else:
        report.warnings.append(f'head skipped: model K={k_new}, checkpoint K={k_old} and no '
                               'keypoint names to match them by')
        report.reinitialised += keys
        return set(keys)
    with torch.no_grad():
        for k in keys:
            for i, j, *_ in pairs:
                model_sd[k][i] = ckpt_sd[k][j].to(model_sd[k].dtype)
    report.remapped = pairs
    return set(keys)


# -------------------------------------------------------------------- apply
def load_pretrained(model: nn.Module, checkpoint: str | Path,
                    keypoint_map: Mapping[str, str] | None = None, prefix: str | None = None,
                    logger: Any = None) -> TransferReport:
    """Copy pretrained weights into ``model`` and report what went where.

    Args:
        model: e.g. a :class:`~customkpt.models.TopdownEstimator`; its
            ``dataset_meta['keypoint_names']`` names the head's channels.
        checkpoint: path or URL of a ``.pth`` / ``.safetensors`` file.
        keypoint_map: ``{model point name: checkpoint point name}`` for
            points whose names differ (e.g. ``{'head': 'nose'}``).
        prefix: the model sub-module the checkpoint's keys belong to
            ('backbone' for an ImageNet backbone, '' for a whole model);
            detected from the keys when None.
        logger: an mmengine/stdlib logger; mmengine's current logger when None.

    Returns:
        The :class:`TransferReport` (also logged).

    Raises:
        FileNotFoundError, UnsafeCheckpointError: see :func:`read_checkpoint`.
        KeyError, ValueError: ``keypoint_map`` refers to unknown points or
            cannot be applied.
    """
    ckpt_sd, meta = read_checkpoint(checkpoint)
    if prefix is None:
        layout = detect_layout(ckpt_sd)
        prefix = 'backbone' if layout == 'backbone' else ''
    else:
        prefix = prefix.rstrip('.')
        layout = 'backbone' if prefix == 'backbone' else 'full'
    report = TransferReport(source=str(checkpoint), layout=layout, prefix=prefix)
    if prefix:
        ckpt_sd = {f'{prefix}.{k}': v for k, v in ckpt_sd.items()}

    model_sd = model.state_dict(keep_vars=False)
    model_sd = {k: v.detach().clone() for k, v in model_sd.items()}
    handled = _transfer_head(model_sd, ckpt_sd, getattr(model, 'dataset_meta', None),
                             meta.get('dataset_meta'), keypoint_map, report)
    for key, value in model_sd.items():
        if key in handled:
            continue
        if key not in ckpt_sd:
            if not key.endswith('num_batches_tracked'):  # older files lack these counters
                report.reinitialised.append(key)
            continue
        source = ckpt_sd[key]
        if tuple(source.shape) != tuple(value.shape):
            report.shape_mismatched.append((key, tuple(value.shape), tuple(source.shape)))
            continue
        model_sd[key] = source.to(value.dtype)
        report.loaded.append(key)
    report.ignored = [k for k in ckpt_sd if k not in model_sd]
    model.load_state_dict(model_sd, strict=True)

    _log(report, logger)
    return report


def _log(report: TransferReport, logger: Any = None) -> None:
    if logger is None:
        from mmengine.logging import MMLogger
        logger = MMLogger.get_current_instance()
    logger.info(report.summary())
    for text in report.warnings:
        warnings.warn(f'{report.source}: {text}', stacklevel=3)
