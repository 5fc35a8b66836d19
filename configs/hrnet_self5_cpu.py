# A CPU-sized version of hrnet_self5.py: a small HRNet at 128x96 that learns
# the synthetic self5 data in minutes on two CPU cores. The main job
# (`bash tools/run_main_job.sh`) trains it. Same knobs as hrnet_self5.py.
_base_ = ['_base_/default_runtime.py']

# ---------------------------------------------------------------- edit these
data_root = 'data/self5/'
train_ann_file = 'train_coco_joint.json'
val_ann_file = 'val_coco_joint.json'
img_prefix = 'images/'

num_joints = 5
keypoint_names = ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot']
flip_pairs = [[1, 2], [3, 4]]          # 0-based
skeleton = [[0, 1], [0, 2], [0, 3], [0, 4]]
sigmas = [0.026, 0.062, 0.062, 0.089, 0.089]   # OKS sigmas (head ~ nose, hands ~ wrists, feet ~ ankles)

train_size = (96, 128)                 # network input (w, h)
heatmap_size = (24, 32)                # (w, h), input / 4
sigma = 2.0                            # heatmap Gaussian
arch = 'tiny'                          # HRNet width: tiny, w18, w32, w48
max_epochs = 20
batch_size = 32
lr = 2e-3
val_interval = 5
# ----------------------------------------------------------------------------

metainfo = dict(dataset_name='self5', num_joints=num_joints, keypoint_names=keypoint_names,
                flip_pairs=flip_pairs, skeleton=skeleton, sigmas=sigmas)
widths = dict(tiny=16, w18=18, w32=32, w48=48)
codec = dict(type='MSRAHeatmap', input_size=train_size, heatmap_size=heatmap_size, sigma=sigma)

model = dict(
    type='TopdownEstimator',
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(type='HRNet', arch=arch),
    head=dict(type='HeatmapHead', in_channels=widths[arch], out_channels=num_joints,
              loss=dict(type='KeypointMSELoss', use_target_weight=True), decoder=codec),
    test_cfg=dict(flip_test=True, shift_heatmap=True))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomHalfBody'),
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
    dict(type='CocoKeypointMetric', ann_file=data_root + val_ann_file),
    dict(type='PCKAccuracy', thr=0.05, norm_item='bbox'),
]
test_evaluator = val_evaluator

train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=val_interval)
val_cfg = dict()
test_cfg = dict()

optim_wrapper = dict(optimizer=dict(type='Adam', lr=lr))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, eta_min=lr * 0.01, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=512)
default_hooks = dict(checkpoint=dict(save_best='coco/AP', rule='greater'))
