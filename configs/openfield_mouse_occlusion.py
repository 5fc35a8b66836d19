# openfield_mouse.py with occlusion augmentation in the training pipeline
# (docs/occlusion.md); data, model, schedule and evaluation are inherited.
#   python benchmarks/bench_occlusion.py --clean configs/openfield_mouse.py \
#       --occluded configs/openfield_mouse_occlusion.py --epochs 30
# Measured (docs/benchmarks.md): with 99 training frames and 30 epochs this
# augmentation HURTS, on clean and on occluded frames alike; it is here for
# longer schedules and larger projects, to be checked with the command above.
_base_ = ['openfield_mouse.py', '_base_/pipelines/occlusion.py']

occluder_scale = (0.15, 0.4)           # occluder size, a share of the crop

# The clean twin's pipeline with `occlusion` right after the crop.
insert_at = [t['type'] for t in _base_.train_pipeline].index('TopdownAffine') + 1
train_pipeline = (_base_.train_pipeline[:insert_at] + _base_.occlusion
                  + _base_.train_pipeline[insert_at:])
