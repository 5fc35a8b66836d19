# RTMPose-m top-down model, 256x192, on COCO person keypoints (17 points):
# the published recipe (420 epochs, AdamW 4e-3 for a total batch of 1024,
# EMA, the lighter pipeline for the last 30 epochs). Evaluation uses person
# detections (bbox_file), as the published COCO numbers do.
_base_ = ['_base_/default_runtime.py', '_base_/models/rtmpose.py',
          '_base_/pipelines/rtmpose.py', '_base_/datasets/coco_keypoint.py',
          '_base_/schedules/adamw_cosine.py']

# ---------------------------------------------------------------- edit these
data_root = 'data/coco/'
train_ann_file = 'annotations/person_keypoints_train2017.json'
val_ann_file = 'annotations/person_keypoints_val2017.json'
train_img_prefix = 'train2017/'
img_prefix = 'val2017/'
val_bbox_file = '${data_root}person_detection_results/COCO_val2017_detections_AP_H_56_person.json'

num_joints = 17
metainfo = dict(preset='coco')  # the built-in COCO definition: names, flip pairs, sigmas
rtmpose_size = 'm'
batch_size = 256                # per GPU; the recipe's lr is for 8 GPUs (--auto-scale-lr)
# ----------------------------------------------------------------------------

custom_hooks = _base_.custom_hooks + [_base_.ema_hook, _base_.pipeline_switch_hook]
default_hooks = dict(checkpoint=dict(save_best='coco/AP', rule='greater'))
