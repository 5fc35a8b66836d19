# RTMPose-s top-down model, 256x192, on the open-field mouse DeepLabCut
# project (data and keypoints: configs/_base_/datasets/openfield_mouse.py).
_base_ = ['_base_/default_runtime.py', '_base_/models/rtmpose.py',
          '_base_/pipelines/rtmpose.py', '_base_/datasets/openfield_mouse.py',
          '_base_/schedules/adamw_cosine.py']

# ---------------------------------------------------------------- edit these
rtmpose_size = 's'                     # t, s, m, l
max_epochs = 60
stage2_num_epochs = 10
batch_size = 8
lr = 1e-3                              # AdamW, for a total batch of 8
val_interval = 5
# 13 iterations per epoch: a warm-up of about 4 epochs.
warmup_iters = 50
warmup_factor = 1e-3
# ----------------------------------------------------------------------------

auto_scale_lr = dict(base_batch_size='${batch_size}')   # lr is set for batch_size
# 116 frames: decode each PNG once per worker; no half-body crops.
train_pipeline = [dict(type='LoadImage', cache='memory')] + [
    step for step in _base_.train_pipeline[1:] if step['type'] != 'RandomHalfBody']
train_pipeline_stage2 = [dict(type='LoadImage', cache='memory')] + [
    step for step in _base_.train_pipeline_stage2[1:] if step['type'] != 'RandomHalfBody']
custom_hooks = _base_.custom_hooks + [_base_.ema_hook, _base_.pipeline_switch_hook]
default_hooks = dict(checkpoint=dict(save_best='AUC', rule='greater'))   # PCK@0.05 saturates here
