# openfield_mouse.py with occlusion augmentation in the training pipeline
# (docs/occlusion.md); data, model, schedule and evaluation are inherited.
#   python benchmarks/bench_occlusion.py --clean configs/openfield_mouse.py \
#       --occluded configs/openfield_mouse_occlusion.py --epochs 20
_base_ = ['openfield_mouse.py']

# Occluders cut from other training crops or drawn procedurally, pasted
# over the mouse; then discs dropped around keypoints (PP-TinyPose's AID).
# Both run on the crop, before the colour jitter, so it recolours them too.
occlusion = [
    dict(type='RandomOccluder', prob=0.5, source='both', num_occluders=(1, 2),
         scale_range=(0.15, 0.4)),
    dict(type='KeypointInfoDrop', prob=0.3, num_patch=1, offset_factor=0.05,
         radius_range=(0.1, 0.2)),
]

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomBBoxTransform', shift_factor=0.16, shift_prob=0.3,
         scale_factor=(0.5, 1.5), rotate_factor=80.0, rotate_prob=0.6),
    dict(type='TopdownAffine', input_size=_base_.train_size),
    *occlusion,
    dict(type='PhotometricDistortion'),
    dict(type='GenerateTarget', encoder=_base_.codec),
    # Uncomment to halve the loss of points the augmentation covered:
    # dict(type='OcclusionWeight', weight=0.5),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
