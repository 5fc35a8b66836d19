# hrnet_self5_cpu.py with occlusion augmentation in the training pipeline
# (docs/occlusion.md). Everything else - data, model, schedule, evaluation -
# is inherited, so the two configs compare like for like:
#   python benchmarks/bench_occlusion.py --epochs 20
_base_ = ['hrnet_self5_cpu.py', '_base_/pipelines/occlusion.py']

occluder_scale = (0.2, 0.5)            # occluder size, a share of the crop

# The clean twin's pipeline with `occlusion` right after the crop. To halve
# the loss of the points the augmentation covered, add
# dict(type='OcclusionWeight', weight=0.5) right after GenerateTarget.
insert_at = [t['type'] for t in _base_.train_pipeline].index('TopdownAffine') + 1
train_pipeline = (_base_.train_pipeline[:insert_at] + _base_.occlusion
                  + _base_.train_pipeline[insert_at:])
