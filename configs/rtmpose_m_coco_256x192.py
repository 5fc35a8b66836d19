# RTMPose-m top-down model, 256x192, on COCO person keypoints (17 points):
# the published recipe (420 epochs, AdamW 4e-3 for a total batch of 1024,
# EMA, the lighter pipeline for the last 30 epochs). Data layout and
# detections: _base_/datasets/coco_person.py.
_base_ = ['_base_/default_runtime.py', '_base_/models/rtmpose.py',
          '_base_/pipelines/rtmpose.py', '_base_/datasets/coco_person.py',
          '_base_/schedules/adamw_cosine.py']

# ---------------------------------------------------------------- edit these
rtmpose_size = 'm'
batch_size = 256                # per GPU; the recipe's lr is for 8 GPUs (--auto-scale-lr)
# ----------------------------------------------------------------------------

custom_hooks = _base_.custom_hooks + [_base_.ema_hook, _base_.pipeline_switch_hook]
default_hooks = dict(checkpoint=dict(save_best='coco/AP', rule='greater'))
