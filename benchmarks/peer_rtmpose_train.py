"""MMPose 1.3.2's stock RTMPose recipe on a COCO-keypoint split, from random
weights, for a fixed number of epochs: the reference rows of the RTMPose
comparison in docs/benchmarks.md (the HRNet rows come from
``../shared/peer/peer_train.py``).

Run it with the peer's Python (``../shared/peer/peer_mmpose.sh DIR`` builds
it; the stock pipeline's blur and dropout and its mmdet parts need ``pip
install albumentations==1.3.1 tqdm`` there too), never with customkpt's:

    DIR/venv/bin/python benchmarks/peer_rtmpose_train.py TRAIN.json VAL.json IMG_ROOT \
        WORK_DIR EPOCHS [--size s] [--batch 8] [--seed 0] [--lr 4e-3]

What is kept from MMPose's ``rtmpose-{t,s,m,l}_8xb256-420e_coco-256x192``
config: model, codec, both pipelines, AdamW at the stock 4e-3 (not scaled
to the batch, as the HRNet peer keeps its 5e-4; ``--lr`` sets another),
the weight EMA and the pipeline switch. What follows the short run: the
warm-up is 50 iterations (from 1e-5 of the rate, as the HRNet peer's), the
cosine decay covers the second half of EPOCHS, the switch comes for the stock share (30/420) of
the epochs (at least one), no pretrained backbone, BatchNorm instead of
SyncBN (one process). The keypoint names and flip pairs come from the
json's category (``keypoints``, optional ``flip_pairs``); PCK@0.05, AUC
and EPE are reported on VAL.json after the last epoch.
"""
from __future__ import annotations

import argparse
import os

from peer_parity import mmpose_config, peer_metainfo   # beside this script

STOCK_EPOCHS, STOCK_STAGE2 = 420, 30


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    for name in ('train_json', 'val_json', 'data_root', 'work_dir'):
        parser.add_argument(name)
    parser.add_argument('epochs', type=int)
    parser.add_argument('--size', default='s', choices='tsml')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--warmup', type=int, default=50, help='warm-up iterations')
    parser.add_argument('--lr', type=float, default=None,
                        help="AdamW's rate instead of the stock 4e-3")
    return parser.parse_args()


def short_run(cfg, args: argparse.Namespace, meta: dict) -> None:
    """Edit the stock config in place for this split and epoch count."""
    epochs = args.epochs
    stage2 = min(epochs - 1, max(1, round(epochs * STOCK_STAGE2 / STOCK_EPOCHS)))
    cfg.model.head.out_channels = len(meta['keypoint_info'])
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.norm_cfg = dict(type='BN')
    cfg.train_cfg = dict(by_epoch=True, max_epochs=epochs, val_interval=epochs)
    if args.lr is not None:
        cfg.optim_wrapper.optimizer.lr = args.lr
    lr = cfg.optim_wrapper.optimizer.lr
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=1e-5, by_epoch=False, begin=0, end=args.warmup),
        dict(type='CosineAnnealingLR', eta_min=lr * 0.05, begin=epochs // 2, end=epochs,
             T_max=epochs - epochs // 2, by_epoch=True, convert_to_iter_based=True)]
    cfg.custom_hooks[1].switch_epoch = epochs - stage2
    cfg.auto_scale_lr = dict(enable=False, base_batch_size=1024)
    for loader, ann in ((cfg.train_dataloader, args.train_json), (cfg.val_dataloader,
                                                                  args.val_json)):
        loader.update(batch_size=args.batch, num_workers=1, persistent_workers=False)
        loader.dataset.update(data_root=args.data_root, ann_file=os.path.abspath(ann),
                              data_prefix=dict(img=''), metainfo=meta)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator = [dict(type='PCKAccuracy', thr=0.05), dict(type='AUC'),
                         dict(type='EPE')]
    cfg.test_evaluator = cfg.val_evaluator
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs)
    cfg.work_dir = args.work_dir
    cfg.randomness = dict(seed=args.seed)


def main() -> None:
    from mmengine.runner import Runner
    args = parse_args()
    cfg = mmpose_config(f'body_2d_keypoint/rtmpose/coco/rtmpose-{args.size}_8xb256-420e_'
                        'coco-256x192.py')
    short_run(cfg, args, peer_metainfo(args.train_json))
    Runner.from_cfg(cfg).train()


if __name__ == '__main__':
    main()
