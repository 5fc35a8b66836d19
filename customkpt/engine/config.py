"""Config adjustments shared by the train and test tools."""
from __future__ import annotations

import os.path as osp
from typing import Any, Iterator

import torch
from mmengine.config import Config, ConfigDict


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
    """A config as the train/test tools use it: ``--cfg-options`` merged, the
    launcher applied, and ``work_dir`` set (default ``work_dirs/<config name>``)."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
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
