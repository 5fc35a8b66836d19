# HRNet-W32 top-down model on a DeepLabCut project: the open-field mouse
# (4 points: snout, left ear, right ear, tail base). Convert it first:
#   python tools/convert_dataset.py dlc ../shared/data/openfield-mouse \
#       data/openfield_mouse --val-every 7
# The converted json lists image paths relative to the DeepLabCut project,
# so the images are read from there (img_prefix).
_base_ = ['_base_/default_runtime.py']

# ---------------------------------------------------------------- edit these
data_root = ''
train_ann_file = 'data/openfield_mouse/train.json'
val_ann_file = 'data/openfield_mouse/val.json'
img_prefix = '../shared/data/openfield-mouse/'

# Names, flip pairs (leftear <-> rightear) and skeleton come from the
# converted json's category; these keys check and complete them.
num_joints = 4
sigmas = [0.026, 0.035, 0.035, 0.107]  # snout ~ nose, ears ~ ears, tail base ~ hips

train_size = (192, 256)                # network input (w, h)
heatmap_size = (48, 64)                # (w, h), input / 4
sigma = 2.0                            # heatmap Gaussian
arch = 'w32'                           # HRNet width: tiny, w18, w32, w48
max_epochs = 30
batch_size = 8
lr = 1e-3
val_interval = 5
# ----------------------------------------------------------------------------

metainfo = dict(dataset_name='openfield_mouse', num_joints=num_joints, sigmas=sigmas)
widths = dict(tiny=16, w18=18, w32=32, w48=48)
# unbiased=True decodes with DARK (sub-pixel refinement on the blurred log-heatmap).
codec = dict(type='MSRAHeatmap', input_size=train_size, heatmap_size=heatmap_size, sigma=sigma,
             unbiased=True)

model = dict(
    type='TopdownEstimator',
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(type='HRNet', arch=arch),
    head=dict(type='HeatmapHead', in_channels=widths[arch], out_channels=num_joints,
              loss=dict(type='KeypointMSELoss', use_target_weight=True), decoder=codec),
    test_cfg=dict(flip_test=True, shift_heatmap=True))

train_pipeline = [
    dict(type='LoadImage', cache='memory'),  # 116 frames: decode each PNG once per worker
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomBBoxTransform', shift_factor=0.16, shift_prob=0.3,
         scale_factor=(0.5, 1.5), rotate_factor=80.0, rotate_prob=0.6),
    dict(type='TopdownAffine', input_size=train_size),
    dict(type='PhotometricDistortion'),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=train_size),
    dict(type='PackPoseInputs'),
]

train_dataloader = dict(
    batch_size=batch_size, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CocoKeypointDataset', data_root=data_root, ann_file=train_ann_file,
                 data_prefix=dict(img=img_prefix), metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=2, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type='CocoKeypointDataset', data_root=data_root, ann_file=val_ann_file,
                 data_prefix=dict(img=img_prefix), metainfo=metainfo, test_mode=True,
                 pipeline=val_pipeline))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='PCKAccuracy', thr=0.05, norm_item='bbox'),
    dict(type='CocoKeypointMetric', ann_file=val_ann_file),
]
test_evaluator = val_evaluator

train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=val_interval)
val_cfg = dict()
test_cfg = dict()

optim_wrapper = dict(optimizer=dict(type='Adam', lr=lr))
# 13 iterations per epoch: a short warm-up, then a cosine decay over the run.
param_scheduler = [
    dict(type='LinearLR', begin=0, end=30, start_factor=0.01, by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, eta_min=lr * 0.01, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=512)
default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater'))
