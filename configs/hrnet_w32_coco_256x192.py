# HRNet-W32 top-down model, 256x192, on COCO person keypoints (17 points):
# the standard recipe. Data layout and detections: _base_/datasets/coco_person.py.
# Input size, model and schedule are the bases' defaults (docs/training.md):
# train_size=(192, 256), arch='w32', max_epochs=210, batch_size=64, lr=5e-4.
_base_ = ['_base_/default_runtime.py', '_base_/models/hrnet_topdown.py',
          '_base_/pipelines/topdown.py', '_base_/datasets/coco_person.py',
          '_base_/schedules/adam.py']

default_hooks = dict(checkpoint=dict(save_best='coco/AP', rule='greater'))
