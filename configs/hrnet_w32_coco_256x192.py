# HRNet-W32 top-down model, 256x192, on COCO person keypoints (17 points):
# the standard recipe. Evaluation uses person detections (bbox_file), as the
# published COCO numbers do; set val_bbox_file = None for ground-truth boxes.
_base_ = ['_base_/default_runtime.py']

# ---------------------------------------------------------------- edit these
data_root = 'data/coco/'
train_ann_file = 'annotations/person_keypoints_train2017.json'
val_ann_file = 'annotations/person_keypoints_val2017.json'
train_img_prefix = 'train2017/'
img_prefix = 'val2017/'
val_bbox_file = data_root + 'person_detection_results/COCO_val2017_detections_AP_H_56_person.json'

num_joints = 17
metainfo_file = '{{ fileDirname }}/_base_/datasets/coco.py'   # names, flip pairs, sigmas

train_size = (192, 256)                # network input (w, h)
heatmap_size = (48, 64)                # (w, h), input / 4
sigma = 2.0                            # heatmap Gaussian
arch = 'w32'                           # HRNet width: tiny, w18, w32, w48
max_epochs = 210
batch_size = 64
lr = 5e-4
val_interval = 10
# ----------------------------------------------------------------------------

metainfo = dict(from_file=metainfo_file, num_joints=num_joints)
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
                 data_prefix=dict(img=train_img_prefix), metainfo=metainfo,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=2, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type='CocoKeypointDataset', data_root=data_root, ann_file=val_ann_file,
                 data_prefix=dict(img=img_prefix), metainfo=metainfo, test_mode=True,
                 bbox_file=val_bbox_file, pipeline=val_pipeline))
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
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=max_epochs, milestones=[170, 200], gamma=0.1,
         by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=512)
default_hooks = dict(checkpoint=dict(save_best='coco/AP', rule='greater'))
