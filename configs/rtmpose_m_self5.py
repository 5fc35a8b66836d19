# RTMPose-m top-down keypoint model, 256x192, on the self5 dataset (data and
# keypoints: configs/_base_/datasets/self5.py). The recipe of
# docs/models.md: AdamW with cosine decay, weight EMA, a lighter pipeline for
# the last `stage2_num_epochs` epochs.
_base_ = ['_base_/default_runtime.py', '_base_/models/rtmpose.py',
          '_base_/pipelines/rtmpose.py', '_base_/datasets/self5.py',
          '_base_/schedules/adamw_cosine.py']

# ---------------------------------------------------------------- edit these
rtmpose_size = 'm'                     # t, s, m, l
train_size = (192, 256)                # network input (w, h), multiples of 32
max_epochs = 210
stage2_num_epochs = 20
batch_size = 64
lr = 1e-3                              # AdamW, for a total batch of 64
warmup_iters = 200                     # about 9 epochs of 23 iterations
warmup_factor = 1e-3
# ----------------------------------------------------------------------------

auto_scale_lr = dict(base_batch_size='${batch_size}')   # lr is set for batch_size
custom_hooks = _base_.custom_hooks + [_base_.ema_hook, _base_.pipeline_switch_hook]
default_hooks = dict(checkpoint=dict(save_best='coco/AP', rule='greater'))
