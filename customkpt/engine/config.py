"""Reading configs: references resolved, conventions checked, run adjustments."""
from __future__ import annotations

import inspect
import logging
import os.path as osp
import re
from typing import Any, Iterator

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from customkpt.codecs import build_codec

from .references import INNER, expand_option_targets, resolve_references


class ConfigConventionError(ValueError):
    """Two parts of a config disagree on the crop convention or the input size."""


def load_config(path: str, cfg_options: dict | None = None) -> Config:
    """Read a config file with its ``_base_`` files, merge ``cfg_options``
    (``--cfg-options``) and resolve its ``${...}`` references.

    Every config customkpt reads goes through here, so a knob set at the top
    of a child config or as an option (``train_size=(96, 128)``) reaches each
    dict that refers to it. See :mod:`customkpt.engine.references`.
    A ``semi_supervised`` switch is then turned into its model, loader and
    hook settings (:mod:`customkpt.engine.semi_supervised`).
    """
    if not osp.isfile(str(path)):
        raise FileNotFoundError(f'config file {str(path)!r} does not exist')
    cfg = Config.fromfile(str(path))
    merge_options(cfg, cfg_options)
    resolve_references(cfg)
    if cfg.get('semi_supervised'):
        from .semi_supervised import apply_semi_supervised
        apply_semi_supervised(cfg)
    return cfg


def merge_options(cfg: Config, cfg_options: dict | None) -> Config:
    """Merge ``--cfg-options`` into a config whose references are not yet
    resolved (in place; returns ``cfg``).

    A key that descends through a whole-dict reference
    (``model.head.decoder.sigma`` where the decoder is ``'${codec}'``) gets a
    copy of the referenced dict there first, so it merges as into a dict.
    A key of :data:`KNOB_OPTIONS` that the config ties to its knob
    (``train_cfg.max_epochs='${max_epochs}'``) sets the knob instead, so
    everything derived from it (the LR schedule's end, its milestones)
    follows; without such a tie, a scheduler that still ends at the old
    ``max_epochs`` is warned about.
    """
    if cfg_options:
        cfg_options = redirect_knob_options(cfg, cfg_options)
        _warn_untied_schedulers(cfg, cfg_options)
        _warn_unreferenced_knobs(cfg, cfg_options)
        expand_option_targets(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    return cfg


#: ``--cfg-options`` keys that stand for a top-level knob of the same meaning.
KNOB_OPTIONS = {'train_cfg.max_epochs': 'max_epochs', 'train_cfg.val_interval': 'val_interval'}


#: Top-level settings read by name (mmengine's Runner, customkpt's tools), not
#: through ``${...}`` references.
TOP_LEVEL_SETTINGS = frozenset({
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg',
    'val_cfg', 'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
    'val_evaluator', 'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor',
    'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level', 'visualizer',
    'default_scope', 'randomness', 'experiment_name', 'cfg', 'custom_imports',
    'semi_supervised', 'find_unused_parameters', 'compile', 'model_wrapper_cfg', 'strategy'})


def referenced_names(node: Any) -> set[str]:
    """Every name that a ``${...}`` string anywhere in ``node`` mentions."""
    if isinstance(node, str):
        return {name for expr in INNER.findall(node)
                for name in re.findall(r'[A-Za-z_][A-Za-z0-9_]*', expr)}
    if isinstance(node, (dict, Config)):
        return set().union(*(referenced_names(v) for v in node.values()))
    if isinstance(node, (list, tuple)):
        return set().union(*(referenced_names(v) for v in node))
    return set()


def _warn_unreferenced_knobs(cfg: Config, cfg_options: dict) -> None:
    """Warn about a top-level option (a knob such as ``val_bbox_file``) that
    no ``${...}`` in the config refers to, so that setting it changes nothing:
    typically the config a run wrote into its work dir, whose references are
    already resolved."""
    knobs = [k for k in cfg_options if '.' not in k and k not in TOP_LEVEL_SETTINGS
             and not isinstance(cfg.get(k), dict)]
    if not knobs:
        return
    used = referenced_names(cfg._cfg_dict)
    for key in knobs:
        if key not in used:
            print_log(f"--cfg-options {key}=...: nothing in {cfg.filename or 'the config'} "
                      f"refers to '{key}' (no '${{{key}}}'), so it changes nothing. A config "
                      'that a run wrote into its work dir has its references resolved: set '
                      'the field itself there (e.g. test_dataloader.dataset.bbox_file), or '
                      'start from the source config.', logger='current', level=logging.WARNING)


def _lookup(cfg: Any, key: str) -> Any:
    node = cfg
    for part in key.split('.'):
        node = node.get(part) if isinstance(node, (dict, Config)) else None
    return node


def redirect_knob_options(cfg: Config, cfg_options: dict) -> dict:
    """``cfg_options`` with each :data:`KNOB_OPTIONS` key that the config
    ties to its knob (the value is exactly ``'${knob}'``) set on the knob."""
    options = dict(cfg_options)
    for key, knob in KNOB_OPTIONS.items():
        if key in options and knob not in options and knob in cfg \
                and _lookup(cfg, key) == '${%s}' % knob:
            options[knob] = options.pop(key)
    return options


def _warn_untied_schedulers(cfg: Config, cfg_options: dict) -> None:
    """Warn when ``train_cfg.max_epochs`` is changed but an epoch-based
    scheduler still ends at the old number (its ``end`` is a plain number)."""
    new, old = cfg_options.get('train_cfg.max_epochs'), _lookup(cfg, 'train_cfg.max_epochs')
    if new is None or not isinstance(old, int) or new == old or \
            any(k.startswith('param_scheduler') for k in cfg_options):
        return
    schedulers = cfg.get('param_scheduler') or []
    for i, sched in enumerate(schedulers if isinstance(schedulers, list) else [schedulers]):
        if isinstance(sched, dict) and sched.get('by_epoch', True) and sched.get('end') == old:
            print_log(f"train_cfg.max_epochs={new} but param_scheduler[{i}] "
                      f"({sched.get('type')}) still ends at epoch {old}: set its end too "
                      f'(--cfg-options param_scheduler.{i}.end={new})',
                      logger='current', level=logging.WARNING)


def iter_dataset_cfgs(cfg: Any) -> Iterator[ConfigDict]:
    """Every dataset config inside ``cfg`` (also those nested in a merge)."""
    if isinstance(cfg, dict):
        kind = cfg.get('type')
        if isinstance(kind, str) and kind.split('.')[-1].endswith('Dataset'):
            yield cfg
        for value in cfg.values():
            yield from iter_dataset_cfgs(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            yield from iter_dataset_cfgs(value)


def set_skip_invalid(cfg: Config) -> int:
    """Make every annotation-file dataset drop invalid records; returns how many
    dataset configs were changed."""
    changed = 0
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for ds in iter_dataset_cfgs(cfg.get(key)):
            if 'ann_file' in ds:
                ds.skip_invalid = True
                changed += 1
    return changed


def load_run_config(path: str, cfg_options: dict | None = None, launcher: str = 'none',
                    work_dir: str | None = None) -> Config:
    """A config as the train/test tools use it: read by :func:`load_config`,
    checked by :func:`check_conventions`, the launcher applied, and
    ``work_dir`` set (default ``work_dirs/<config name>``)."""
    cfg = load_config(path, cfg_options)
    check_conventions(cfg)
    cfg.launcher = launcher
    apply_launcher(cfg)
    if work_dir:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(path))[0])
    return cfg


def init_cpu_process_group(launcher: str) -> bool:
    """Start the gloo process group for a torchrun launch without a GPU.

    mmengine's own set-up for ``--launcher pytorch`` selects a CUDA device,
    which fails where torch has no CUDA; the Runner skips that set-up when a
    group already exists. Returns whether a group was started here.
    """
    import torch.distributed as dist
    if launcher != 'pytorch' or torch.cuda.is_available() or dist.is_initialized():
        return False
    dist.init_process_group(backend='gloo', init_method='env://')
    return True


def close_process_group() -> None:
    """End a distributed run cleanly: without this, gloo's worker threads
    can abort a process at interpreter exit (SIGABRT after a finished run)."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def apply_launcher(cfg: Config) -> None:
    """Use gloo, and DDP without device ids, when a distributed run has no GPU."""
    if cfg.get('launcher', 'none') == 'none':
        return
    env = cfg.setdefault('env_cfg', ConfigDict())
    dist_cfg = env.setdefault('dist_cfg', ConfigDict(backend='nccl'))
    if not torch.cuda.is_available():
        dist_cfg.backend = 'gloo'
        # DDP on CPU takes no device ids (mmengine passes the local rank).
        if cfg.get('model_wrapper_cfg') is None:
            cfg.model_wrapper_cfg = ConfigDict(type='MMDistributedDataParallel',
                                               device_ids=None, broadcast_buffers=False)


def iter_pipelines(cfg: Any, path: str) -> Iterator[tuple[str, list]]:
    """``(key path, pipeline)`` for every pipeline list inside ``cfg``."""
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            if key == 'pipeline' and isinstance(value, (list, tuple)):
                yield f'{path}.{key}', value
            else:
                yield from iter_pipelines(value, f'{path}.{key}')
    elif isinstance(cfg, (list, tuple)):
        for i, value in enumerate(cfg):
            yield from iter_pipelines(value, f'{path}[{i}]')


def _codec_facts(cfg: dict) -> dict:
    """What the other parts must agree with: crop convention, input size and
    the target's size (heatmap size, or SimCC bins per crop pixel)."""
    codec = build_codec(cfg)
    facts = dict(type=type(codec).__name__, use_udp=bool(codec.use_udp),
                 input_size=tuple(codec.input_size))
    if hasattr(codec, 'heatmap_size'):
        facts['heatmap_size'] = tuple(codec.heatmap_size)
    else:
        facts['simcc_split_ratio'] = float(codec.simcc_split_ratio)
    return facts


def _convention(facts: dict) -> str:
    return f"{facts['type']} ({'UDP' if facts['use_udp'] else 'plain'} crop)"


def check_conventions(cfg: Config) -> None:
    """Check that the model's codec, the crops and the training targets agree.

    The codec in ``model.head.decoder`` owns the pixel convention
    (``UDPHeatmap``: UDP, ``MSRAHeatmap`` and ``SimCCLabel``: plain) and the
    input size. Every ``TopdownAffine`` in the train/val/test pipelines (and
    in a hook's ``switch_pipeline``) must have the same ``use_udp`` and
    ``input_size``, and every ``GenerateTarget`` encoder the same
    convention, input size and kind of target (heatmaps of the same size, or
    SimCC vectors with the same bins per pixel). The head's
    ``out_channels`` must equal the ``num_joints`` of each dataset's
    metainfo dict.

    Raises:
        ConfigConventionError: naming both disagreeing settings.
    """
    head = (cfg.get('model') or {}).get('head') or {}
    if not isinstance(head.get('decoder'), dict):
        return
    ref_path = 'model.head.decoder'
    ref = _codec_facts(head['decoder'])
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for path, pipeline in iter_pipelines(cfg.get(loader), loader):
            _check_pipeline(pipeline, path, ref_path, ref)
        _check_num_joints(cfg, loader, head)
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        if isinstance(hook, dict) and isinstance(hook.get('switch_pipeline'), (list, tuple)):
            _check_pipeline(hook['switch_pipeline'], f'custom_hooks[{i}].switch_pipeline',
                            ref_path, ref)


def _check_pipeline(pipeline: list, path: str, ref_path: str, ref: dict) -> None:
    for i, step in enumerate(pipeline):
        kind = str(step.get('type', '')).split('.')[-1] if isinstance(step, dict) else ''
        where = f'{path}[{i}] {kind}'
        if kind == 'TopdownAffine':
            _check_affine(step, where, ref_path, ref)
        elif kind == 'GenerateTarget' and isinstance(step.get('encoder'), dict):
            _check_encoder(_codec_facts(step['encoder']), where, ref_path, ref)


def _check_affine(step: dict, where: str, ref_path: str, ref: dict) -> None:
    use_udp = bool(step.get('use_udp', False))
    if use_udp != ref['use_udp']:
        raise ConfigConventionError(
            f'{ref_path} is {_convention(ref)} but {where} has use_udp={use_udp}')
    size = tuple(step['input_size'] if 'input_size' in step else _affine_default_size())
    if size != ref['input_size']:
        raise ConfigConventionError(f"{ref_path} has input_size={ref['input_size']} but "
                                    f'{where} has input_size={size}')


def _affine_default_size() -> tuple:
    from customkpt.registry import TRANSFORMS
    signature = inspect.signature(TRANSFORMS.get('TopdownAffine'))
    return tuple(signature.parameters['input_size'].default)


def _check_encoder(facts: dict, where: str, ref_path: str, ref: dict) -> None:
    if facts['use_udp'] != ref['use_udp']:
        raise ConfigConventionError(f'{ref_path} is {_convention(ref)} but {where} encodes '
                                    f'with {_convention(facts)}')
    if ('heatmap_size' in facts) != ('heatmap_size' in ref):
        raise ConfigConventionError(f"{ref_path} is {ref['type']} but {where} encodes "
                                    f"{facts['type']} targets")
    for key in ('input_size', 'heatmap_size', 'simcc_split_ratio'):
        if facts.get(key) != ref.get(key):
            raise ConfigConventionError(f'{ref_path} has {key}={ref[key]} but {where} '
                                        f'encoder has {key}={facts[key]}')


def _check_num_joints(cfg: Config, loader: str, head: dict) -> None:
    channels = head.get('out_channels')
    for ds in iter_dataset_cfgs(cfg.get(loader)):
        meta = ds.get('metainfo')
        joints = meta.get('num_joints') if isinstance(meta, dict) else None
        if isinstance(channels, int) and isinstance(joints, int) and joints != channels:
            raise ConfigConventionError(f'model.head.out_channels={channels} but the '
                                        f'{loader} dataset metainfo has num_joints={joints}')
