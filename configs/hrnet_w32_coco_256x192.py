# HRNet-W32 top-down model, 256x192, on COCO person keypoints (17 points):
# the standard recipe. Evaluation uses person detections (bbox_file), as the
# published COCO numbers do; set val_bbox_file = None for ground-truth boxes.
# Input size, model and schedule are the bases' defaults (docs/training.md):
# train_size=(192, 256), arch='w32', max_epochs=210, batch_size=64, lr=5e-4.
_base_ = ['_base_/default_runtime.py', '_base_/models/hrnet_topdown.py',
          '_base_/pipelines/topdown.py', '_base_/datasets/coco_keypoint.py',
          '_base_/schedules/adam.py']

# ---------------------------------------------------------------- edit these
data_root = 'data/coco/'
train_ann_file = 'annotations/person_keypoints_train2017.json'
val_ann_file = 'annotations/person_keypoints_val2017.json'
train_img_prefix = 'train2017/'
img_prefix = 'val2017/'
val_bbox_file = '${data_root}person_detection_results/COCO_val2017_detections_AP_H_56_person.json'

num_joints = 17
metainfo = dict(preset='coco')  # the built-in COCO definition: names, flip pairs, sigmas
# ----------------------------------------------------------------------------

default_hooks = dict(checkpoint=dict(save_best='coco/AP', rule='greater'))
