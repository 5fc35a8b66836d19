# A template for your own COCO-format keypoint data (docs/training.md): copy
# it, then set the paths, the points and the model size.
_base_ = ['_base_/default_runtime.py', '_base_/models/hrnet_topdown.py',
          '_base_/pipelines/topdown.py', '_base_/datasets/coco_keypoint.py',
          '_base_/schedules/adam.py']

data_root = 'data/my_dataset/'         # the annotation files' folder
train_ann_file = 'annotations/train.json'
val_ann_file = 'annotations/val.json'
img_prefix = 'images/'                 # file_name is relative to data_root + img_prefix

num_joints = 4                         # checked against the annotation file
# The definition (docs/data.md), or a metainfo file: metainfo = 'my_points.py'
metainfo = dict(keypoint_names=['beak', 'left_wing', 'right_wing', 'tail'],
                flip_pairs=[[1, 2]], sigmas=[0.026, 0.079, 0.079, 0.107])
arch = 'w18'                           # HRNet width: tiny, w18, w32, w48
train_size = (192, 256)                # network input (w, h)
max_epochs = 100
default_hooks = dict(checkpoint=dict(save_best='coco/AP'))
