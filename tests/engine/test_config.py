"""Config adjustments made by tools/train.py and tools/test.py."""
import torch
from mmengine.config import Config

from customkpt.engine.config import apply_launcher, iter_dataset_cfgs, set_skip_invalid


def _cfg():
    coco = dict(type='CocoKeypointDataset', ann_file='a.json', pipeline=[])
    merged = dict(type='customkpt.MergedKeypointDataset', metainfo={},
                  datasets=[dict(type='CocoKeypointDataset', ann_file='b.json'),
                            dict(type='MpiiDataset', ann_file='c.json')])
    return Config(dict(train_dataloader=dict(dataset=merged), val_dataloader=dict(dataset=coco),
                       test_dataloader=dict(dataset=dict(coco))))


def test_skip_invalid_reaches_every_annotation_dataset_also_inside_a_merge():
    cfg = _cfg()
    assert set_skip_invalid(cfg) == 4
    leaves = [d for d in iter_dataset_cfgs(cfg._cfg_dict.to_dict()) if 'ann_file' in d]
    assert len(leaves) == 4 and all(d['skip_invalid'] for d in leaves)
    assert 'skip_invalid' not in cfg.train_dataloader.dataset  # the merge has no file


def test_launcher_without_gpu_uses_gloo():
    cfg = Config(dict(launcher='pytorch', env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    apply_launcher(cfg)
    want = 'nccl' if torch.cuda.is_available() else 'gloo'
    assert cfg.env_cfg.dist_cfg.backend == want
    plain = Config(dict(launcher='none', env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    apply_launcher(plain)
    assert plain.env_cfg.dist_cfg.backend == 'nccl'
