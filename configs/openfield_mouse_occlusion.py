# openfield_mouse.py with occlusion augmentation in the training pipeline
# (docs/occlusion.md); data, model, schedule and evaluation are inherited.
#   python benchmarks/bench_occlusion.py --clean configs/openfield_mouse.py \
#       --occluded configs/openfield_mouse_occlusion.py --epochs 30
# Measured (docs/benchmarks.md): with 99 training frames and 30 epochs this
# augmentation HURTS, on clean and on occluded frames alike; it is here for
# longer schedules and larger projects, to be checked with the command above.
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

# The clean twin's pipeline with `occlusion` right after the crop.
insert_at = [t['type'] for t in _base_.train_pipeline].index('TopdownAffine') + 1
train_pipeline = (_base_.train_pipeline[:insert_at] + occlusion
                  + _base_.train_pipeline[insert_at:])
# To halve the loss of the points the augmentation covered, add
# dict(type='OcclusionWeight', weight=0.5) right after GenerateTarget.
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
