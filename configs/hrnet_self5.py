# HRNet-W32 top-down keypoint model, 256x192, on the self5 dataset: five
# points (head, left hand, right hand, left foot, right foot). Paths and the
# keypoint definition: _base_/datasets/self5.py (override them here).
# Input size, model and schedule are the bases' defaults (docs/training.md):
# train_size=(192, 256), arch='w32', max_epochs=210, batch_size=64, lr=5e-4.
_base_ = ['_base_/default_runtime.py', '_base_/models/hrnet_topdown.py',
          '_base_/pipelines/topdown.py', '_base_/datasets/self5.py',
          '_base_/schedules/adam.py']

default_hooks = dict(checkpoint=dict(save_best='coco/AP', rule='greater'))
