"""Piece-by-piece parity of customkpt's top-down training path with MMPose 1.3.2.

Builds MMPose's stock HRNet-W32 recipe the way ``../shared/peer/peer_train.py``
does (same split files, keypoint names and flip pairs from the json) next to
a customkpt config, in one process, and compares what each piece produces on
the same samples:

* model: state-dict keys and shapes, parameter count, per-tensor init
  statistics, and the heatmaps of both models holding the same weights;
* pipeline without randomness (no flip, no box jitter), then with every
  sample flipped: crops, keypoints, heatmaps and weights, with customkpt
  given MMPose's box (MMPose clips whole-image boxes to ``w - 1``);
* the random box transform and flip: quantiles of shift, scale, rotation and
  flip over ``--draws`` draws on the first sample;
* targets under the same random parameters (MMPose's draws fed to ours);
* the heatmap loss and its gradient on random tensors;
* ``--steps`` Adam training steps of both models from the same weights on
  the same batches;
* with ``--checkpoint`` (a customkpt checkpoint, or a state dict saved as
  ``{'state_dict': ...}``): that fixed model's mean heatmap loss on each
  library's fully augmented training samples, ``--passes`` passes per seed
  over seeds 0 and 1 (are the augmented samples equally hard?).

Run it in customkpt's environment with the peer's packages on the path
(``peer_mmpose.sh DIR`` builds them):

    python benchmarks/peer_parity.py WORK_DIR/config.py TRAIN.json VAL.json IMG_ROOT \
        --peer-site DIR/venv/lib/python3.11/site-packages --peer-dir ../shared/peer
"""
from __future__ import annotations

import argparse
import copy
import glob
import json
import logging
import os
import sys

import numpy as np
import torch


def import_peer(site: str, peer_dir: str) -> None:
    """Put MMPose (``site``) and the peer's ``mmcv.ops`` stand-in on the path."""
    sys.path.insert(0, site)
    sys.path.insert(0, peer_dir)
    import peer_stub_mmcv_ops  # noqa: F401
    from mmpose.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    from mmengine.logging import MMLogger
    MMLogger.get_instance('mmengine').setLevel(logging.ERROR)


def mmpose_config(relative: str):
    """A config shipped inside the MMPose package (``relative`` to its
    ``.mim/configs``), read."""
    import mmpose
    from mmengine.config import Config
    pattern = os.path.join(os.path.dirname(mmpose.__file__), '.mim/configs', relative)
    return Config.fromfile(glob.glob(pattern)[0])


def peer_metainfo(train_json: str) -> dict:
    """MMPose's metainfo for the json's first category, as peer_train.py
    makes it: its ``keypoints`` and optional ``flip_pairs`` (index pairs)."""
    with open(train_json) as f:
        category = json.load(f)['categories'][0]
    names = category['keypoints']
    swap = {}
    for a, b in category.get('flip_pairs', []):
        swap[names[a]], swap[names[b]] = names[b], names[a]
    return dict(dataset_name='custom', skeleton_info={}, joint_weights=[1.] * len(names),
                sigmas=[0.05] * len(names),
                keypoint_info={i: dict(name=n, id=i, color=[255, 128, 0], type='',
                                       swap=swap.get(n, '')) for i, n in enumerate(names)})


def peer_config(train_json: str, val_json: str, root: str):
    """MMPose's HRNet-W32 256x192 COCO config set up as peer_train.py does."""
    cfg = mmpose_config('body_2d_keypoint/topdown_heatmap/coco/'
                        'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')
    meta = peer_metainfo(train_json)
    cfg.model.head.out_channels = len(meta['keypoint_info'])
    cfg.model.backbone.init_cfg = None
    for loader, ann in ((cfg.train_dataloader, train_json), (cfg.val_dataloader, val_json)):
        loader.dataset.update(type='CocoDataset', data_root=root, ann_file=os.path.abspath(ann),
                              data_prefix=dict(img=''), metainfo=meta, serialize_data=False)
        loader.dataset.pop('bbox_file', None)
    return cfg


def build(scope: str, cfg):
    """Build a model or dataset config in registry scope ``scope``."""
    from mmengine.registry import DefaultScope
    if scope == 'mmpose':
        from mmpose.registry import DATASETS, MODELS
    else:
        from customkpt.registry import DATASETS, MODELS
    registry = MODELS if 'backbone' in cfg else DATASETS
    with DefaultScope.overwrite_default_scope(scope):
        return registry.build(copy.deepcopy(cfg))


def _pipeline(pipeline: list, flip: float, jitter: bool) -> list:
    """The training pipeline with the flip probability set, the box jitter
    on or off and the half-body crop left out (it needs body halves)."""
    out = []
    for t in copy.deepcopy(list(pipeline)):
        if t['type'] == 'RandomHalfBody':
            continue
        if t['type'] == 'RandomFlip':
            t['prob'] = flip
        if t['type'] == 'RandomBBoxTransform' and not jitter:
            t.update(shift_prob=0., scale_prob=0., rotate_prob=0.)
        out.append(t)
    return out


def datasets(peer_cfg, ours_cfg, flip: float, jitter: bool):
    """Both training sets with the same pipeline settings; ours reads
    MMPose's (clipped) boxes so that the crops can be compared exactly."""
    a_cfg = copy.deepcopy(peer_cfg.train_dataloader.dataset)
    b_cfg = copy.deepcopy(ours_cfg.train_dataloader.dataset)
    a_cfg.pipeline = _pipeline(a_cfg.pipeline, flip, jitter)
    b_cfg.pipeline = _pipeline(b_cfg.pipeline, flip, jitter)
    b_cfg.serialize_data = False
    a, b = build('mmpose', a_cfg), build('customkpt', b_cfg)
    if len(a) != len(b):
        raise SystemExit(f'the two training sets differ in length: {len(a)} against {len(b)}')
    for i in range(len(a)):
        b.data_list[i]['bbox'] = a.get_data_info(i)['bbox'].copy()
    return a, b


def check_model(peer_cfg, ours_cfg) -> list[tuple[str, str]]:
    """Keys, sizes, init statistics and same-weights outputs of the models."""
    torch.manual_seed(0)
    ref, ours = build('mmpose', peer_cfg.model), build('customkpt', ours_cfg.model)
    ref.init_weights()
    ours.init_weights()
    a, b = ref.state_dict(), ours.state_dict()
    shapes = sum(k not in b or a[k].shape != b[k].shape for k in a) + sum(k not in a for k in b)
    far = [k for k in a if k in b and a[k].is_floating_point() and a[k].numel() > 1
           and abs(a[k].float().std() - b[k].float().std()) > 0.2 * a[k].float().std() + 1e-8]
    ours.load_state_dict(a, strict=True)
    x = torch.randn(2, 3, 256, 192)
    diffs = []
    for mode in ('train', 'eval'):
        ref.train(mode == 'train')
        ours.train(mode == 'train')
        with torch.no_grad():
            ha, hb = ref.head(ref.extract_feat(x)), ours.head(ours.extract_feat(x))
        diffs.append(f'{mode} {float((ha - hb).abs().max()):.1e} (scale {float(ha.abs().max()):.1e})')
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    return [('model: keys / shapes that differ', f'{shapes} of {len(a)}'),
            ('model: parameters', f'{count(ref)} / {count(ours)}'),
            ('model: init std off by > 20%', f'{len(far)} tensors {far[:3]}'),
            ('model: same weights, heatmaps max diff', '; '.join(diffs))]


def _run(transforms, info: dict, upto: int) -> dict:
    for t in transforms[:upto]:
        info = t(info)
    return info


def check_pipeline(peer_cfg, ours_cfg, flip: float) -> tuple[str, str]:
    """Crops, keypoints, heatmaps and weights of every sample, no jitter."""
    a, b = datasets(peer_cfg, ours_cfg, flip, jitter=False)
    ta, tb = a.pipeline.transforms, b.pipeline.transforms
    worst = np.zeros(4)
    for i in range(len(a)):
        da, db = _run(ta, a.get_data_info(i), -1), _run(tb, b.get_data_info(i), -1)
        vis = da['keypoints_visible'] > 0
        worst = np.maximum(worst, [
            np.abs(da['img'].astype(float) - db['img'].astype(float)).max(),
            np.abs(da['transformed_keypoints'] - db['transformed_keypoints'])[vis].max(initial=0),
            np.abs(da['heatmaps'] - db['heatmaps']).max(),
            np.abs(da['keypoint_weights'] - db['keypoint_weights']).max()])
    return (f'pipeline, flip prob {flip:g}, no jitter ({len(a)} samples): max diff of '
            'crop (grey levels) / keypoints (px) / heatmaps / weights',
            ' / '.join(f'{v:.2g}' for v in worst))


def _draws(dataset, draws: int) -> np.ndarray:
    """(draws, 5) shift x, shift y (of the box), scale, rotation, flip."""
    ts = dataset.pipeline.transforms
    names = [type(t).__name__ for t in ts]
    flip, jitter = ts[names.index('RandomFlip')], ts[names.index('RandomBBoxTransform')]
    base = _run(ts, dataset.get_data_info(0), 2)
    centre, scale = base['bbox_center'].reshape(-1), base['bbox_scale'].reshape(-1)
    rows = []
    for _ in range(draws):
        d = jitter(flip(copy.deepcopy(base)))
        rotation = float(np.asarray(d.get('bbox_rotation', [0.])).reshape(-1)[0])
        shift = (d['bbox_center'].reshape(-1) - centre) / scale
        rows.append([*shift, d['bbox_scale'].reshape(-1)[0] / scale[0], rotation,
                     float(d.get('flip', False))])
    return np.asarray(rows)


def check_random_params(peer_cfg, ours_cfg, draws: int) -> list[tuple[str, str]]:
    """Quantiles (5/25/50/75/95%) of the random box parameters."""
    a, b = datasets(peer_cfg, ours_cfg, 0.5, jitter=True)
    np.random.seed(0)
    ra = _draws(a, draws)
    np.random.seed(0)
    rb = _draws(b, draws)
    rows = []
    for j, name in enumerate(('shift x', 'shift y', 'scale', 'rotation', 'flip')):
        qa, qb = (np.percentile(r[:, j], [5, 25, 50, 75, 95]) for r in (ra, rb))
        rows.append((f'random {name}: quantiles, MMPose vs ours ({draws} draws)',
                     f'{np.round(qa, 3).tolist()} vs {np.round(qb, 3).tolist()}'))
    return rows


def check_same_params(peer_cfg, ours_cfg, repeats: int) -> tuple[str, str]:
    """Targets when ours gets MMPose's random flip and box parameters."""
    a, b = datasets(peer_cfg, ours_cfg, 0.5, jitter=True)
    ta, tb = a.pipeline.transforms, b.pipeline.transforms
    flip = [type(t).__name__ for t in tb].index('RandomFlip')
    affine = [type(t).__name__ for t in ta].index('TopdownAffine')
    worst, weights = np.zeros(2), np.zeros(2)
    np.random.seed(1)
    for _ in range(repeats):
        for i in range(len(a)):
            da = _run(ta, a.get_data_info(i), affine)
            db = _run(tb, b.get_data_info(i), flip)
            if da.get('flip'):
                db = type(tb[flip])(prob=1.0)(db)
            for key in ('bbox_center', 'bbox_scale', 'bbox_rotation'):
                db[key] = np.asarray(da[key]).copy()
            da, db = _run(ta[affine:], da, -1), _run(tb[affine:], db, -1)
            worst = np.maximum(worst, [np.abs(da['img'].astype(float) - db['img'].astype(float)).max(),
                                       np.abs(da['heatmaps'] - db['heatmaps']).max()])
            weights += [da['keypoint_weights'].sum(), db['keypoint_weights'].sum()]
    return ('same random parameters: max diff crop / heatmaps; weighted points MMPose / ours',
            f'{worst[0]:.2g} / {worst[1]:.2g}; {weights[0]:.0f} / {weights[1]:.0f}')


def check_loss() -> tuple[str, str]:
    """The weighted heatmap MSE and its gradient on random tensors."""
    from mmpose.models.losses import KeypointMSELoss as Ref

    from customkpt.models.losses import KeypointMSELoss
    gen = torch.Generator().manual_seed(0)
    pred = torch.randn(4, 17, 64, 48, generator=gen, requires_grad=True)
    target = torch.rand(4, 17, 64, 48, generator=gen)
    weight = (torch.rand(4, 17, generator=gen) > 0.3).float()
    la = Ref(use_target_weight=True)(pred, target, weight)
    lb = KeypointMSELoss(use_target_weight=True)(pred, target, weight)
    ga, gb = (torch.autograd.grad(v, pred)[0] for v in (la, lb))
    return ('loss: value MMPose / ours; gradient max diff',
            f'{la.item():.6g} / {lb.item():.6g}; {float((ga - gb).abs().max()):.1e}')


def check_steps(peer_cfg, ours_cfg, steps: int) -> tuple[str, str]:
    """Losses of ``steps`` Adam steps from the same weights on the same batches."""
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import OptimWrapper
    a, b = datasets(peer_cfg, ours_cfg, 0.0, jitter=False)
    torch.manual_seed(0)
    ref, ours = build('mmpose', peer_cfg.model), build('customkpt', ours_cfg.model)
    ref.init_weights()
    ours.load_state_dict(ref.state_dict())
    wa, wb = (OptimWrapper(torch.optim.Adam(m.parameters(), lr=5e-4)) for m in (ref, ours))
    ref.train()
    ours.train()
    order = np.random.default_rng(0).permutation(len(a))
    losses = []
    for s in range(steps):
        idx = order[(8 * s) % len(a):][:8]
        la = ref.train_step(pseudo_collate([a[i] for i in idx]), wa)['loss']
        lb = ours.train_step(pseudo_collate([b[i] for i in idx]), wb)['loss']
        losses.append(f'{float(la):.5f}/{float(lb):.5f}')
    return (f'{steps} Adam steps, same start and batches: loss MMPose/ours', ', '.join(losses))


def _augmented_loss(model, dataset, passes: int) -> tuple[float, float]:
    """Mean weighted heatmap MSE per labelled point, and the weighted points."""
    from mmengine.dataset import pseudo_collate
    total = points = 0.0
    for _ in range(passes):
        for start in range(0, len(dataset), 8):
            batch = pseudo_collate([dataset[i] for i in range(start, min(start + 8, len(dataset)))])
            with torch.no_grad():
                data = model.data_preprocessor(batch, False)
                heatmaps = model.head(model.extract_feat(data['inputs']))
            samples = data['data_samples']
            target = torch.stack([torch.as_tensor(d.gt_fields.heatmaps) for d in samples])
            weight = torch.stack([torch.as_tensor(d.gt_instance_labels.keypoint_weights).reshape(-1)
                                  for d in samples])
            total += float((((heatmaps - target) ** 2).mean((2, 3)) * weight).sum())
            points += float(weight.sum())
    return total / max(points, 1.0), points


def check_augmented_loss(peer_cfg, ours_cfg, checkpoint: str, passes: int) -> tuple[str, str]:
    """A fixed model's loss on each library's augmented training samples."""
    import random

    from customkpt.checkpoint import safe_load
    model = build('mmpose', peer_cfg.model)
    model.load_state_dict(safe_load(checkpoint)['state_dict'])
    model.eval()
    a = build('mmpose', peer_cfg.train_dataloader.dataset)
    b = build('customkpt', ours_cfg.train_dataloader.dataset)
    out = []
    for dataset in (a, b):
        results = []
        for seed in (0, 1):
            np.random.seed(seed)
            random.seed(seed)
            results.append(_augmented_loss(model, dataset, passes))
        loss = sum(r[0] * r[1] for r in results) / sum(r[1] for r in results)
        out.append(f'{1e3 * loss:.3f}e-3 ({sum(r[1] for r in results):.0f} points)')
    return (f'fixed model, augmented training samples ({passes} passes x 2 seeds): '
            'mean weighted heatmap MSE, MMPose / ours', ' / '.join(out))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config', help='customkpt config (e.g. a work dir\'s config.py)')
    p.add_argument('train_json')
    p.add_argument('val_json')
    p.add_argument('img_root')
    p.add_argument('--peer-site', required=True, help='site-packages holding MMPose 1.3.2')
    p.add_argument('--peer-dir', default='../shared/peer', help='folder of peer_stub_mmcv_ops.py')
    p.add_argument('--draws', type=int, default=3000)
    p.add_argument('--steps', type=int, default=4)
    p.add_argument('--checkpoint', default=None,
                   help='a trained checkpoint for the augmented-sample loss check')
    p.add_argument('--passes', type=int, default=3)
    args = p.parse_args(argv)
    import_peer(args.peer_site, args.peer_dir)
    import customkpt  # noqa: F401
    from customkpt.engine.config import load_config
    peer_cfg = peer_config(args.train_json, args.val_json, args.img_root)
    ours_cfg = load_config(args.config)
    rows = check_model(peer_cfg, ours_cfg)
    rows += [check_pipeline(peer_cfg, ours_cfg, 0.0), check_pipeline(peer_cfg, ours_cfg, 1.0)]
    rows += check_random_params(peer_cfg, ours_cfg, args.draws)
    rows += [check_same_params(peer_cfg, ours_cfg, 3), check_loss(),
             check_steps(peer_cfg, ours_cfg, args.steps)]
    if args.checkpoint:
        rows.append(check_augmented_loss(peer_cfg, ours_cfg, args.checkpoint, args.passes))
    print('| check | MMPose 1.3.2 against customkpt |\n| --- | --- |')
    for name, value in rows:
        print(f'| {name} | {value} |')


if __name__ == '__main__':
    main()
